"""Tables derived from a journey map (:class:`core.journey_map.MapView`): plain pandas, no database.

What the studio shows beside the grid: the opportunities ranked by
priority, the action plan, the RACI matrix and the
ownership gaps, and the map's own measures per touchpoint (the overlay shape of ``charts.map_grid``).

Everyone's emotion at a place has one rule, :func:`emotion_at` (the emotion curve's): the feeling cell
there without a persona, else its stage's whole-stage cell without a persona, else none. A persona's
cells never stand in for everyone.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.numbers import format_signed
from core.errors import UnknownNameError
from core.journey_map import (
    ACTION_DONE,
    ACTION_TASK_FIELDS,
    OPPORTUNITY_SHOWN,
    RACI_FIELDS,
    ActionView,
    MapView,
    OpportunityView,
)


def _place(view: MapView, item: OpportunityView | ActionView) -> dict[str, str]:
    """The names of the stage and touchpoint an item sits on ("" when on none)."""
    stage = next((st.name for st in view.stages if st.id == item.stage_id), "")
    tp = next((t.name for t in view.touchpoints if t.id == item.touchpoint_id), "")
    return {"stage": stage, "touchpoint": tp}


def compute_opportunity_ranking(view: MapView) -> pd.DataFrame:
    """Opportunities ranked by priority (``core.journey_map.opportunity_priority``), best first.

    Ties: higher customer value first, then lower effort, then the older opportunity (lower id).
    """
    ordered = sorted(view.opportunities, key=lambda o: (-o.priority, -o.customer_value, o.effort, o.id))
    rows = [
        {"rank": rank, "id": o.id, **_place(view, o), **{c: getattr(o, c) for c in OPPORTUNITY_SHOWN}}
        for rank, o in enumerate(ordered, start=1)
    ]
    return pd.DataFrame(rows, columns=["rank", "id", "stage", "touchpoint", *OPPORTUNITY_SHOWN])


def compute_action_plan(view: MapView, *, today: date | None = None) -> pd.DataFrame:
    """The action plan with where each action sits, its metric and whether it is overdue (not done, past due)."""
    today = today or date.today()
    metric_names = {m.id: m.name for m in view.metrics}
    rows = [
        {
            "id": a.id,
            **{c: getattr(a, c) for c in ACTION_TASK_FIELDS},
            "overdue": bool(a.due_date and a.due_date < today and a.status != ACTION_DONE),
            **_place(view, a),
            "metric": metric_names.get(a.metric_id, "") if a.metric_id else "",
            "expected_effect": a.expected_effect,
        }
        for a in view.actions
    ]
    columns = ["id", *ACTION_TASK_FIELDS, "overdue", "stage", "touchpoint", "metric", "expected_effect"]
    return pd.DataFrame(rows, columns=columns)


def emotion_at(
    view: MapView, stage_id: int, touchpoint_id: int | None, persona_id: int | None = None, *, stage_too: bool = True
) -> int | None:
    """The emotion (−2..+2) felt at a touchpoint (or, ``touchpoint_id`` None, at the whole stage) by one series:
    everyone (``persona_id`` None) or one persona.

    The rule of the emotion curve (``charts.map_grid.compute_emotion_curve``) and of the Lanes tab: the
    series' own feeling cell at the touchpoint, else its stage's whole-stage feeling cell (a whole-stage
    cell applies to every touchpoint of the stage that has none of its own), else None. Only that series'
    cells count: everyone's value never averages or borrows the personas' cells. A cell without an
    emotion (text only) does not count; of several cells at one place, the first in the view's order wins.
    """
    places = (touchpoint_id, None) if touchpoint_id is not None and stage_too else (touchpoint_id,)
    for place in places:
        for c in view.lane_cells:
            key = (c.lane, c.stage_id, c.touchpoint_id, c.persona_id)
            if key == ("feeling", stage_id, place, persona_id) and c.emotion is not None:
                return int(c.emotion)
    return None


MAP_MEASURES: dict[str, str] = {
    "emotion": "Emotion (everyone, −2..+2)",
    "pain_severity": "Worst pain point (severity 1–5)",
    "pain_points": "Pain points (count)",
    "opportunity_priority": "Best opportunity (priority)",
    "open_actions": "Open actions (count)",
}


def compute_map_measure(view: MapView, measure: str) -> pd.DataFrame:
    """A measure from the map itself, per touchpoint, in the overlay shape of ``charts.map_grid``.

    Columns ``touchpoint_id, value, label``; ``frame.attrs["name"]`` is the measure's name. Only what
    sits on a touchpoint counts (items on a whole stage do not). Touchpoints without any value are
    left out ("no data" on the grid). Measures: ``emotion`` (everyone's, :func:`emotion_at`: the
    touchpoint's own feeling cell for everyone, else its stage's whole-stage one; the one exception to "only
    what sits on a touchpoint"), ``pain_severity`` (the highest severity), ``pain_points`` (how many),
    ``opportunity_priority`` (the best priority), ``open_actions`` (actions not done).
    """
    if measure not in MAP_MEASURES:
        raise UnknownNameError(
            "map measure",
            measure,
            message=f"No map measure is named {measure!r}; the measures are: " + ", ".join(MAP_MEASURES),
        )
    rows = []
    for tp in view.touchpoints:
        value: float | None = None
        if measure == "emotion":
            emotion = emotion_at(view, tp.stage_id, tp.id)
            value = None if emotion is None else float(emotion)
        elif measure in ("pain_severity", "pain_points"):
            pains = [p.severity for p in view.pain_points if p.touchpoint_id == tp.id]
            if pains:
                value = float(max(pains)) if measure == "pain_severity" else float(len(pains))
        elif measure == "opportunity_priority":
            priorities = [o.priority for o in view.opportunities if o.touchpoint_id == tp.id]
            value = max(priorities) if priorities else None
        else:
            value = float(sum(1 for a in view.actions if a.touchpoint_id == tp.id and a.status != ACTION_DONE))
        if value is None:
            continue
        label = (
            format_signed(int(value))  # as the grid's cells and the Mermaid export write it: +2, 0, −1
            if measure == "emotion"
            else (f"{value:.2f}" if measure == "opportunity_priority" else f"{value:.0f}")
        )
        rows.append({"touchpoint_id": tp.id, "value": value, "label": label})
    frame = pd.DataFrame(rows, columns=["touchpoint_id", "value", "label"])
    frame.attrs["name"] = MAP_MEASURES[measure]
    return frame


RACI_ROLES = tuple(zip("RACI", RACI_FIELDS, strict=True))


def _teams(text: str) -> list[str]:
    """Team names in a RACI field: separated by commas, semicolons or slashes."""
    out: list[str] = []
    for part in text.replace(";", ",").replace("/", ",").split(","):
        name = part.strip()
        if name and name not in out:
            out.append(name)
    return out


def compute_raci_matrix(view: MapView) -> pd.DataFrame:
    """Teams × touchpoints with each team's RACI letters (e.g. "R", "A/C"), plus the owner team as "O".

    Rows are teams (alphabetical), columns ``Stage › Touchpoint`` in map order; an empty cell means the
    team has no part there. A team named in several RACI fields gets all its letters, in R, A, C, I order.
    """
    columns = [f"{s.name} › {t.name}" for s in view.stages for t in s.touchpoints]
    letters: dict[str, dict[str, list[str]]] = {}
    for s in view.stages:
        for t in s.touchpoints:
            column = f"{s.name} › {t.name}"
            for team in _teams(t.owner_team):
                letters.setdefault(team, {}).setdefault(column, []).append("O")
            for letter, attr in RACI_ROLES:
                for team in _teams(getattr(t, attr)):
                    cell = letters.setdefault(team, {}).setdefault(column, [])
                    if letter not in cell:
                        cell.append(letter)
    rows = [
        {"team": team, **{c: "/".join(letters[team].get(c, [])) for c in columns}}
        for team in sorted(letters, key=str.casefold)
    ]
    return pd.DataFrame(rows, columns=["team", *columns])


def compute_ownership_gaps(view: MapView) -> pd.DataFrame:
    """Touchpoints whose ownership is incomplete: no owner team, no one accountable, or more than one
    accountable team (RACI allows exactly one). Moments of truth are listed first."""
    rows = []
    for s in view.stages:
        for t in s.touchpoints:
            problems = []
            if not t.owner_team:
                problems.append("no owner team")
            accountable = _teams(t.accountable)
            if not accountable:
                problems.append("no one accountable")
            elif len(accountable) > 1:
                problems.append(f"{len(accountable)} teams accountable")
            if problems:
                rows.append(
                    {
                        "stage": s.name,
                        "touchpoint": t.name,
                        "moment_of_truth": t.moment_of_truth,
                        "gaps": ", ".join(problems),
                    }
                )
    frame = pd.DataFrame(rows, columns=["stage", "touchpoint", "moment_of_truth", "gaps"])
    return frame.sort_values("moment_of_truth", ascending=False, kind="stable").reset_index(drop=True)
