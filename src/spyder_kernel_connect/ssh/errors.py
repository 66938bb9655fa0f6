"""Errors of the SSH tunnel engine: one type per thing a user can get wrong."""

from __future__ import annotations

from spyder_kernel_connect.errors import KernelConnectError


class SSHError(KernelConnectError):
    """Any SSH failure; ``host`` is the ``user@host:port`` concerned, if known."""

    def __init__(
        self, message: str, hint: str = "", host: str | None = None, gui_hint: str | None = None
    ) -> None:
        self.host = host
        super().__init__(message, hint, gui_hint)


class HostNotFound(SSHError):
    """The host name does not resolve (DNS)."""


class ConnectionRefused(SSHError):
    """Nothing listens on the SSH port."""


class HostUnreachable(SSHError):
    """The network path to the host failed (no route, network down, reset)."""


class ConnectTimeout(SSHError):
    """No answer (TCP, SSH banner, key exchange or authentication) within the timeout."""


class Cancelled(SSHError):
    """The caller cancelled the connection attempt."""


class SSHProtocolError(SSHError):
    """The peer is not an SSH server we can talk to (no banner, no common algorithm)."""


class AuthenticationFailed(SSHError):
    """The server refused every credential we had."""


class KeyFileError(AuthenticationFailed):
    """A private key file is missing, unreadable or not a key."""


class KeyPassphraseRequired(KeyFileError):
    """The key file is encrypted and no passphrase was given."""


class KeyPassphraseWrong(KeyFileError):
    """The passphrase does not decrypt the key file."""


class HostKeyRejected(SSHError):
    """The host key is unknown and was not accepted."""


class HostKeyChanged(SSHError):
    """The host key differs from the one in known_hosts: possible man-in-the-middle attack."""


class HostKeyRevoked(HostKeyChanged):
    """The host key is marked @revoked in known_hosts: refused, like ``ssh`` does."""


class KnownHostsError(SSHError):
    """A known_hosts file cannot be used (a directory, a FIFO, binary data, too large)."""


class KernelUnreachable(SSHError):
    """The SSH host cannot reach the kernel's ports (kernel dead, wrong ip or port)."""


class TunnelUnsupported(SSHError):
    """The connection file cannot be tunneled (ipc transport)."""


class SessionNotConnected(SSHError):
    """The SSH connection is down or closed (reconnecting, or closed by the caller)."""


class CommandNotStarted(SSHError):
    """A command could not start on the host: its channel did not open (the connection
    dropped meanwhile), so it did not run and running it again cannot run it twice."""


class RemoteCommandError(SSHError):
    """A command run on the SSH host for this plugin failed."""


class RemotePythonMissing(RemoteCommandError):
    """The remote interpreter does not exist on the SSH host."""


class RemoteSpyderKernelsMissing(RemoteCommandError):
    """The remote interpreter lacks spyder-kernels, so it cannot start a kernel."""


class RemoteKernelStartFailed(RemoteCommandError):
    """A kernel started on the SSH host exited or did not answer in time."""


class AuthenticationCancelled(Cancelled):
    """The user cancelled a login prompt (a one-time code, a password)."""


class InteractiveLoginRequired(AuthenticationFailed):
    """The server asks questions (2FA, PAM) and nobody is there to answer them."""


class ProxyCommandFailed(SSHError):
    """The ProxyCommand could not be started or exited before the SSH login completed."""
