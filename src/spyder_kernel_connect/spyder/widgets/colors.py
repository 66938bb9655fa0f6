"""Text colours for messages, from Spyder's palette, readable on either theme.

Spyder's feedback colours (``COLOR_ERROR_2`` and friends) are tuned for the dark theme;
on the light one they fall to 2:1. Each kind of message starts from the palette's colour
and, if needed, moves along the same hue of Spyder's colour system until it reaches the
WCAG AA contrast for normal text against the dialog's background.
"""

from __future__ import annotations

from qdarkstyle.colorsystem import Gray
from spyder.utils import color_system

AA_CONTRAST = 4.5

# kind -> (palette attribute, hue scale in spyder.utils.color_system)
KINDS = {
    "error": ("COLOR_ERROR_2", color_system.Red),
    "warning": ("COLOR_WARN_2", color_system.Orange),
    "success": ("COLOR_SUCCESS_2", color_system.Green),
    "info": ("COLOR_TEXT_2", Gray),
}


def luminance(color: str) -> float:
    """Relative luminance of ``#RRGGBB`` as WCAG 2 defines it."""
    red, green, blue = (int(color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two ``#RRGGBB`` colours (1 to 21)."""
    dark, light = sorted((luminance(first), luminance(second)))
    return (light + 0.05) / (dark + 0.05)


def _scale(hue: type) -> list[str]:
    """The hue's shades, darkest first (B10 ... B140; B0/B150 are plain black/white)."""
    shades = [getattr(hue, f"B{step}", None) for step in range(10, 150, 10)]
    return [s for s in shades if s and len(s) == 7]


def message_color(kind: str, palette: type) -> str:
    """
    The text colour for a message of ``kind`` on ``palette``'s dialog background.

    Parameters
    ----------
    kind: str
        "error", "warning", "success" or "info".
    palette: type
        A Spyder palette class, e.g. ``spyder.utils.palette.SpyderPalette``.

    Returns
    -------
    str
        ``#RRGGBB``: the palette's own colour when readable, else the nearest shade of
        the same hue that reaches ``AA_CONTRAST`` against ``COLOR_BACKGROUND_1``.
    """
    attribute, hue = KINDS[kind]
    background = palette.COLOR_BACKGROUND_1
    preferred = getattr(palette, attribute)
    if contrast(preferred, background) >= AA_CONTRAST:
        return preferred
    shades = _scale(hue)
    # Darker shades on a light background, lighter ones on a dark background.
    if luminance(background) > 0.5:
        shades.reverse()
    start = shades.index(preferred) if preferred in shades else 0
    for shade in shades[start:]:
        if contrast(shade, background) >= AA_CONTRAST:
            return shade
    return palette.COLOR_TEXT_1


def style(kind: str, palette: type) -> str:
    """A style sheet giving a label the colour of ``kind`` messages."""
    return f"color: {message_color(kind, palette)};"
