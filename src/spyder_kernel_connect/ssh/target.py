"""Where to connect and with which credentials, resolved through ``~/.ssh/config``."""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass, field, replace

import paramiko

from spyder_kernel_connect.ssh.errors import SSHError

DEFAULT_PORT = 22
DEFAULT_SSH_CONFIG = "~/.ssh/config"
# [user@]host[:port], host may be [v6addr]
_TARGET_RE = re.compile(
    r"^(?:(?P<user>[^@\s]+)@)?(?P<host>\[[^\]]+\]|[^:@\s\[\]]+)(?::(?P<port>\d+))?$"
)


@dataclass
class SSHTarget:
    """What the user typed, plus credentials. Secrets are kept only in memory (for reconnects)."""

    host: str
    user: str | None = None
    port: int | None = None
    identity_file: str | None = None
    password: str | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)
    known_hosts: str | None = None
    use_agent: bool = True
    look_for_keys: bool = True
    ssh_config: str | None = None
    connect_timeout: float = 10.0
    # Jump hosts "a,b" (like ssh -J), overriding the config's ProxyJump/ProxyCommand;
    # None: take them from the SSH config; "none": connect directly.
    jump: str | None = None
    # For a jump host: the hosts (as written) whose connections go through it, nearest first.
    behind: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def parse(cls, text: str, **kwargs) -> SSHTarget:
        """``[user@]host[:port]`` plus any field as keyword (an explicit keyword wins)."""
        match = _TARGET_RE.match(text.strip())
        if not match:
            raise SSHError(
                f"{text!r} is not a valid SSH target.", "Write it as [user@]host[:port]."
            )
        port = int(match["port"]) if match["port"] else None
        if port is not None and not 0 < port < 65536:
            raise SSHError(f"Port {port} in {text!r} is out of range.", "Use 1 to 65535.")
        host = match["host"].strip("[]")
        values = {"host": host, "user": match["user"], "port": port}
        values.update({k: v for k, v in kwargs.items() if v is not None or k not in values})
        return cls(**values)

    def resolve(self) -> ResolvedTarget:
        """Apply the SSH config (alias, HostName, User, Port, IdentityFile, ProxyJump,
        ProxyCommand)."""
        options = _lookup_config(self.ssh_config, self.host)
        hostname = options.get("hostname", self.host)
        user = self.user or options.get("user") or getpass.getuser()
        port = self.port or _config_port(options.get("port"), self.host) or DEFAULT_PORT
        identity_files = [os.path.expanduser(p) for p in options.get("identityfile", [])]
        if self.jump is not None:  # given by the user (-J): wins over the config, as in ssh
            proxy_jump, proxy_command = self.jump, None
        else:
            proxy_jump, proxy_command = options.get("proxyjump"), options.get("proxycommand")
        proxy_jump = None if _is_none(proxy_jump) else proxy_jump
        proxy_command = None if _is_none(proxy_command) or proxy_jump else proxy_command
        return ResolvedTarget(
            target=self,
            hostname=hostname,
            port=port,
            user=user,
            config_identity_files=identity_files,
            proxy_jump=proxy_jump,
            proxy_command=proxy_command,
        )

    def for_hop(self, text: str, jump: str | None = None) -> SSHTarget:
        """A jump host ``[user@]host[:port]`` on the way to this target.

        It keeps known_hosts, the SSH config, agent/default-key use and the timeout. It
        never takes the target's password, nor its key file (``-i``) and passphrase: as
        with OpenSSH, whose ``-J`` runs ``ssh -W`` for the jump host with ``-l``, ``-p``,
        ``-J`` and ``-F`` but not ``-i``, a jump host logs in with its own config entry's
        IdentityFile, the agent or the default keys, and the target's key is never
        offered to another machine.
        """
        hop = SSHTarget.parse(text)
        return replace(
            self,
            host=hop.host,
            user=hop.user,
            port=hop.port,
            password=None,
            identity_file=None,
            passphrase=None,
            jump=jump,
            behind=(self.host, *self.behind),
        )


@dataclass(frozen=True)
class ResolvedTarget:
    target: SSHTarget
    hostname: str
    port: int
    user: str
    config_identity_files: list[str]
    proxy_jump: str | None
    proxy_command: str | None = None  # raw, tokens (%h %p %r) not yet expanded

    @property
    def key(self) -> tuple[str, str, int]:
        """One SSH connection per (user, host, port)."""
        return (self.user, self.hostname, self.port)

    @property
    def label(self) -> str:
        return f"{self.user}@{self.hostname}:{self.port}"


def _lookup_config(path: str | None, host: str) -> dict:
    path = os.path.expanduser(path or DEFAULT_SSH_CONFIG)
    if not os.path.isfile(path):
        return {}
    try:
        config = _SSHConfig.from_path(path)
        return dict(config.lookup(host))
    except Exception as err:  # paramiko raises assorted errors on bad lines
        raise SSHError(
            f"Cannot use SSH config file {path}: {err}.", "Fix the file or pass another one."
        ) from None


class _SSHConfig(paramiko.SSHConfig):
    """paramiko expands %p and %r of ProxyCommand from the config alone; we expand them
    (hops.py) with the port and user actually used, which the command line may override."""

    def _allowed_tokens(self, key: str) -> list[str]:
        return [] if key == "proxycommand" else super()._allowed_tokens(key)


def _is_none(value: str | None) -> bool:
    return not value or value.strip().lower() == "none"


def _config_port(value: str | None, host: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise SSHError(
            f"Port {value!r} for {host} in the SSH config is not a number.", "Fix ~/.ssh/config."
        ) from None
