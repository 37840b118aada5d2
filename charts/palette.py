"""Colours shared by the analytics charts: readable on light and dark backgrounds alike."""

from __future__ import annotations

from dataclasses import dataclass

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


# ── statuses: one colour per status, the same in both themes ─────────────────────────────────────
# A metric against its target: met, within 10 %, missed (the map grid's cell borders, the metric
# trend's markers, the portfolio heat map). Contrast as a mark (WCAG 1.4.11 asks 3:1) on the light
# and dark page: green 3.4 / 5.3, amber 2.1 / 8.8, red 5.0 / 3.6.
STATUS_COLOURS: dict[str, str] = {"green": "#2ca02c", "amber": "#ff9f1c", "red": "#d62728"}
NO_STATUS = "#9e9e9e"  # no target, or no value yet
# A pain point's severity, 1 (minor) to 5 (severe), and an opportunity's priority band: chips and
# borders of the map grid; chip text is chosen for contrast against each. Severities 3 to 5 as a mark
# on the light and dark page: 3.1 / 5.9, 4.4 / 4.1, 6.7 / 2.7.
SEVERITY_COLOURS: dict[int, str] = {1: "#f6c85f", 2: "#f39c4a", 3: "#ea6f3c", 4: "#d9432f", 5: "#b51d1d"}
PRIORITY_COLOURS: dict[str, str] = {"high": "#1e7b3a", "medium": "#3f8f5a", "low": "#6b7a70"}
# One colour per persona on the map grid's emotion curve.
PERSONA_COLOURS = ("#1f77b4", "#e4572e", "#29a329", "#9467bd", "#d4a017", "#17becf", "#e377c2", "#8c564b")
# Feeling cells are tinted by their score: red for negative through green for positive.
EMOTION_FILLS_LIGHT = {-2: "#f8c9c3", -1: "#fde3df", 0: "#f4f5f7", 1: "#dff2e3", 2: "#bfe6c8"}
EMOTION_FILLS_DARK = {-2: "#5a2420", -1: "#3c2220", 0: "#1b1f27", 1: "#1d3526", 2: "#22502f"}


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
# ``edge`` is the colour of a graph's links on that page.
PAGE_LIGHT = {"background": "#ffffff", "text": "#2f2d2b", "edge": "#8A8F98"}
PAGE_DARK = {"background": "#171614", "text": "#edebe8", "edge": NEUTRAL}


def page_colours(dark: bool) -> dict[str, str]:
    return PAGE_DARK if dark else PAGE_LIGHT


@dataclass(frozen=True)
class GridTheme:
    """The colours of the journey-map grid (the figure and its HTML twin) in one theme."""

    background: str
    text: str
    muted: str
    border: str
    stage_fill: str
    stage_text: str
    touchpoint_fill: str
    owner_fill: str
    goal_fill: str
    lane_fill: str
    pain_fill: str
    opportunity_fill: str
    action_fill: str
    star: str
    zero_line: str
    everyone_line: str


GRID_LIGHT = GridTheme(
    background="#ffffff",
    text="#1c2333",
    muted="#5b6475",
    border="#cfd6e3",
    stage_fill="#1f3b73",
    stage_text="#ffffff",
    touchpoint_fill="#e6edf9",
    owner_fill="#f3f5f9",
    goal_fill="#f7f3e8",
    lane_fill="#ffffff",
    pain_fill="#fde8e4",
    opportunity_fill="#e6f5ea",
    action_fill="#eef0fb",
    star="#c98a00",
    zero_line="#9aa3b5",
    everyone_line="#1c2333",
)
GRID_DARK = GridTheme(
    background=PAGE_DARK["background"],
    text=PAGE_DARK["text"],
    muted="#a3abbd",
    border="#343c4f",
    stage_fill="#3d5fae",
    stage_text="#ffffff",
    touchpoint_fill="#1c2638",
    owner_fill="#201f1c",
    goal_fill="#231f16",
    lane_fill="#1d1c1a",
    pain_fill="#3a1d1a",
    opportunity_fill="#15301f",
    action_fill="#1c1f38",
    star="#ffc53d",
    zero_line="#5b6475",
    everyone_line=PAGE_DARK["text"],
)


def rgb(colour: str) -> tuple[float, float, float]:
    """The red, green and blue (0–255) of ``#RRGGBB`` or ``rgb(a)(r, g, b[, a])`` (alpha ignored)."""
    if colour.startswith("rgb"):
        r, g, b = (float(v) for v in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])
        return r, g, b
    h = colour.lstrip("#")
    return float(int(h[0:2], 16)), float(int(h[2:4], 16)), float(int(h[4:6], 16))


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#RRGGBB`` or ``rgb(a)(r, g, b[, a])`` (alpha ignored)."""
    r, g, b = rgb(colour)

    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def text_on(fill: str) -> str:
    """Black or white text, whichever contrasts more with ``fill``."""
    lum = relative_luminance(fill)
    # Contrast with black is (lum + .05) / .05; with white 1.05 / (lum + .05): pick the larger.
    return "#111111" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21 (body text needs at least 4.5)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
