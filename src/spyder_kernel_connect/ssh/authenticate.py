"""Authentication on a negotiated Transport: each credential in turn, one error if none works.

paramiko's auth_* calls skip the "none" probe OpenSSH makes: one round trip fewer.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import paramiko

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.dial import Deadline
from spyder_kernel_connect.ssh.keys import DEFAULT_KEY_FILES, load_key, try_load_key
from spyder_kernel_connect.ssh.target import ResolvedTarget


def authenticate(
    transport: paramiko.Transport, resolved: ResolvedTarget, deadline: Deadline
) -> None:
    """Try the key file, ~/.ssh/config keys, the agent, default keys, then the password."""
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
        key = try_load_key(path, target.passphrase)
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
            key = try_load_key(os.path.expanduser(path), target.passphrase)
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
