"""What a console tab shows about its tunnel, from the tunnel engine's state events."""

from __future__ import annotations

from typing import Any

from spyder.api.translations import _


def tab_suffix(event: Any) -> str:
    """ " (reconnecting...)" while the tunnel is down, "" once it is up again."""
    state = getattr(event, "state", event)
    name = str(getattr(state, "name", state)).upper()
    if name in ("RECONNECTING", "DISCONNECTED", "CONNECTING"):
        return " " + _("(reconnecting...)")
    if name in ("FAILED", "LOST"):
        return " " + _("(tunnel lost)")
    return ""


def tunnel_matches(tunnel: Any, event: Any) -> bool:
    """Whether ``event`` concerns the SSH connection that carries ``tunnel``."""
    for attribute in ("key", "label", "host"):
        mine = getattr(tunnel, attribute, None)
        theirs = getattr(event, attribute, None)
        if mine is not None and theirs is not None:
            return mine == theirs
    return getattr(event, "tunnel", None) is tunnel
