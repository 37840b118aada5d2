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
