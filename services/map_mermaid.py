"""A journey map as Mermaid ``flowchart`` text (export only): stages as subgraphs, touchpoints with their
owner team and everyone's emotion, pain points, personas. Its sibling formats, JSON and CSV, are :mod:`services.map_io`."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from analytics.map_tables import emotion_at
from analytics.numbers import format_signed
from core.journey_map import MapView
from services.map_view import get_map_view

# Characters that would end or change a quoted Mermaid label, written as Mermaid entity codes (``#quot;``,
# ``#35;``): the diagram then shows the title exactly as typed. One pass, so a code's own "#" and ";" stay.
_MERMAID_ENTITIES = str.maketrans({'"': "#quot;", "<": "#lt;", ">": "#gt;"} | {c: f"#{ord(c)};" for c in "#;[](){}|`"})


def mermaid_label(text: object) -> str:
    """``text`` as a quoted Mermaid label: special characters as entity codes, line breaks as ``<br>``."""
    out = str(text).replace("\r\n", "\n").replace("\r", "\n").translate(_MERMAID_ENTITIES)
    return '"' + out.replace("\n", "<br>") + '"'


def mermaid_emotion(emotion: int | None) -> str:
    """Everyone's emotion on the app's scale, e.g. ``emotion −1 (−2..+2)``; ``no emotion`` when there is none.

    A flowchart label is free text, so the emotion is written as the app shows it (signed, with a true minus),
    never converted to another scale.
    """
    if emotion is None:
        return "no emotion"
    return f"emotion {format_signed(emotion)} (−2..+2)"


def compute_mermaid(view: MapView) -> str:
    """Mermaid ``flowchart`` text: the map's title, a subgraph per stage (in order, linked by arrows) holding its
    touchpoints (★ marks a moment of truth) and its pain points (dotted to their touchpoint), and a subgraph of
    the map's personas, each pain point naming the persona it belongs to.

    Names are kept as typed (:func:`mermaid_label`). A touchpoint shows its owner team and everyone's emotion
    −2..+2 (:func:`mermaid_emotion`), by the emotion curve's rule (``analytics.map_tables.emotion_at``): the
    touchpoint's own feeling cell for everyone, else its stage's whole-stage one, else "no emotion".
    """
    personas = {p.id: p.name for p in view.personas}
    lines = ["---", f"title: {json.dumps(view.name, ensure_ascii=False)}", "---", "flowchart LR"]

    for s in view.stages:
        lines.append(f"    subgraph S{s.id}[{mermaid_label(s.name)}]")
        lines.append("        direction TB")
        for t in s.touchpoints:
            details = [t.owner_team or "Customer", mermaid_emotion(emotion_at(view, s.id, t.id))]
            text = ("★ " if t.moment_of_truth else "") + t.name + "\n" + " · ".join(details)
            lines.append(f"        T{t.id}[{mermaid_label(text)}]")
        for p in (p for p in view.pain_points if p.stage_id == s.id):
            whose = f" · {personas[p.persona_id]}" if p.persona_id in personas else ""
            lines.append(f"        P{p.id}>{mermaid_label(f'Pain (severity {p.severity}/5){whose}: {p.description}')}]")
            if p.touchpoint_id is not None:
                lines.append(f"        T{p.touchpoint_id} -.- P{p.id}")
        lines.append("    end")
    for a, b in zip(view.stages, view.stages[1:], strict=False):
        lines.append(f"    S{a.id} --> S{b.id}")
    if view.personas:
        lines.append(f"    subgraph Personas[{mermaid_label('Personas')}]")
        for p in view.personas:
            role = p.committee_role or p.job_title
            lines.append(f"        R{p.id}([{mermaid_label(p.name + (chr(10) + role if role else ''))}])")
        lines.append("    end")
    return "\n".join(lines) + "\n"


def export_map_mermaid(map_id: int, *, engine: Engine | None = None) -> str:
    return compute_mermaid(get_map_view(map_id, engine=engine))
