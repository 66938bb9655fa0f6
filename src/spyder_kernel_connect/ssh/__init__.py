"""Qt-free SSH tunnel engine: one paramiko connection per host carrying every kernel's forwards.

Typical use (from a worker thread)::

    manager = TunnelManager(host_key_decider=ask_user, on_state=show_state)
    tunnel = manager.open_tunnel(SSHTarget.parse("me@lab:2222", identity_file="~/.ssh/id"),
                                 "kernel-1234.json")
    # connect any Jupyter client to tunnel.local_connection_file
    tunnel.close()          # or manager.close_all()
"""

from spyder_kernel_connect.logs import quiet_library_logging
from spyder_kernel_connect.ssh.errors import (
    AuthenticationCancelled,
    AuthenticationFailed,
    Cancelled,
    ConnectionRefused,
    ConnectTimeout,
    HostKeyChanged,
    HostKeyRejected,
    HostNotFound,
    HostUnreachable,
    InteractiveLoginRequired,
    KernelUnreachable,
    KeyFileError,
    KeyPassphraseRequired,
    KeyPassphraseWrong,
    ProxyCommandFailed,
    SessionNotConnected,
    SSHError,
    SSHProtocolError,
    TunnelUnsupported,
)
from spyder_kernel_connect.ssh.forward import Forward
from spyder_kernel_connect.ssh.hostkeys import (
    HostKeyDecision,
    HostKeyInfo,
    fingerprint,
    known_hosts_name,
    save_host_key,
)
from spyder_kernel_connect.ssh.kernel_tunnel import KernelTunnel
from spyder_kernel_connect.ssh.latency import LatencyOptions
from spyder_kernel_connect.ssh.manager import TunnelManager
from spyder_kernel_connect.ssh.prompts import LoginPrompt, LoginRequest, PromptHandler
from spyder_kernel_connect.ssh.session import SSHSession, StateEvent, TunnelState
from spyder_kernel_connect.ssh.target import ResolvedTarget, SSHTarget

__all__ = [
    "AuthenticationCancelled",
    "AuthenticationFailed",
    "Cancelled",
    "ConnectTimeout",
    "ConnectionRefused",
    "Forward",
    "HostKeyChanged",
    "HostKeyDecision",
    "HostKeyInfo",
    "HostKeyRejected",
    "HostNotFound",
    "HostUnreachable",
    "InteractiveLoginRequired",
    "KernelTunnel",
    "KernelUnreachable",
    "KeyFileError",
    "KeyPassphraseRequired",
    "KeyPassphraseWrong",
    "LatencyOptions",
    "LoginPrompt",
    "LoginRequest",
    "PromptHandler",
    "ProxyCommandFailed",
    "ResolvedTarget",
    "SSHError",
    "SSHProtocolError",
    "SSHSession",
    "SSHTarget",
    "SessionNotConnected",
    "StateEvent",
    "TunnelManager",
    "TunnelState",
    "TunnelUnsupported",
    "fingerprint",
    "known_hosts_name",
    "save_host_key",
]

# paramiko's thread logs handled failures with tracebacks; never on the user's stderr.
quiet_library_logging()
