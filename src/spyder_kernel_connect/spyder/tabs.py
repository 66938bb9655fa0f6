"""What a console tab shows about its tunnel, from the tunnel engine's state events."""

from __future__ import annotations

from typing import Any

from spyder.api.translations import _


def tab_suffix(event: Any) -> str:
    """' (reconnecting...)' while the SSH connection is re-established, '' once it is up."""
    name = getattr(event.state, "name", str(event.state))
    if name == "RECONNECTING":
        return " " + _("(reconnecting...)")
    if name == "DOWN":
        return " " + _("(connection lost)")
    return ""


def tab_label(host_label: str, tunnel: Any) -> str:
    """The host and the kernel's (short) ID, e.g. "ada@lab 7b2e41c9".

    Two consoles on the same host must not look alike; Spyder appends its own "1/A".
    """
    from spyder_kernel_connect.connection import kernel_id_from_path

    path = getattr(getattr(tunnel, "remote_info", None), "path", None)
    kernel_id = kernel_id_from_path(path) if path else ""
    return f"{host_label} {kernel_id[:8]}".strip()


def tunnel_matches(tunnel: Any, event: Any) -> bool:
    """Whether ``event`` concerns the SSH connection that carries ``tunnel``."""
    return getattr(tunnel.session, "key", None) == event.key
