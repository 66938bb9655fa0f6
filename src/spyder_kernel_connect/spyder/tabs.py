"""What a console tab shows about its tunnel, from the tunnel engine's state events."""

from __future__ import annotations

from spyder.api.translations import _

from spyder_kernel_connect.connection import kernel_id_from_path
from spyder_kernel_connect.service import Connection
from spyder_kernel_connect.ssh import KernelTunnel, StateEvent, TunnelState


def tab_suffix(event: StateEvent) -> str:
    """' (reconnecting...)' while the SSH connection is re-established, '' once it is up."""
    if event.state is TunnelState.RECONNECTING:
        return " " + _("(reconnecting...)")
    if event.state is TunnelState.DOWN:
        return " " + _("(connection lost)")
    return ""


def tab_label(connection: Connection) -> str:
    """The host and the kernel's (short) ID, e.g. "ada@lab 7b2e41c9".

    Two consoles on the same host must not look alike; Spyder appends its own "1/A".
    """
    path = connection.tunnel.remote_info.path if connection.tunnel is not None else None
    kernel_id = kernel_id_from_path(path) if path else ""
    return f"{connection.label} {kernel_id[:8]}".strip()


def tunnel_matches(tunnel: KernelTunnel, event: StateEvent) -> bool:
    """Whether ``event`` concerns the SSH connection that carries ``tunnel``."""
    return tunnel.session.key == event.key
