"""How the TCP stream to a host is made: directly, through jump hosts, or a ProxyCommand.

``ProxyJump a,b,c`` (``-J``) follows ``ssh -J``: the target is reached through a channel
of the session to ``c``, which is reached through ``b`` and so on; each hop is an SSH
target of its own, resolved through the SSH config (its own user, port, keys, host key
check and login prompts), and is one shared session in the manager, so a bastion is
logged into once however many hosts sit behind it. The first hop of a list may have its
own ``ProxyJump`` in the config (nested aliases); later ones take the list's order, as
with OpenSSH.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.proxycommand import ProxyCommandSocket, expand_proxy_command
from spyder_kernel_connect.ssh.target import ResolvedTarget, SSHTarget

# Deeper than any real site; stops a ProxyJump loop in the config (a → b → a …).
MAX_HOPS = 16


def split_jumps(text: str) -> list[str]:
    """``a,b,c`` → ``["a", "b", "c"]``, in the order the connection goes through them."""
    return [hop.strip() for hop in text.split(",") if hop.strip()]


def jump_target(resolved: ResolvedTarget) -> tuple[str, SSHTarget]:
    """The last jump host before ``resolved`` and its target (the rest of the list as its jump)."""
    hops = split_jumps(resolved.proxy_jump or "")
    if not hops:
        raise errors.SSHError(
            f"ProxyJump of {resolved.label} is empty.", "Write it as host1,host2 (like ssh -J)."
        )
    last, earlier = hops[-1], hops[:-1]
    route = (resolved.target.host, *resolved.target.behind)
    if last in route or len(route) > MAX_HOPS:
        raise errors.SSHError(
            f"The jump hosts of {resolved.target.host} loop or go on for more than "
            f"{MAX_HOPS} hops ({' -> '.join((last, *route))}).",
            "Check ProxyJump in your SSH config: a host must not jump through itself.",
            host=resolved.label,
        )
    # None: the first hop uses its own config entry's ProxyJump (nested aliases);
    # later hops go through the ones before them in the list, as ssh -J does.
    return last, resolved.target.for_hop(last, jump=",".join(earlier) if earlier else None)


class SocketFactory:
    """Makes the byte stream of one connection attempt; remembers a ProxyCommand to explain it."""

    def __init__(self, resolved: ResolvedTarget, make: Callable) -> None:
        self.resolved = resolved
        self._make = make
        self.proxy: ProxyCommandSocket | None = None

    def __call__(self, deadline) -> object:
        stream = self._make(deadline)
        if isinstance(stream, ProxyCommandSocket):
            self.proxy = stream
        return stream

    @contextlib.contextmanager
    def explained(self) -> Iterator[None]:
        """A failure while the ProxyCommand had already died is reported as its failure."""
        try:
            yield
        except errors.SSHError as err:
            failure = self.proxy.failure() if self.proxy is not None else None
            if failure is not None and not isinstance(err, errors.Cancelled):
                raise failure from None
            raise


def socket_factory(
    resolved: ResolvedTarget, jump_session: Callable[[SSHTarget], object]
) -> SocketFactory | None:
    """None for a direct TCP connection; else the factory of this attempt's stream.

    ``jump_session(target)`` returns the manager's shared, connected session for a hop.
    """
    if resolved.proxy_jump:
        name, target = jump_target(resolved)
        try:
            jump = jump_session(target)
        except errors.SSHError as err:
            raise _as_hop_error(err, name) from None
        return SocketFactory(resolved, lambda deadline: _channel(jump, name, resolved, deadline))
    if resolved.proxy_command:
        command = expand_proxy_command(
            resolved.proxy_command,
            resolved.hostname,
            resolved.port,
            resolved.user,
            resolved.target.host,
        )
        return SocketFactory(resolved, lambda deadline: ProxyCommandSocket(command, resolved.label))
    return None


def _channel(jump, name: str, resolved: ResolvedTarget, deadline) -> object:
    try:
        return jump.transport.open_channel(
            "direct-tcpip",
            (resolved.hostname, resolved.port),
            ("127.0.0.1", 0),
            timeout=max(deadline.remaining(), 0.1),
        )
    except errors.SSHError as err:
        raise _as_hop_error(err, name) from None
    except Exception as err:
        raise errors.HostUnreachable(
            f"Jump host {name} ({jump.label}) cannot reach {resolved.hostname}:"
            f"{resolved.port}: {err}.",
            "Check ProxyJump and the target's HostName and Port.",
            host=resolved.label,
        ) from None


def _as_hop_error(err: errors.SSHError, name: str) -> errors.SSHError:
    """Same error type, message prefixed with the hop it happened on (only the first time)."""
    if getattr(err, "jump_host", None) is None:
        err.jump_host = name
        err.message = f"Jump host {name}: {err.message}"
        err.args = (str(err),)
    return err
