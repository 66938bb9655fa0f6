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


def tunnel_matches(tunnel: Any, event: Any) -> bool:
    """Whether ``event`` concerns the SSH connection that carries ``tunnel``."""
    return getattr(tunnel.session, "key", None) == event.key
