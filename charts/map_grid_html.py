"""The stage × touchpoint grid as HTML and CSS: the whole map on one screen, fitted to the width.

The Plotly grid (:mod:`charts.map_grid`) has a fixed width per touchpoint column, so a 21-touchpoint map
is wider than a laptop screen and had to scroll sideways. This module draws the same cells (its data
twin is :func:`charts.map_grid.compute_map_grid`, unchanged) as a CSS grid:

- ``column_px=None`` (fit to width): one label column and one equal column per touchpoint, together as
  wide as the box they are put in, so nothing scrolls sideways; long cell text is clamped to a few
  lines, with the whole text on hover (the ``title``);
- ``column_px=N`` (zoomed): N pixels per touchpoint column; the box scrolls sideways and the row
  names stay in view (a sticky first column).

Stages are column headers with their touchpoints beneath, lanes are rows, and the emotion curve is
drawn beneath in the same columns (an inline SVG, one point per touchpoint column). Severity and
priority are chips with words ("4 high", "3.0 high"), not bare ``[4]`` markers. A measure laid over
the touchpoints gets its own row, coloured on a scale, with a legend: the colour scale from its
lowest to its highest value (in the measure's units, as its labels say), and its targets.

Colours are tints over the page's own background and text colour, so the grid follows the light and
dark themes without being told which one is showing. Every user text is HTML-escaped. No Streamlit.
"""

from __future__ import annotations

import base64
import html
import re

import pandas as pd
from plotly.colors import sample_colorscale

from analytics.numbers import is_missing
from charts.labels import format_value
from charts.map_grid import (
    SEVERITY_WORDS,
    _cell_text,
    _columns,
    compute_emotion_curve,
    compute_map_grid,
    priority_band,
)
from charts.palette import PERSONA_COLOURS, PRIORITY_COLOURS, SEVERITY_COLOURS, STATUS_COLOURS, text_on
from core.journey_map import MapView, PlacedItem, TouchpointView

ZOOM_COLUMN_PX: dict[str, int | None] = {"Fit to width": None, "Medium": 120, "Large": 170, "Extra large": 230}
HTML_CURVE_PX = 150

# Tints laid over the page background (work on light and dark alike).
_FILLS = {
    "touchpoint": "rgba(70,110,200,.16)",
    "owner": "rgba(128,128,128,.08)",
    "goal": "rgba(201,138,0,.12)",
    "lane": "rgba(128,128,128,.04)",
    "pain": "rgba(214,39,40,.13)",
    "opportunity": "rgba(44,160,44,.13)",
    "action": "rgba(100,110,220,.13)",
}
_EMOTION_TINTS = {
    -2: "rgba(214,39,40,.30)",
    -1: "rgba(214,39,40,.15)",
    0: "rgba(128,128,128,.08)",
    1: "rgba(44,160,44,.15)",
    2: "rgba(44,160,44,.30)",
}

GRID_STYLE = """
.jl-grid-box{overflow-x:auto;max-width:100%;padding-bottom:4px}
.jl-grid{display:grid;gap:2px;font-size:11px;line-height:1.3;color:inherit;
  font-family:inherit;align-items:stretch}
.jl-grid.jl-fit{width:100%;gap:2px 1px}
.jl-grid.jl-fit .jl-cell{padding:2px 3px}
.jl-grid.jl-fit .jl-tp,.jl-grid.jl-fit .jl-muted{font-size:10px}
.jl-grid.jl-fit .jl-measure{font-size:10px;padding:2px 1px}
.jl-grid .jl-cell{border:1px solid rgba(128,128,128,.30);border-radius:4px;padding:3px 4px;min-width:0;
  overflow-wrap:anywhere;word-break:normal;hyphens:auto;-webkit-hyphens:auto;background:rgba(128,128,128,.04);overflow:hidden}
.jl-grid .jl-clamp{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:var(--lines,5);
  overflow:hidden;white-space:pre-line}
.jl-grid .jl-row-head{position:sticky;left:0;z-index:2;font-weight:600;background:var(--jl-bg,Canvas);
  border:none;border-right:2px solid rgba(128,128,128,.35);border-radius:0;padding:3px 6px 3px 0;
  display:flex;align-items:center}
.jl-grid .jl-stage{background:#1f3b73;color:#ffffff;font-weight:700;font-size:12px;text-align:center}
.jl-grid .jl-stage small{display:block;font-weight:400;opacity:.9}
.jl-grid .jl-tp{font-weight:600;text-align:center}
.jl-grid .jl-tp small{display:block;font-weight:400;opacity:.75}
.jl-grid .jl-mot{border:2px solid #c98a00}
.jl-grid .jl-muted{opacity:.72}
.jl-grid .jl-inherited{font-style:italic;opacity:.72}
.jl-grid .jl-stage-start{margin-left:5px}
.jl-grid .jl-measure{font-weight:700;text-align:center;display:flex;align-items:center;justify-content:center}
.jl-grid ul{list-style:none;margin:0;padding:0;font-size:inherit}
.jl-grid li{margin:0 0 3px 0;padding:0;font-size:inherit;line-height:inherit}
.jl-grid a.jl-edit{color:inherit;text-decoration:none}
.jl-grid a.jl-edit:hover{text-decoration:underline}
.jl-grid .jl-stage a.jl-edit{color:#ffffff;opacity:.85;font-size:10px}
.jl-chip{display:inline-block;border-radius:8px;padding:0 4px;font-size:10px;font-weight:700;
  margin-right:3px;max-width:100%;overflow-wrap:normal;word-break:keep-all;white-space:normal}
.jl-grid.jl-fit .jl-chip{font-size:9px;padding:0 3px}
.jl-grid.jl-fit .jl-chip-word{display:none}
.jl-grid.jl-fit ul{font-size:10px}
.jl-curve{grid-column:2 / -1}
.jl-curve .jl-curve-img{width:100%;height:%CURVE%px;display:block}
.jl-legend{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:center;font-size:12px;margin:.4rem 0}
.jl-legend .jl-scale{display:inline-block;width:180px;height:12px;border-radius:3px;vertical-align:middle;
  border:1px solid rgba(128,128,128,.4)}
.jl-legend .jl-swatch{display:inline-block;width:14px;height:4px;vertical-align:middle;margin-right:4px}
""".replace("%CURVE%", str(HTML_CURVE_PX))


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def severity_chip(severity: int) -> str:
    """The chip on a pain point: ``4 high`` (severity 1–5 and its word; wraps between them, not in a word)."""
    return f"{int(severity)} {SEVERITY_WORDS.get(int(severity), '?')}"


_VOWELS = set("aeiouyAEIOUY")
_WORD_SPLIT = re.compile(r"([^\W\d_]+)")  # runs of letters (any script) and what lies between them
_DIGRAPHS = {"ch", "sh", "th", "ph", "ck", "wh", "gh", "qu"}


def soft_hyphens(word: str, *, shortest: int = 7) -> str:
    """``word`` HTML-escaped with soft hyphens (``&shy;``) at likely syllable breaks, so a narrow column
    breaks "Testimonials" as "Testi-monials" rather than after any letter. A rough English rule: between
    two consonants standing between vowels (sup-port), else before a lone consonant between vowels
    (pro-duct); never leaving fewer than 3 letters on a side or splitting ch, sh, th, ph, ck, wh, gh, qu."""
    if len(word) < shortest or not word.isalpha():
        return _e(word)
    cuts: list[int] = []
    for i in range(3, len(word) - 2):
        a, b, c = word[i - 1], word[i], word[i + 1] if i + 1 < len(word) else ""
        if a in _VOWELS or b in _VOWELS:
            if a in _VOWELS and b not in _VOWELS and c in _VOWELS:
                cuts.append(i)  # V|CV
            continue
        if (a + b).lower() in _DIGRAPHS:
            continue
        if word[i - 2] in _VOWELS and c in _VOWELS:
            cuts.append(i)  # VC|CV
    pieces, last = [], 0
    for cut in cuts:
        if cut - last >= 2:
            pieces.append(word[last:cut])
            last = cut
    pieces.append(word[last:])
    return "&shy;".join(_e(p) for p in pieces)


def _hyphenated(text: str) -> str:
    """Every word of ``text`` with its soft hyphens (spaces and line breaks kept), HTML-escaped: a narrow
    column breaks a long word at a syllable with a hyphen, not after any letter."""
    return "".join(soft_hyphens(w) if w.isalpha() else _e(w) for w in _WORD_SPLIT.split(str(text)))


def _chip(text: str, fill: str) -> str:
    """A chip of ``text`` ("4 high"): its number, then its word, which a grid fitted to the width leaves to the
    hover (a column there is too narrow for "medium": the chip was cut to "mediu")."""
    number, _, word = text.partition(" ")
    rest = f'<span class="jl-chip-word"> {_e(word)}</span>' if word else ""
    return (
        f'<span class="jl-chip" title="{_e(text)}" style="background:{fill};color:{text_on(fill)}">'
        f"{_e(number)}{rest}</span>"
    )


def _edit_link(href_base: str | None, target: str, body: str, label: str) -> str:
    """``body`` as a link that opens the editor of ``target`` (``touchpoint:12``, ``pain:3``, ``add-pain:2``)
    when the grid is drawn with ``edit_href``; else ``body`` unchanged."""
    if href_base is None:
        return body
    href = f"{href_base}{'&' if '?' in href_base else '?'}edit={target}"
    return f'<a class="jl-edit" href="{_e(href)}" target="_self" title="{_e(label)}">{body}</a>'


def _items_html(view: MapView, kind: str, cell: dict, edit_href: str | None = None) -> str:
    """Pain points, opportunities and actions of a cell as a list with chips (most important first)."""
    stage_id, tp_id = cell["stage_id"], cell["touchpoint_id"]
    tp_id = None if is_missing(tp_id) else int(tp_id)
    stage = next(s for s in view.stages if s.id == stage_id)
    first_tp = stage.touchpoints[0].id if stage.touchpoints else None

    def here(item: PlacedItem) -> bool:
        if item.touchpoint_id is not None:
            return item.touchpoint_id == tp_id
        return item.stage_id == stage_id and (tp_id is None or tp_id == first_tp)

    rows: list[str] = []
    if kind == "pain":
        for p in sorted((p for p in view.pain_points if here(p)), key=lambda p: (-p.severity, p.id)):
            chip = _chip(severity_chip(p.severity), SEVERITY_COLOURS.get(max(1, min(5, int(p.severity))), "#888888"))
            text = _edit_link(edit_href, f"pain:{int(p.id)}", _hyphenated(p.description), "Edit this pain point")
            rows.append(f"<li>{chip}{text}</li>")
    elif kind == "opportunity":
        for o in sorted((o for o in view.opportunities if here(o)), key=lambda o: (-o.priority, o.id)):
            band = priority_band(o.priority)
            chip = _chip(f"{o.priority:.1f} {band}", PRIORITY_COLOURS[band])
            text = _edit_link(
                edit_href, f"opportunity:{int(o.id)}", _hyphenated(o.description), "Edit this opportunity"
            )
            rows.append(f"<li>{chip}{text}</li>")
    else:
        items = sorted(
            (a for a in view.actions if a.stage_id is not None and here(a)), key=lambda a: (a.status == "done", a.id)
        )
        for a in items:
            text = _edit_link(edit_href, f"action:{int(a.id)}", _hyphenated(a.action), "Edit this action")
            rows.append(f"<li>{'✓ done: ' if a.status == 'done' else '• '}{text}</li>")
    return "<ul>" + "".join(rows) + "</ul>" if rows else ""


def _measure_scale(grid: pd.DataFrame) -> tuple[float, float]:
    values = grid.loc[grid["row_kind"] == "measure", "value"].dropna().astype(float)
    lo = float(values.min()) if not values.empty else 0.0
    hi = float(values.max()) if not values.empty else 1.0
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


def overlay_legend_html(
    overlay: pd.DataFrame | None, *, name: str, colorscale: str = "Viridis", grid: pd.DataFrame | None = None
) -> str:
    """The legend of a measure laid over the grid: its name, the colour scale from the lowest to the
    highest value (written as the overlay's labels write them, so with their units) and the targets."""
    if overlay is None or overlay.empty or overlay["value"].dropna().empty:
        return (
            f'<div class="jl-legend" data-testid="jl-legend"><b>{_e(name)}</b><span>no data for any touchpoint'
            "</span></div>"
        )
    valued = overlay.dropna(subset=["value"]).sort_values("value")
    low, high = valued.iloc[0], valued.iloc[-1]
    stops = sample_colorscale(colorscale, [i / 8 for i in range(9)])
    gradient = ", ".join(stops)
    parts = [
        f"<b>{_e(name)}</b>",
        f"<span>{_e(low['label'])} <span class='jl-scale' style='background:linear-gradient(90deg, {gradient})'>"
        f"</span> {_e(high['label'])}</span>",
    ]
    if "target" in overlay.columns and overlay["target"].notna().any():
        targets = sorted({format_value(t) for t in overlay["target"].dropna()})
        shown = ", ".join(targets[:3]) + (" …" if len(targets) > 3 else "")
        parts.append(f"<span>target {_e(shown)}: border</span>")
        parts.extend(
            f"<span><span class='jl-swatch' style='background:{colour};height:10px'></span>{_e(word)}</span>"
            for word, colour in (
                ("meets it", STATUS_COLOURS["green"]),
                ("within 10 %", STATUS_COLOURS["amber"]),
                ("misses it", STATUS_COLOURS["red"]),
            )
        )
    else:
        parts.append("<span class='jl-muted'>no target set</span>")
    if grid is not None:
        cells = grid[(grid["row_kind"] == "measure") & grid["touchpoint_id"].notna()]
        missing = int(cells["value"].isna().sum())
    else:
        missing = int(overlay["value"].isna().sum())
    if missing:
        noun = "touchpoint" if missing == 1 else "touchpoints"
        parts.append(f"<span class='jl-muted'>{missing} {noun} without data (“no data”)</span>")
    return '<div class="jl-legend" data-testid="jl-legend">' + "".join(parts) + "</div>"


def _curve_svg(view: MapView, n_cols: int, text_colour: str) -> str:
    """The emotion curve in the touchpoint columns: x in column units (0..n), y the score (−2..+2)."""
    curve = compute_emotion_curve(view)
    if curve.empty:
        return (
            '<div class="jl-cell jl-muted">No emotion scores yet: fill the feeling lane (−2..+2) to draw the '
            "curve.</div>"
        )
    cols = _columns(view)
    index = {round(c.centre, 6): i for i, c in enumerate(cols)}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 -2.6 {n_cols} 5.2" preserveAspectRatio="none">']
    for y in (-2, -1, 1, 2):
        parts.append(
            f'<line x1="0" x2="{n_cols}" y1="{-y}" y2="{-y}" stroke="rgba(128,128,128,.25)" stroke-width="1" '
            'vector-effect="non-scaling-stroke"/>'
        )
    parts.append(
        f'<line x1="0" x2="{n_cols}" y1="0" y2="0" stroke="rgba(128,128,128,.7)" stroke-width="1" '
        'stroke-dasharray="4 3" vector-effect="non-scaling-stroke"/>'
    )
    legend: list[str] = []
    palette = iter(PERSONA_COLOURS * 4)
    for (pid, pname), points in curve.groupby(["persona_id", "persona"], dropna=False, sort=False):
        colour = text_colour if pd.isna(pid) else next(palette)
        xy = [(index[round(float(x), 6)] + 0.5, -float(e)) for x, e in zip(points["x"], points["emotion"], strict=True)]
        width = 3 if pd.isna(pid) else 2
        path = " ".join(f"{x:.3f},{y:.3f}" for x, y in xy)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{width}" '
            'vector-effect="non-scaling-stroke" stroke-linejoin="round"/>'
        )
        for px, py in xy:
            # A zero-length line with round caps draws a dot that stays round when the SVG is stretched.
            parts.append(
                f'<line x1="{px:.3f}" y1="{py:.3f}" x2="{px:.3f}" y2="{py:.3f}" stroke="{colour}" stroke-width="8" '
                'stroke-linecap="round" vector-effect="non-scaling-stroke"/>'
            )
        legend.append(f"<span><span class='jl-swatch' style='background:{colour}'></span>{_e(pname)}</span>")
    parts.append("</svg>")
    # An <img> of the SVG: the page's HTML sanitiser drops inline <svg>, and an image is drawn the same
    # in the report. Stretched to the columns' width, the lines and dots keep their size (non-scaling).
    data = base64.b64encode("".join(parts).encode("utf-8")).decode("ascii")
    alt = "Emotion curve: " + "; ".join(
        f"{name}: " + ", ".join(f"{int(e):+d}" for e in pts["emotion"])
        for (_pid, name), pts in curve.groupby(["persona_id", "persona"], dropna=False, sort=False)
    )
    return (
        f'<img class="jl-curve-img" src="data:image/svg+xml;base64,{data}" alt="{_e(alt)}" title="{_e(alt)}">'
        '<div class="jl-legend">Emotion curve (−2..+2): ' + "".join(legend) + "</div>"
    )


def map_grid_html(
    view: MapView,
    overlay: pd.DataFrame | None = None,
    *,
    persona_id: int | None = None,
    overlay_name: str | None = None,
    overlay_colorscale: str = "Viridis",
    column_px: int | None = None,
    label_px: int = 96,
    background: str = "#ffffff",
    text_colour: str = "#1c2333",
    edit_href: str | None = None,
) -> str:
    """The whole grid as one HTML fragment (a ``<style>`` and a ``div``); see the module docstring.

    ``column_px=None`` fits the grid to the width of its box; a number gives each touchpoint column that
    many pixels (zoomed in: the box scrolls sideways, the row names stay). ``background`` is the colour
    behind the sticky row names (the page's background), ``text_colour`` the page's text colour (the
    emotion curve for everyone is drawn in it). With ``edit_href`` (the page's own address with its query),
    touchpoint names, pain points, opportunities, actions and thinking/doing/feeling cells link to
    ``edit_href&edit=...`` (targets in ``components.grid_edit``), and each stage header offers "+ touchpoint",
    "+ pain point", "+ opportunity" and "+ action": the page opens its editor.
    """
    name = overlay_name or (overlay.attrs.get("name") if overlay is not None else None) or "Measure"
    grid = compute_map_grid(view, overlay, persona_id=persona_id, overlay_name=name)
    cols = _columns(view)
    n_cols = max(1, len(cols))
    start_of = {round(c.x0, 6): i for i, c in enumerate(cols)}
    end_of = {round(c.x1, 6): i + 1 for i, c in enumerate(cols)}
    stage_starts = {i for i, c in enumerate(cols) if i == 0 or cols[i - 1].stage.id != c.stage.id}
    lo, hi = _measure_scale(grid)

    if column_px is None:
        template = f"minmax(64px,{label_px}px) repeat({n_cols}, minmax(0,1fr))"
        classes = "jl-grid jl-fit"
    else:
        template = f"{label_px}px repeat({n_cols}, {int(column_px)}px)"
        classes = "jl-grid jl-zoom"
    out = [
        f"<style>{GRID_STYLE}</style>",
        '<div class="jl-grid-box" data-testid="jl-grid-box">',
        f'<div class="{classes}" data-testid="jl-grid" lang="en" style="grid-template-columns:{template};'
        f'--jl-bg:{_e(background)}">',
    ]
    lines = 3 if column_px is None else 8
    for row_index, (row_name, cells) in enumerate(grid.groupby("row", sort=False), start=1):
        kind = str(cells["row_kind"].iloc[0])
        out.append(f'<div class="jl-row-head" style="grid-row:{row_index};grid-column:1">{_e(row_name)}</div>')
        for cell in cells.to_dict("records"):
            first = start_of[round(cell["x0"], 6)]
            last = end_of[round(cell["x1"], 6)]
            style = [f"grid-row:{row_index}", f"grid-column:{first + 2} / {last + 2}"]
            css = ["jl-cell"]
            if first in stage_starts and first:
                css.append("jl-stage-start")
            title = _cell_text(cell)
            body = _hyphenated(title)
            if kind == "stage":
                css.append("jl-stage")
                head, _, rest = str(cell["text"]).partition("\n")
                body = _hyphenated(head) + (f"<small>{_hyphenated(rest)}</small>" if rest else "")
                if edit_href is not None:
                    sid = int(cell["stage_id"])
                    adds = " · ".join(
                        _edit_link(edit_href, f"add-{what}:{sid}", f"+ {label}", f"Add {article} {label}")
                        for what, label, article in (
                            ("touchpoint", "touchpoint", "a"),
                            ("pain", "pain point", "a"),
                            ("opportunity", "opportunity", "an"),
                            ("action", "action", "an"),
                        )
                    )
                    body += '<small class="jl-add">' + adds + "</small>"
            elif kind == "touchpoint":
                css.append("jl-tp")
                tp = _touchpoint(view, cell["touchpoint_id"])
                if tp is not None:
                    tp_name = f'<span class="jl-tp-name">{_hyphenated(tp.name)}</span>'
                    body = ("★ " if tp.moment_of_truth else "") + _edit_link(
                        edit_href, f"touchpoint:{int(tp.id)}", tp_name, "Edit this touchpoint"
                    )
                    body += f"<small>{_e(tp.channel)}</small>" if tp.channel else ""
                    if tp.moment_of_truth:
                        css.append("jl-mot")
                        title += " (moment of truth)"
                style.append(f"background:{_FILLS['touchpoint']}")
            elif kind == "owner":
                css += ["jl-muted", "jl-clamp"]
                style += [f"background:{_FILLS['owner']}", f"--lines:{lines}"]
            elif kind.startswith("stage_goal"):
                css.append("jl-clamp")
                style += [f"background:{_FILLS['goal']}", f"--lines:{lines}"]
            elif kind == "measure":
                css.append("jl-measure")
                value = cell["value"]
                if not is_missing(value):
                    frac = (float(value) - lo) / (hi - lo)
                    fill = sample_colorscale(overlay_colorscale, [min(1.0, max(0.0, frac))])[0]
                    style += [f"background:{fill}", f"color:{text_on(fill)}"]
                else:
                    css.append("jl-muted")
                if cell["status"] in STATUS_COLOURS:
                    style.append(f"border:3px solid {STATUS_COLOURS[cell['status']]}")
                if not is_missing(cell["target"]):
                    title += f" (target {format_value(cell['target'])})"
            elif kind in ("pain", "opportunity", "action"):
                listed = _items_html(view, kind, cell, edit_href)
                if listed:
                    body = listed
                    style.append(f"background:{_FILLS[kind]}")
                    if kind == "pain" and not is_missing(cell["severity"]):
                        sev = max(1, min(5, int(cell["severity"])))
                        style.append(f"border:2px solid {SEVERITY_COLOURS[sev]}")
                css.append("jl-clamp")
                style.append(f"--lines:{lines * 2}")
            elif kind.startswith("lane:"):
                css.append("jl-clamp")
                style.append(f"--lines:{lines + 1}")
                emotion = cell["emotion"]
                if kind == "lane:feeling" and not is_missing(emotion):
                    style.append(f"background:{_EMOTION_TINTS.get(int(emotion), _FILLS['lane'])}")
                lane = kind.split(":", 1)[1]
                if edit_href is not None and lane in ("thinking", "doing", "feeling"):
                    # An inherited cell shows (and so edits) the whole stage's cell.
                    tp_id = 0 if cell["inherited"] or is_missing(cell["touchpoint_id"]) else int(cell["touchpoint_id"])
                    target = f"lane:{lane}:{int(cell['stage_id'])}:{tp_id}:{int(persona_id or 0)}"
                    shown = _hyphenated(title) if title else '<span class="jl-muted">＋</span>'
                    body = _edit_link(edit_href, target, shown, f"Edit {lane} here")
            if cell["inherited"]:
                css.append("jl-inherited")
                title += " (from the whole stage)"
            where = str(cell["stage"]) + (f" › {cell['touchpoint']}" if cell["touchpoint"] else "")
            tp_attr = "" if is_missing(cell["touchpoint_id"]) else f' data-touchpoint="{int(cell["touchpoint_id"])}"'
            out.append(
                f'<div class="{" ".join(css)}" data-kind="{_e(kind)}"{tp_attr} style="{";".join(style)}" '
                f'title="{_e(f"{row_name} · {where}: {title}" if title else f"{row_name} · {where}")}">{body}</div>'
            )
    curve_row = grid["row"].nunique() + 1
    out.append(
        f'<div class="jl-row-head" style="grid-row:{curve_row};grid-column:1">Emotion<br>+2 … −2</div>'
        f'<div class="jl-curve" style="grid-row:{curve_row}">{_curve_svg(view, n_cols, text_colour)}</div>'
    )
    out.append("</div></div>")
    out.append(
        '<div class="jl-legend jl-muted">★ moment of truth (gold border) · ↻ a stage buyers revisit · italic: from '
        "the whole stage · chips: pain point severity (1 minor … 5 severe), opportunity priority (high 3+, medium 1.5+, low) · hover a "
        "cell for its full text</div>"
    )
    if overlay is not None:
        out.insert(1, overlay_legend_html(overlay, name=name, colorscale=overlay_colorscale, grid=grid))
    return "".join(out)


def _touchpoint(view: MapView, tp_id: float | None) -> TouchpointView | None:
    if tp_id is None or is_missing(tp_id):
        return None
    return next((t for t in view.touchpoints if t.id == int(tp_id)), None)


def grid_page_html(view: MapView, overlay: pd.DataFrame | None = None, *, overlay_name: str | None = None) -> str:
    """A standalone HTML page with the whole grid fitted to the window (opens offline, nothing fetched)."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(view.name)} · journey map</title></head>"
        "<body style=\"font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2430;background:#ffffff;"
        f'margin:1rem"><h1 style="font-size:1.3rem">{_e(view.name)}</h1>'
        + map_grid_html(view, overlay, overlay_name=overlay_name, background="#ffffff")
        + "</body></html>"
    )
