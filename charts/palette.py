"""Colours shared by the analytics charts: readable on light and dark backgrounds alike."""

from __future__ import annotations

# Mid-tone categorical colours (Tableau 10, slightly muted): legible under dark and light text.
CATEGORICAL: tuple[str, ...] = (
    "#4E79A7",
    "#F28E2B",
    "#59A14F",
    "#B07AA1",
    "#76B7B2",
    "#EDC948",
    "#FF9DA7",
    "#9C755F",
    "#E15759",
    "#8CD17D",
    "#499894",
    "#D37295",
)
NEUTRAL = "#9AA0A6"  # "Other", "End"
NEGATIVE = "#D64545"  # drop-off, backward links
POSITIVE = "#2E9E5B"  # converted
FORWARD = "#4E79A7"  # forward links


def colour_map(names: list[str]) -> dict[str, str]:
    """A stable colour per name: names sorted, colours assigned in order (cycling)."""
    return {name: CATEGORICAL[i % len(CATEGORICAL)] for i, name in enumerate(sorted(set(names)))}


def with_alpha(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` → ``rgba(r, g, b, alpha)``."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


# The page colours of Streamlit's light and dark themes (1.67: measured in the browser, the warm dark
# theme is #171614 with #edebe8 text): figures that draw their own text (Sankey labels, the map grid)
# take both from here, so the text keeps a WCAG contrast of at least 4.5:1 and no figure sits in a box
# of another colour.
PAGE_LIGHT = {"background": "#ffffff", "text": "#2f2d2b"}
PAGE_DARK = {"background": "#171614", "text": "#edebe8"}


def page_colours(dark: bool) -> dict[str, str]:
    return PAGE_DARK if dark else PAGE_LIGHT


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#RRGGBB`` or ``rgb(a)(r, g, b[, a])`` (alpha ignored)."""
    if colour.startswith("rgb"):
        r, g, b = (float(v) for v in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])
    else:
        h = colour.lstrip("#")
        r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))

    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21 (body text needs at least 4.5)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
