"""The stage × touchpoint grid of a journey map, with the emotion curve beneath and an optional measure overlay.

Input is a map view (``core.journey_map.MapView``, the typed read model; charts do not import
services). :func:`compute_map_grid` is the data twin: one row per drawn cell. The figure draws
stages as columns, their touchpoints under them, lanes as rows (owner and RACI, goals, thinking,
doing, feeling, pain points, opportunities, actions), moment-of-truth marks (★) and, beneath, the
emotion curve with one line per persona (:func:`compute_emotion_curve`).

Which text a lane cell shows (``persona_id`` selects whose view):
- a touchpoint's own cell for that lane; else the stage-level cell of its stage, marked as inherited
  (a stage-level cell applies to every touchpoint of the stage that has none of its own); a stage
  where no touchpoint has its own cell shows its stage-level cell once, across the stage;
- ``persona_id=None`` shows the cells for everyone (no persona) and, where a column has none, the
  personas' cells prefixed with the persona's name; a persona id shows that persona's cells, falling
  back to the cells for everyone.

The overlay (a measure laid over the touchpoints, supplied by the metrics pages) is a DataFrame with
columns ``touchpoint_id, value, label`` and optionally ``target`` and ``status`` (red / amber /
green). It is drawn as a heat-map row right under the touchpoints, with a colour bar titled with the
measure's name (``overlay_name``, else ``overlay.attrs["name"]``). Touchpoints missing from the
overlay show as "no data".
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from analytics.map_tables import emotion_at
from analytics.numbers import format_signed, is_missing
from charts.palette import (
    EMOTION_FILLS_DARK,
    EMOTION_FILLS_LIGHT,
    GRID_DARK,
    GRID_LIGHT,
    PERSONA_COLOURS,
    SEVERITY_COLOURS,
    STATUS_COLOURS,
    GridTheme,
    rgb,
)
from core.journey_map import MapView, PlacedItem, StageView, TouchpointView

# Pixel geometry: fixed per column so text fits and the PNG export is sharp at any map size.
COLUMN_PX = 150
LABEL_PX = 130
ROW_UNIT_PX = 56
CURVE_PX = 230
STAGE_GAP = 0.12
CHARS_PER_LINE = 22
LINE_UNITS = 0.27  # one 11 px text line, in row units
ROW_PADDING_UNITS = 0.3
MAX_ROW_UNITS = 4.6
SEVERITY_WORDS = {1: "minor", 2: "low", 3: "medium", 4: "high", 5: "severe"}
EMOTION_WORDS = {-2: "very negative", -1: "negative", 0: "neutral", 1: "positive", 2: "very positive"}

GRID_COLUMNS = [
    "row",
    "row_kind",
    "row_top",
    "row_height",
    "stage_id",
    "stage",
    "touchpoint_id",
    "touchpoint",
    "x0",
    "x1",
    "text",
    "inherited",
    "moment_of_truth",
    "emotion",
    "severity",
    "count",
    "value",
    "label",
    "target",
    "status",
]
CURVE_COLUMNS = ["persona_id", "persona", "stage_id", "stage", "touchpoint_id", "touchpoint", "x", "emotion", "source"]


# Rows, top to bottom: (label, kind, height in row units).
LANE_LABELS = {
    "thinking": "Thinking",
    "doing": "Doing",
    "feeling": "Feeling",
    "customer goal": "Customer goal",
    "your goal": "Your goal",
}


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class _Column:
    x0: float
    x1: float
    stage: StageView
    touchpoint: TouchpointView | None

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


def _columns(view: MapView) -> list[_Column]:
    """One column per touchpoint (a stage without touchpoints gets one empty column); gaps between stages."""
    cols: list[_Column] = []
    x = 0.0
    for stage in view.stages:
        tps: list[TouchpointView | None] = [*stage.touchpoints] or [None]
        for tp in tps:
            cols.append(_Column(x, x + 1.0, stage, tp))
            x += 1.0
        x += STAGE_GAP
    return cols


def _stage_span(cols: list[_Column], stage_id: int) -> tuple[float, float]:
    xs = [c for c in cols if c.stage.id == stage_id]
    return xs[0].x0, xs[-1].x1


# --------------------------------------------------------------------------- the data twin


def _lane_text(view: MapView, lane: str, stage_id: int, tp_id: int | None, persona_id: int | None) -> str:
    """Text of one lane at one place for the chosen persona view (rules in the module docstring)."""
    names: dict[int | None, str] = {p.id: p.name for p in view.personas}
    cells = [c for c in view.lane_cells if c.lane == lane and c.stage_id == stage_id and c.touchpoint_id == tp_id]
    if persona_id is not None:
        own = [c for c in cells if c.persona_id == persona_id and c.text]
        if own:
            return own[0].text
    shared = [c for c in cells if c.persona_id is None and c.text]
    if shared:
        return shared[0].text
    if persona_id is None:
        return "\n".join(f"{names.get(c.persona_id, '?')}: {c.text}" for c in cells if c.text)
    return ""


def _lane_emotion(view: MapView, stage_id: int, tp_id: int | None, persona_id: int | None) -> int | None:
    for pid in (persona_id, None) if persona_id is not None else (None,):
        for c in view.lane_cells:
            key = (c.lane, c.stage_id, c.touchpoint_id, c.persona_id)
            if key == ("feeling", stage_id, tp_id, pid) and c.emotion is not None:
                return int(c.emotion)
    return None


def _rows(view: MapView, overlay: pd.DataFrame | None, overlay_name: str) -> list[tuple[str, str, float]]:
    rows: list[tuple[str, str, float]] = [("Stage", "stage", 0.75), ("Touchpoint", "touchpoint", 1.0)]
    rows.append(("Owner · RACI", "owner", 0.85))
    if overlay is not None:
        rows.append((overlay_name, "measure", 0.8))
    if any(s.customer_goal for s in view.stages):
        rows.append(("Customer goal", "stage_goal:customer_goal", 1.0))
    if any(s.business_goal for s in view.stages):
        rows.append(("Your goal", "stage_goal:business_goal", 1.0))
    for lane in view.lanes:
        if lane in ("customer goal", "your goal") and not any(c.lane == lane for c in view.lane_cells):
            continue
        rows.append(
            (LANE_LABELS.get(lane, lane.capitalize()) + (" (lane)" if "goal" in lane else ""), f"lane:{lane}", 1.3)
        )
    rows.append(("Pain points", "pain", 1.3))
    rows.append(("Opportunities", "opportunity", 1.3))
    rows.append(("Actions", "action", 1.0))
    return rows


def compute_map_grid(
    view: MapView,
    overlay: pd.DataFrame | None = None,
    *,
    persona_id: int | None = None,
    overlay_name: str | None = None,
) -> pd.DataFrame:
    """Every cell of the grid as a row: which row and column it sits in, its full text and its numbers.

    Columns: ``row, row_kind, row_top, row_height, stage_id, stage, touchpoint_id, touchpoint, x0, x1,
    text, inherited, moment_of_truth, emotion, severity, count, value, label, target, status``.
    ``touchpoint_id`` is empty for cells that span a whole stage. Pain points show the most severe
    first (severity 1–5, ties by order of entry); opportunities the highest priority first; actions
    the open ones first.
    """
    name = overlay_name or (overlay.attrs.get("name") if overlay is not None else None) or "Measure"
    cols = _columns(view)
    out: list[dict[str, Any]] = []
    top = 0.0
    measures = _overlay_by_touchpoint(overlay)
    for label, kind, height in _rows(view, overlay, name):
        base = {"row": label, "row_kind": kind, "row_top": top, "row_height": height}
        row_cells: list[dict[str, Any]] = []
        if kind == "stage":
            for stage in view.stages:
                x0, x1 = _stage_span(cols, stage.id)
                text = stage.name + (" ↻" if stage.revisitable else "")
                if stage.outcomes:
                    text += "\n→ " + " / ".join(stage.outcomes)
                row_cells.append(_cell(base, stage, None, x0, x1, text))
        elif kind.startswith("stage_goal:"):
            attr = kind.split(":", 1)[1]
            for stage in view.stages:
                x0, x1 = _stage_span(cols, stage.id)
                row_cells.append(_cell(base, stage, None, x0, x1, getattr(stage, attr)))
        elif kind.startswith("lane:"):
            lane = kind.split(":", 1)[1]
            for stage in view.stages:
                row_cells.extend(_lane_cells(view, base, cols, stage, lane, persona_id))
        else:
            for c in cols:
                row_cells.append(_column_cell(view, base, kind, c, measures))
        if kind != "measure":
            # Rows grow with their longest cell (up to MAX_ROW_UNITS), so text is cut only when very long.
            needed = max((_line_count(_cell_text(rc), rc["x1"] - rc["x0"]) for rc in row_cells), default=1)
            height = max(height, min(MAX_ROW_UNITS, ROW_PADDING_UNITS + LINE_UNITS * needed))
            for rc in row_cells:
                rc["row_height"] = height
        out.extend(row_cells)
        top += height
    frame = pd.DataFrame(out, columns=GRID_COLUMNS)
    for column in ("stage_id", "touchpoint_id", "emotion", "severity", "count"):
        frame[column] = frame[column].astype("Int64")
    for column in ("value",):
        frame[column] = frame[column].astype("Float64")
    return frame


def _cell(
    base: dict, stage: StageView, tp: TouchpointView | None, x0: float, x1: float, text: str, **extra: Any
) -> dict[str, Any]:
    return {
        **base,
        "stage_id": stage.id,
        "stage": stage.name,
        "touchpoint_id": tp.id if tp is not None else None,
        "touchpoint": tp.name if tp is not None else "",
        "x0": x0,
        "x1": x1,
        "text": text or "",
        "inherited": False,
        "moment_of_truth": bool(tp.moment_of_truth) if tp is not None else False,
        "emotion": None,
        "severity": None,
        "count": None,
        "value": None,
        "label": None,
        "target": None,
        "status": None,
        **extra,
    }


def _lane_cells(
    view: MapView, base: dict, cols: list[_Column], stage: StageView, lane: str, persona_id: int | None
) -> list[dict]:
    stage_cols = [c for c in cols if c.stage.id == stage.id]
    stage_text = _lane_text(view, lane, stage.id, None, persona_id)
    stage_emotion = _lane_emotion(view, stage.id, None, persona_id) if lane == "feeling" else None
    own = {
        c.touchpoint.id: (
            _lane_text(view, lane, stage.id, c.touchpoint.id, persona_id),
            _lane_emotion(view, stage.id, c.touchpoint.id, persona_id) if lane == "feeling" else None,
        )
        for c in stage_cols
        if c.touchpoint is not None
    }
    if not any(text or emotion is not None for text, emotion in own.values()):
        x0, x1 = stage_cols[0].x0, stage_cols[-1].x1
        return [_cell(base, stage, None, x0, x1, stage_text, emotion=stage_emotion)]
    cells = []
    for c in stage_cols:
        text, emotion = own.get(c.touchpoint.id, ("", None)) if c.touchpoint is not None else ("", None)
        inherited = not text and emotion is None and bool(stage_text or stage_emotion is not None)
        if inherited:
            text, emotion = stage_text, stage_emotion
        cells.append(_cell(base, stage, c.touchpoint, c.x0, c.x1, text, emotion=emotion, inherited=inherited))
    return cells


def _column_cell(view: MapView, base: dict, kind: str, c: _Column, measures: dict[int, dict]) -> dict[str, Any]:
    tp = c.touchpoint
    tp_id = tp.id if tp is not None else None

    def here(item: PlacedItem) -> bool:
        # Items on a whole stage sit in the stage's first column; items on a touchpoint in its own.
        if item.touchpoint_id is not None:
            return item.touchpoint_id == tp_id
        return item.stage_id == c.stage.id and (tp is None or tp.id == c.stage.touchpoints[0].id)

    if kind == "touchpoint":
        text = "" if tp is None else ("★ " if tp.moment_of_truth else "") + tp.name
        if tp is not None and tp.channel:
            text += f"\n({tp.channel})"
        return _cell(base, c.stage, tp, c.x0, c.x1, text)
    if kind == "owner":
        text = "" if tp is None else tp.owner_team
        raci = "" if tp is None else _raci_beyond_owner(tp)
        if raci:
            text = (text + "\n" if text else "") + raci
        return _cell(base, c.stage, tp, c.x0, c.x1, text)
    if kind == "measure":
        m = measures.get(tp_id) if tp_id is not None else None
        if m is None:
            return _cell(base, c.stage, tp, c.x0, c.x1, "no data" if tp is not None else "")
        return _cell(
            base, c.stage, tp, c.x0, c.x1, m["label"],
            value=m["value"], label=m["label"], target=m.get("target"), status=m.get("status"),
        )  # fmt: skip
    if kind == "pain":
        pains = sorted((p for p in view.pain_points if here(p)), key=lambda p: (-p.severity, p.id))
        text = "\n".join(
            f"Severity {p.severity} ({SEVERITY_WORDS.get(p.severity, '?')}): {p.description}" for p in pains
        )
        severity = pains[0].severity if pains else None
        return _cell(base, c.stage, tp, c.x0, c.x1, text, severity=severity, count=len(pains))
    if kind == "opportunity":
        opps = sorted((o for o in view.opportunities if here(o)), key=lambda o: (-o.priority, o.id))
        text = "\n".join(f"Priority {o.priority:.1f} ({priority_band(o.priority)}): {o.description}" for o in opps)
        return _cell(base, c.stage, tp, c.x0, c.x1, text, count=len(opps))
    if kind == "action":
        actions = sorted(
            (a for a in view.actions if a.stage_id is not None and here(a)), key=lambda a: (a.status == "done", a.id)
        )
        text = "\n".join(f"{'✓' if a.status == 'done' else '•'} {a.action}" for a in actions)
        return _cell(base, c.stage, tp, c.x0, c.x1, text, count=len(actions))
    raise ValueError(f"unknown grid row kind {kind!r}")


def priority_band(priority: float) -> str:
    """An opportunity's priority score in a word: high (3 or more), medium (1.5 or more), low."""
    return "high" if priority >= 3 else "medium" if priority >= 1.5 else "low"


def _raci_beyond_owner(tp: TouchpointView) -> str:
    """RACI text without "R: <owner team>" when the owner team is the one responsible (the usual case)."""
    parts = [
        (label, value)
        for label, value in (("R", tp.responsible), ("A", tp.accountable), ("C", tp.consulted), ("I", tp.informed))
        if value and not (label == "R" and value == tp.owner_team)
    ]
    return " · ".join(f"{label}: {value}" for label, value in parts)


def _overlay_by_touchpoint(overlay: pd.DataFrame | None) -> dict[int, dict]:
    if overlay is None or overlay.empty:
        return {}
    missing = {"touchpoint_id", "value", "label"} - set(overlay.columns)
    if missing:
        raise ValueError(
            f"overlay needs the columns touchpoint_id, value, label; missing: {', '.join(sorted(missing))}"
        )
    out: dict[int, dict] = {}
    for record in overlay.to_dict("records"):
        if pd.isna(record["touchpoint_id"]):
            continue
        value = record["value"]
        out[int(record["touchpoint_id"])] = {
            "value": None if pd.isna(value) else float(value),
            "label": "" if pd.isna(record["label"]) else str(record["label"]),
            "target": None if pd.isna(record.get("target", float("nan"))) else record.get("target"),
            "status": None if pd.isna(record.get("status", float("nan"))) else str(record.get("status")),
        }
    return out


def compute_emotion_curve(view: MapView) -> pd.DataFrame:
    """The emotion curve: one series for everyone (cells without a persona) and one per persona with scores.

    A point per touchpoint column, by the one rule of everyone's (and a persona's) emotion
    (``analytics.map_tables.emotion_at``): the touchpoint's own feeling score for that series, else its
    stage's feeling score (a stage-level cell), else none (the line bridges the gap). A stage without
    touchpoints gets its stage-level score in its one column. Scores are −2..+2.
    """
    cols = _columns(view)
    series: list[tuple[int | None, str]] = [(None, "Everyone")] + [(p.id, p.name) for p in view.personas]
    rows = []
    for pid, pname in series:
        for c in cols:
            tp_id = c.touchpoint.id if c.touchpoint is not None else None
            emotion = emotion_at(view, c.stage.id, tp_id, pid, stage_too=False) if tp_id is not None else None
            source = "touchpoint"
            if emotion is None:
                emotion = emotion_at(view, c.stage.id, None, pid)
                source = "stage"
            if emotion is None:
                continue
            rows.append(
                {
                    "persona_id": pid,
                    "persona": pname,
                    "stage_id": c.stage.id,
                    "stage": c.stage.name,
                    "touchpoint_id": tp_id,
                    "touchpoint": c.touchpoint.name if c.touchpoint is not None else "",
                    "x": c.centre,
                    "emotion": emotion,
                    "source": source,
                }
            )
    # Ids are whole numbers, empty where none (everyone; a stage without touchpoints): never 4.0 in the CSV.
    return pd.DataFrame(rows, columns=CURVE_COLUMNS).astype({"persona_id": "Int64", "touchpoint_id": "Int64"})


# --------------------------------------------------------------------------- the figure


def _cell_text(cell: dict) -> str:
    """The text drawn in a cell: a feeling cell starts with its score in words."""
    text = cell["text"] or ""
    emotion = cell.get("emotion")
    if str(cell["row_kind"]) == "lane:feeling" and emotion is not None and not is_missing(emotion):
        score = int(emotion)
        text = f"{format_signed(score)} {EMOTION_WORDS.get(score, '')}" + (f"\n{text}" if text else "")
    return text


def _wrapped_lines(text: str, width_units: float) -> list[str]:
    chars = max(8, int(CHARS_PER_LINE * width_units))
    lines: list[str] = []
    for paragraph in (text or "").split("\n"):
        lines.extend(textwrap.wrap(paragraph, chars, break_long_words=True) or [""])
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _line_count(text: str, width_units: float) -> int:
    return len(_wrapped_lines(text, width_units))


def _row_label(text: str) -> str:
    """A row's name in the label column (``LABEL_PX`` wide): bold, on up to two lines of about 18
    characters, so a long measure name ("Attributed conversions (Markov)") is not cut off."""
    lines = textwrap.wrap(text, 18, break_long_words=False) or [""]
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    return "<br>".join(f"<b>{_escape(line)}</b>" for line in lines)


def _wrap(text: str, width_units: float, max_lines: int) -> str:
    """Wrap text into at most ``max_lines`` lines for a cell ``width_units`` columns wide; '…' if cut."""
    chars = max(8, int(CHARS_PER_LINE * width_units))
    lines = _wrapped_lines(text, width_units)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        lines[-1] = (last[: chars - 1] if len(last) >= chars else last) + "…"
    return "<br>".join(_escape(line) for line in lines)


def _escape(text: str) -> str:
    # Plotly renders a subset of HTML in annotations: user text must never become markup.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _luminance(colour: str) -> float:
    r, g, b = rgb(colour)
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def _severity_colour(severity: int, theme: GridTheme) -> str:
    return SEVERITY_COLOURS[max(1, min(5, severity))]


def map_grid_figure(
    view: MapView,
    overlay: pd.DataFrame | None = None,
    *,
    dark: bool = False,
    persona_id: int | None = None,
    overlay_name: str | None = None,
    overlay_colorscale: str = "Viridis",
    title: str | None = None,
) -> go.Figure:
    """The map grid (see the module docstring) as a Plotly figure sized for its content (fixed px per column)."""
    theme = GRID_DARK if dark else GRID_LIGHT
    name = overlay_name or (overlay.attrs.get("name") if overlay is not None else None) or "Measure"
    grid = compute_map_grid(view, overlay, persona_id=persona_id, overlay_name=name)
    curve = compute_emotion_curve(view)
    cols = _columns(view)
    width_units = cols[-1].x1 if cols else 1.0
    grid_units = float((grid["row_top"] + grid["row_height"]).max()) if not grid.empty else 1.0
    grid_px = grid_units * ROW_UNIT_PX
    width_px = int(LABEL_PX + max(width_units, 3) * COLUMN_PX + 140)
    height_px = int(grid_px + CURVE_PX + 110)

    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[grid_px, CURVE_PX],
        vertical_spacing=40 / height_px,
    )
    shapes: list[dict] = []
    annotations: list[dict] = []
    hover_x: list[float] = []
    hover_y: list[float] = []
    hover_text: list[str] = []

    measure_values = grid.loc[grid["row_kind"] == "measure", "value"].dropna().astype(float)
    vmin = float(measure_values.min()) if not measure_values.empty else 0.0
    vmax = float(measure_values.max()) if not measure_values.empty else 1.0
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5

    for cell in grid.to_dict("records"):
        kind = cell["row_kind"]
        y0, y1 = cell["row_top"], cell["row_top"] + cell["row_height"]
        x0, x1 = cell["x0"] + 0.03, cell["x1"] - 0.03
        fill, font_colour, line_colour, line_width = theme.lane_fill, theme.text, theme.border, 1.0
        size, bold = 11, False
        if kind == "stage":
            fill, font_colour, size, bold = theme.stage_fill, theme.stage_text, 12, True
        elif kind == "touchpoint":
            fill, bold = theme.touchpoint_fill, True
            if cell["moment_of_truth"]:
                line_colour, line_width = theme.star, 2.5
        elif kind == "owner":
            fill, font_colour, size = theme.owner_fill, theme.muted, 10
        elif kind.startswith("stage_goal"):
            fill, size = theme.goal_fill, 10
        elif kind == "measure":
            if cell["value"] is not None and not is_missing(cell["value"]):
                frac = (float(cell["value"]) - vmin) / (vmax - vmin)
                fill = sample_colorscale(overlay_colorscale, [min(1.0, max(0.0, frac))])[0]
                font_colour = "#111111" if _luminance(fill) > 0.55 else "#ffffff"
                bold = True
            else:
                font_colour = theme.muted
            if cell["status"] in STATUS_COLOURS:
                line_colour, line_width = STATUS_COLOURS[cell["status"]], 3
        elif kind == "pain" and cell["count"]:
            fill = theme.pain_fill
            line_colour, line_width = _severity_colour(int(cell["severity"]), theme), 2
        elif kind == "opportunity" and cell["count"]:
            fill = theme.opportunity_fill
        elif kind == "action" and cell["count"]:
            fill = theme.action_fill
        if kind == "lane:feeling" and cell["emotion"] is not None and not is_missing(cell["emotion"]):
            fills = EMOTION_FILLS_DARK if dark else EMOTION_FILLS_LIGHT
            fill = fills.get(int(cell["emotion"]), fill)
        if cell["inherited"]:
            font_colour = theme.muted
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": x0,
                "x1": x1,
                "y0": y0 + 0.04,
                "y1": y1 - 0.04,
                "fillcolor": fill,
                "line": {"color": line_colour, "width": line_width},
                "layer": "below",
            }
        )
        span = cell["x1"] - cell["x0"]
        max_lines = max(1, int((cell["row_height"] - ROW_PADDING_UNITS + 0.01) / LINE_UNITS))
        text = _cell_text(cell)
        shown = _wrap(text, span, max_lines)
        if bold and shown:
            shown = f"<b>{shown}</b>"
        if cell["inherited"] and shown:
            shown = f"<i>{shown}</i>"
        if shown:
            annotations.append(
                {
                    "xref": "x",
                    "yref": "y",
                    "x": (x0 + x1) / 2,
                    "y": (y0 + y1) / 2,
                    "text": shown,
                    "showarrow": False,
                    "font": {"size": size, "color": font_colour},
                    "align": "center",
                    "xanchor": "center",
                    "yanchor": "middle",
                }
            )
        if cell["text"] or kind == "measure":
            hover_x.append((x0 + x1) / 2)
            hover_y.append((y0 + y1) / 2)
            hover_text.append(_hover(cell))

    # Invisible points carry the full text of each cell on hover (annotations are cut to fit).
    fig.add_trace(
        go.Scatter(
            x=hover_x,
            y=hover_y,
            mode="markers",
            marker={"size": 30, "opacity": 0},
            hovertext=hover_text,
            hoverinfo="text",
            showlegend=False,
            name="cells",
        ),
        row=1,
        col=1,
    )
    if overlay is not None and not measure_values.empty:
        measure_rows = grid[(grid["row_kind"] == "measure") & grid["value"].notna()]
        fig.add_trace(
            go.Scatter(
                x=((measure_rows["x0"] + measure_rows["x1"]) / 2).tolist(),
                y=(measure_rows["row_top"] + measure_rows["row_height"] / 2).tolist(),
                mode="markers",
                marker={
                    "size": 1,
                    "opacity": 0,
                    "color": measure_rows["value"].astype(float).tolist(),
                    "colorscale": overlay_colorscale,
                    "cmin": vmin,
                    "cmax": vmax,
                    "showscale": True,
                    "colorbar": {
                        "title": {"text": _escape(name), "side": "right"},
                        "len": min(1.0, 320 / max(grid_px, 1)),
                        "y": 1.0,
                        "yanchor": "top",
                        "thickness": 14,
                        "tickfont": {"color": theme.text},
                    },
                },
                hoverinfo="skip",
                showlegend=False,
                name=name,
            ),
            row=1,
            col=1,
        )

    # The emotion curve: a line per series, coloured apart; everyone in the text colour.
    palette = iter(PERSONA_COLOURS * 4)
    for (pid, pname), points in curve.groupby(["persona_id", "persona"], dropna=False, sort=False):
        colour = theme.everyone_line if pd.isna(pid) else next(palette)
        fig.add_trace(
            go.Scatter(
                x=points["x"],
                y=points["emotion"],
                mode="lines+markers",
                name=str(pname),
                line={"color": colour, "width": 3 if pd.isna(pid) else 2, "shape": "linear"},
                marker={"size": 8},
                customdata=points[["stage", "touchpoint", "source"]].to_numpy(),
                hovertemplate="%{fullData.name}<br>%{customdata[0]} › %{customdata[1]}<br>emotion %{y:+d}"
                " (%{customdata[2]})<extra></extra>",
                connectgaps=True,
            ),
            row=2,
            col=1,
        )
    if curve.empty:
        annotations.append(
            {
                "xref": "x2 domain",
                "yref": "y2 domain",
                "x": 0.5,
                "y": 0.5,
                "text": "No emotion scores yet: fill the feeling lane (−2..+2) to draw the curve.",
                "showarrow": False,
                "font": {"color": theme.muted, "size": 12},
            }
        )
    for stage in list(view.stages)[1:]:
        x = _stage_span(cols, stage.id)[0] - STAGE_GAP / 2
        shapes.append(
            {
                "type": "line",
                "xref": "x2",
                "yref": "y2 domain",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "line": {"color": theme.border, "width": 1, "dash": "dot"},
            }
        )

    annotations.append(
        {
            "xref": "paper",
            "yref": "paper",
            "x": 1.0,
            "y": 0.0,
            "yshift": -28,
            "xanchor": "right",
            "yanchor": "top",
            "text": "★ moment of truth (gold border) · ↻ stage buyers revisit · severity 1 minor … 5 severe",
            "showarrow": False,
            "font": {"size": 11, "color": theme.muted},
        }
    )
    rows = grid.drop_duplicates("row")[["row", "row_top", "row_height"]]
    fig.update_yaxes(
        row=1,
        col=1,
        range=[grid_units, 0],
        tickvals=(rows["row_top"] + rows["row_height"] / 2).tolist(),
        ticktext=[_row_label(r) for r in rows["row"]],
        showgrid=False,
        zeroline=False,
        fixedrange=True,
        tickfont={"color": theme.text, "size": 11},
    )
    fig.update_yaxes(
        row=2,
        col=1,
        range=[-2.5, 2.5],
        tickvals=[-2, -1, 0, 1, 2],
        ticktext=["−2", "−1", "0", "+1", "+2"],
        title={"text": "Emotion", "font": {"color": theme.text}},
        showgrid=True,
        gridcolor=theme.border,
        zeroline=True,
        zerolinecolor=theme.zero_line,
        fixedrange=True,
        tickfont={"color": theme.text},
    )
    fig.update_xaxes(
        range=[-0.05, max(width_units, 1) + 0.05],
        showticklabels=False,
        showgrid=False,
        zeroline=False,
        fixedrange=True,
    )
    fig.update_layout(
        shapes=shapes,
        annotations=annotations,
        width=width_px,
        height=height_px,
        margin={"l": LABEL_PX, "r": 120, "t": 60 if title else 20, "b": 30},
        paper_bgcolor=theme.background,
        plot_bgcolor=theme.background,
        font={"color": theme.text, "family": "Inter, 'Segoe UI', 'Noto Sans', Arial, sans-serif"},
        title={"text": _escape(title), "x": 0.01, "font": {"size": 18}} if title else None,
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.01,
            "x": 0,
            "font": {"color": theme.text},
            "bgcolor": "rgba(0,0,0,0)",
            "title": {"text": "Emotion curve: "},
        },
        hoverlabel={"align": "left"},
        dragmode=False,
    )
    return fig


def _hover(cell: dict) -> str:
    where = _escape(cell["stage"]) + (f" › {_escape(cell['touchpoint'])}" if cell["touchpoint"] else " (whole stage)")
    text = "<br>".join(_escape(line) for line in str(cell["text"]).split("\n"))
    head = f"<b>{_escape(cell['row'])}</b> · {where}"
    if cell["row_kind"] == "measure" and cell["target"] is not None and not is_missing(cell["target"]):
        text += f"<br>target: {_escape(str(cell['target']))}"
    if cell["status"]:
        text += f"<br>status: {_escape(str(cell['status']))}"
    if cell["inherited"]:
        text += "<br><i>(from the stage)</i>"
    return f"{head}<br>{text}"


def figure_size(fig: go.Figure) -> tuple[int, int]:
    """(width, height) in pixels, for the toolbar's PNG export settings."""
    return int(fig.layout.width or 1200), int(fig.layout.height or 800)
