"""What a console tab shows about its tunnel, from the tunnel engine's state events."""

from __future__ import annotations

from spyder.api.translations import _

from spyder_kernel_connect.ssh import KernelTunnel, StateEvent, TunnelState


def tab_suffix(event: StateEvent) -> str:
    """' (reconnecting...)' while the SSH connection is re-established, '' once it is up."""
    if event.state is TunnelState.RECONNECTING:
        return " " + _("(reconnecting...)")
    if event.state is TunnelState.DOWN:
        return " " + _("(connection lost)")
    return ""


def tunnel_matches(tunnel: KernelTunnel, event: StateEvent) -> bool:
    """Whether ``event`` concerns the SSH connection that carries ``tunnel``."""
    return tunnel.session.key == event.key
