"""Open one authenticated paramiko Transport: TCP, key exchange, host key check, auth.

Every step is bounded by one deadline (the target's connect_timeout) and can be cancelled;
every failure becomes a distinct SSHError. Nothing here ever prompts on a terminal.
"""

from __future__ import annotations

import array
import contextlib
import errno
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable

import paramiko

try:  # POSIX only; TCP_QUICKACK is Linux-only anyway
    import fcntl
    import termios
except ImportError:  # pragma: no cover - Windows
    fcntl = termios = None

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.hostkeys import (
    HostKeyDecider,
    known_hosts_files,
    load_known_keys,
    verify_host_key,
)
from spyder_kernel_connect.ssh.target import ResolvedTarget

DEFAULT_KEY_FILES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
# Big receive window: fewer window-adjust round trips on fast links (paramiko's is 2 MiB).
WINDOW_SIZE = 8 * 1024 * 1024
# GCM does encryption and integrity in one OpenSSL call per packet: measurably faster in
# paramiko than CTR + HMAC. Servers without it fall back to paramiko's default order.
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
_POLL = 0.05
# Latency switches; they exist so benchmarks/bench_tunnel.py can show what each one is worth.
USE_TCP_NODELAY = True
USE_TCP_QUICKACK = True
USE_SERVER_NODELAY = True


class _LowLatencySocket(socket.socket):
    """A TCP socket that acknowledges the end of each burst at once (TCP_QUICKACK).

    sshd leaves Nagle on for sessions without a pty, so when it sends two small packets
    in a row it waits for our ACK of the first; Linux delays that ACK by up to 40 ms.
    Quick-ACK mode (which the kernel drops again on its own) removes that stall. It is
    re-armed only when a read drained the socket: inside a bulk transfer more data is
    queued, normal ACKs flow, and an ACK per read would only cost packets.
    """

    quickack = True

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        if self.quickack and _bytes_queued(self) == 0:
            _set_quickack(self)
        return data


def _bytes_queued(sock: socket.socket) -> int:
    if fcntl is None:
        return 0
    try:
        buffer = array.array("i", [0])
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, buffer)
        return buffer[0]
    except (OSError, ValueError):
        return 0


def _set_quickack(sock: socket.socket) -> None:
    if getattr(sock, "quickack", True) and hasattr(socket, "TCP_QUICKACK"):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


class Deadline:
    def __init__(self, seconds: float, cancel: threading.Event | None, label: str) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.cancel = cancel
        self.label = label

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self, what: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise errors.Cancelled(f"Connection to {self.label} cancelled.", host=self.label)
        if self.remaining() <= 0:
            raise errors.ConnectTimeout(
                f"Timed out after {self.seconds:g} s {what} {self.label}.",
                "Check the host name and port, that the machine is up, and any firewall or VPN.",
                host=self.label,
            )


def open_socket(resolved: ResolvedTarget, deadline: Deadline) -> socket.socket:
    """A connected TCP socket; DNS, refused and timeout failures each get their own error."""
    label = resolved.label
    try:
        infos = _resolve_address(resolved, deadline)
    except socket.gaierror as err:
        raise errors.HostNotFound(
            f"Host {resolved.hostname!r} not found ({err.strerror}).",
            "Check the spelling, your ~/.ssh/config aliases and your network or VPN.",
            host=label,
        ) from None
    last: OSError | None = None
    for family, socktype, proto, _name, address in infos:
        sock = _LowLatencySocket(family, socktype, proto)
        sock.quickack = USE_TCP_QUICKACK
        try:
            _connect_nonblocking(sock, address, deadline)
        except OSError as err:
            sock.close()
            last = err
            continue
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(USE_TCP_NODELAY))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        _set_quickack(sock)
        return sock
    if isinstance(last, ConnectionRefusedError):
        raise errors.ConnectionRefused(
            f"Connection to {resolved.hostname} port {resolved.port} refused: no SSH server "
            "listens there.",
            "Check the port (default 22) and that sshd runs on the host.",
            host=label,
        )
    reason = os.strerror(last.errno) if last and last.errno else str(last)
    raise errors.HostUnreachable(
        f"Cannot reach {resolved.hostname} port {resolved.port}: {reason}.",
        "Check the network, VPN and firewall.",
        host=label,
    )


def _resolve_address(resolved: ResolvedTarget, deadline: Deadline) -> list:
    """getaddrinfo in a helper thread: a dead DNS server must not outlast the deadline.

    getaddrinfo cannot be interrupted; on timeout the helper finishes on its own later.
    """
    result: list = []

    def lookup() -> None:
        try:
            result.append(
                socket.getaddrinfo(
                    resolved.hostname,
                    resolved.port,
                    type=socket.SOCK_STREAM,
                    proto=socket.IPPROTO_TCP,
                )
            )
        except Exception as err:
            result.append(err)

    thread = threading.Thread(target=lookup, name="ssh-dns", daemon=True)
    thread.start()
    while not result:
        deadline.check("looking up the address of")
        thread.join(_POLL)
    if isinstance(result[0], Exception):
        raise result[0]
    return result[0]


def _connect_nonblocking(sock: socket.socket, address, deadline: Deadline) -> None:
    sock.setblocking(False)
    code = sock.connect_ex(address)
    if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
        raise OSError(code, os.strerror(code))
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_WRITE)
        while code != 0:
            deadline.check("connecting to")
            if selector.select(min(_POLL, max(deadline.remaining(), 0))):
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    raise OSError(code, os.strerror(code))
                break
    sock.setblocking(True)


class _CancelWatch:
    """Closes the transport when ``cancel`` fires, which aborts paramiko's blocking auth waits."""

    def __init__(self, cancel: threading.Event | None, transport: paramiko.Transport) -> None:
        self.cancel = cancel
        self.transport = transport
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _CancelWatch:
        if self.cancel is not None:
            self.thread = threading.Thread(target=self._watch, name="ssh-cancel-watch", daemon=True)
            self.thread.start()
        return self

    def _watch(self) -> None:
        while not self.done.wait(_POLL):
            if self.cancel.is_set():
                self.transport.close()
                return

    def __exit__(self, *exc) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()


def open_transport(
    resolved: ResolvedTarget,
    *,
    decider: HostKeyDecider | None,
    accepted_once: dict,
    cancel: threading.Event | None = None,
    sock_factory: Callable[[Deadline], object] | None = None,
    server_nodelay: bool | None = None,
) -> paramiko.Transport:
    """Connect, check the host key, authenticate; the caller owns the returned Transport."""
    target = resolved.target
    deadline = Deadline(target.connect_timeout, cancel, resolved.label)
    sock = sock_factory(deadline) if sock_factory else open_socket(resolved, deadline)
    transport = paramiko.Transport(sock, default_window_size=WINDOW_SIZE)
    ok = False
    try:
        files = known_hosts_files(target.known_hosts)
        _prefer_algorithms(transport, load_known_keys(files, resolved.hostname, resolved.port))
        with _CancelWatch(cancel, transport):
            _negotiate(transport, resolved, deadline)
            verify_host_key(
                transport.get_remote_server_key(),
                resolved.hostname,
                resolved.port,
                files,
                files[-1],
                decider,
                accepted_once,
            )
            deadline.check("waiting for")
            _authenticate(transport, resolved, deadline)
        if USE_SERVER_NODELAY if server_nodelay is None else server_nodelay:
            _ask_server_for_nodelay(transport, deadline)
        ok = True
        return transport
    finally:
        if not ok:
            transport.close()
            if hasattr(sock, "close"):
                sock.close()


def _ask_server_for_nodelay(transport: paramiko.Transport, deadline: Deadline) -> None:
    """Make sshd turn Nagle off on its side of this connection.

    sshd sets TCP_NODELAY on the first exec/shell request of a connection (OpenSSH's
    ssh_packet_set_interactive), never for forwarding-only connections like ``ssh -N``;
    with Nagle on, its second small packet in a row waits for our (delayed) ACK: the
    ~40 ms stall per round trip. One no-op command right after login fixes that for the
    whole connection. Best effort: a server refusing commands just keeps Nagle.
    """
    try:
        chan = transport.open_session(timeout=max(deadline.remaining(), 0.1))
    except (paramiko.SSHException, OSError, EOFError):
        return
    try:
        chan.exec_command("exit 0")
    except (paramiko.SSHException, OSError, EOFError):
        pass
    finally:
        chan.close()


def _prefer_algorithms(transport: paramiko.Transport, known: dict) -> None:
    options = transport.get_security_options()
    ciphers = list(options.ciphers)
    options.ciphers = [c for c in PREFERRED_CIPHERS if c in ciphers] + [
        c for c in ciphers if c not in PREFERRED_CIPHERS
    ]
    # Like OpenSSH: ask for the host key types we already know, so a host with several
    # keys presents the one we can verify instead of looking "unknown".
    if known:
        types = list(options.key_types)
        options.key_types = [t for t in types if t in known] + [t for t in types if t not in known]


def _negotiate(transport: paramiko.Transport, resolved: ResolvedTarget, deadline: Deadline):
    transport.banner_timeout = max(deadline.remaining(), 0.1)
    transport.handshake_timeout = max(deadline.remaining(), 0.1)
    done = threading.Event()
    transport.start_client(event=done, timeout=max(deadline.remaining(), 0.1))
    while not done.wait(_POLL):
        deadline.check("waiting for the SSH handshake of")
    if not transport.is_active():
        deadline.check("waiting for the SSH handshake of")
        err = transport.get_exception()
        text = str(err) if err else "the connection closed"
        if "banner" in text.lower() and deadline.remaining() <= 0.2:
            deadline.check("waiting for the SSH banner of")
        raise errors.SSHProtocolError(
            f"SSH handshake with {resolved.label} failed: {text}.",
            "Check that the port is an SSH server's port.",
            host=resolved.label,
        )


def _authenticate(
    transport: paramiko.Transport, resolved: ResolvedTarget, deadline: Deadline
) -> None:
    target = resolved.target
    user = resolved.user
    tried: list[str] = []
    allowed: list[str] | None = None

    def attempt(description: str, call: Callable[[], object]) -> bool:
        nonlocal allowed
        deadline.check("authenticating to")
        transport.auth_timeout = max(deadline.remaining(), 0.1)
        tried.append(description)
        try:
            call()
        except paramiko.BadAuthenticationType as err:
            allowed = list(err.allowed_types)
            return False
        except paramiko.AuthenticationException as err:
            if not transport.is_active():
                deadline.check("authenticating to")
                if "timeout" in str(err).lower():
                    deadline.check("authenticating to")
                    raise errors.ConnectTimeout(
                        f"Authentication to {resolved.label} timed out.", host=resolved.label
                    ) from None
                raise errors.AuthenticationFailed(
                    f"{resolved.label} closed the connection during authentication ({err}).",
                    "The server may allow only a few attempts; give the right key or password.",
                    host=resolved.label,
                ) from None
            return False
        except paramiko.SSHException as err:
            deadline.check("authenticating to")
            raise errors.SSHProtocolError(
                f"Authentication to {resolved.label} failed: {err}.", host=resolved.label
            ) from None
        return transport.is_authenticated()

    if target.identity_file:
        key = load_key(target.identity_file, target.passphrase, resolved.label)
        if attempt(f"key {target.identity_file}", lambda: transport.auth_publickey(user, key)):
            return
    for path in resolved.config_identity_files:
        key = _try_load_key(path, target.passphrase)
        if key is not None and attempt(
            f"key {path}", lambda key=key: transport.auth_publickey(user, key)
        ):
            return
    if target.use_agent and os.environ.get("SSH_AUTH_SOCK"):
        agent = paramiko.Agent()
        try:
            for key in agent.get_keys():
                if attempt("ssh-agent key", lambda key=key: transport.auth_publickey(user, key)):
                    return
        finally:
            agent.close()
    if target.look_for_keys and not target.identity_file:
        for path in DEFAULT_KEY_FILES:
            key = _try_load_key(os.path.expanduser(path), target.passphrase)
            if key is not None and attempt(
                f"key {path}", lambda key=key: transport.auth_publickey(user, key)
            ):
                return
    if target.password is not None and attempt(
        "password", lambda: transport.auth_password(user, target.password)
    ):
        return
    what = ", ".join(dict.fromkeys(tried)) or "nothing (no key, agent or password available)"
    server = f" The server accepts: {', '.join(allowed)}." if allowed else ""
    raise errors.AuthenticationFailed(
        f"Authentication as {user!r} to {resolved.hostname}:{resolved.port} failed "
        f"(tried: {what}).{server}",
        "Check the user name, the password or the key file and its passphrase.",
        host=resolved.label,
    )


def load_key(path: str, passphrase: str | None, label: str) -> paramiko.PKey:
    """Load an explicitly given key; every problem is a KeyFileError naming the file."""
    path = os.path.expanduser(path)
    try:
        return paramiko.PKey.from_path(path, _encode(passphrase))
    except FileNotFoundError:
        raise errors.KeyFileError(
            f"Key file {path} does not exist.", "Give the path of your private key.", host=label
        ) from None
    except PermissionError:
        raise errors.KeyFileError(
            f"Key file {path} is not readable (permission denied).", host=label
        ) from None
    except IsADirectoryError:
        raise errors.KeyFileError(f"Key file {path} is a directory.", host=label) from None
    except Exception as err:  # paramiko/cryptography raise TypeError/ValueError/SSHException
        if _is_encrypted(path):
            if passphrase is None:
                raise errors.KeyPassphraseRequired(
                    f"Key file {path} is encrypted and no passphrase was given.",
                    "Enter the key's passphrase.",
                    host=label,
                ) from None
            raise errors.KeyPassphraseWrong(
                f"The passphrase does not unlock key file {path}.",
                "Check the passphrase (it is the key's, not the account password).",
                host=label,
            ) from None
        raise errors.KeyFileError(
            f"Cannot load key file {path}: {err}.",
            "Give an OpenSSH or PEM private key (not the .pub file).",
            host=label,
        ) from None


def _try_load_key(path: str, passphrase: str | None) -> paramiko.PKey | None:
    try:
        return paramiko.PKey.from_path(path, _encode(passphrase))
    except Exception:  # default keys that are absent, encrypted or odd are simply skipped
        return None


def _encode(passphrase: str | None) -> bytes | None:
    # paramiko's from_path hands the passphrase straight to cryptography, which wants bytes.
    return passphrase.encode("utf-8") if passphrase is not None else None


def _is_encrypted(path: str) -> bool:
    """cryptography says "needs a password" with a TypeError, paramiko with its own type."""
    try:
        paramiko.PKey.from_path(path, None)
    except (paramiko.PasswordRequiredException, TypeError):
        return True
    except Exception:
        return False
    return False
