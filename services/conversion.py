"""Conversion, defined once per dataset (and per map linked to it): saving it, suggesting it, and the
one line every page, the CLI and the report show: "Conversion: <definition> · N of M journeys (x%)".

Where a definition applies (:func:`services.context.saved_conversion`): the one saved for the dataset
seen through a map, else the dataset's own. Saving checks every name against the dataset seen
through that map (:func:`analytics.conversion.check_conversion`); an unknown name is refused with
the nearest real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import select

from analytics.conversion import Conversion, KnownNames, check_conversion, node_counts, suggest_goal, suggest_lost
from analytics.journeys import JourneyQuery
from analytics.schema import Role
from db.engine import write_session
from db.models import ConversionDefinition, utcnow
from services.analysis import run
from services.context import (
    AnalysisContext,
    ConversionScope,
    check_dataset_id,
    check_map_id,
    context_names,
    open_context,
)
from services.metrics import refresh_conversion_metrics

SCOPE_WORDS: dict[str, str] = {
    "map": "saved for this dataset seen through this map",
    "dataset": "saved for this dataset",
    "override": "for this view only (not saved)",
    "none": "not defined",
}


def conversion_text(conversion: Conversion, converted: int | None, journeys: int) -> str:
    """``Conversion: <definition> · N of M journeys (x%)`` (or what to do when it is not defined)."""
    if not conversion.defined:
        return "Conversion: not defined · choose goal nodes or outcome values that mean a journey converted"
    share = f"{100.0 * (converted or 0) / journeys:.1f}%" if journeys else "no journeys"
    return f"Conversion: {conversion.describe()} · {converted or 0:,} of {journeys:,} journeys ({share})"


@dataclass(frozen=True)
class ConversionLine:
    """What a page shows about conversion: the definition, where it comes from, the counts."""

    conversion: Conversion
    scope: ConversionScope
    journeys: int
    converted: int | None
    text: str
    problems: tuple[str, ...] = ()

    @property
    def rate(self) -> float | None:
        """Converted journeys / journeys (0..1), None when not defined or no journeys."""
        if self.converted is None or not self.journeys:
            return None
        return self.converted / self.journeys

    def to_dict(self) -> dict[str, object]:
        """The CLI's JSON: ``definition, text, journeys, converted`` (and where it comes from)."""
        return {
            "definition": self.conversion.to_dict(),
            "text": self.text,
            "journeys": self.journeys,
            "converted": self.converted,
            "scope": self.scope,
            "problems": list(self.problems),
        }


def definition_problems(ctx: AnalysisContext, names: KnownNames | None = None) -> tuple[str, ...]:
    """Names of the context's definition that the dataset (through its map) does not have: a saved
    definition can outlive a relinked map. Empty when all is well."""
    c = ctx.conversion
    if not c.defined:
        return ()
    names = names or context_names(ctx)
    nodes, outcomes = set(names.nodes), set(names.outcomes)
    missing = [g for g in (*c.goals, *c.lost_goals) if g not in nodes]
    missing += [o for o in (*c.outcomes, *c.lost_outcomes) if o not in outcomes]
    return tuple(missing)


def compute_conversion_line(ctx: AnalysisContext) -> ConversionLine:
    """The line for a context: its definition in words and N of M journeys (the summary's counts
    under the context's query and filters)."""
    summary = run("summary", ctx).iloc[0]
    journeys = int(summary["journeys"])
    converted = None if pd.isna(summary["converted"]) else int(summary["converted"])
    text = conversion_text(ctx.conversion, converted, journeys)
    problems = definition_problems(ctx)
    if problems:
        text += " · no name in this dataset matches " + ", ".join(repr(p) for p in problems)
    return ConversionLine(ctx.conversion, ctx.conversion_scope, journeys, converted, text, problems)


def get_conversion_line(
    dataset_id: int, map_id: int | None = None, *, query: JourneyQuery | None = None, engine: Engine | None = None
) -> ConversionLine:
    return compute_conversion_line(open_context(dataset_id, map_id, query=query, engine=engine))


def set_conversion(
    dataset_id: int, conversion: Conversion, *, map_id: int | None = None, engine: Engine | None = None
) -> ConversionLine:
    """Save ``conversion`` (:func:`save_conversion`) and return the new line (counts over all journeys)."""
    save_conversion(dataset_id, conversion, map_id=map_id, engine=engine)
    return get_conversion_line(dataset_id, map_id, engine=engine)


def save_conversion(
    dataset_id: int, conversion: Conversion, *, map_id: int | None = None, engine: Engine | None = None
) -> None:
    """Save ``conversion`` for the dataset (``map_id`` None) or for it seen through ``map_id``, and
    recompute the conversion metrics computed from the dataset.

    Every name is checked against the dataset seen through that map (for the dataset's own
    definition: through the map it is linked to, where activities, touchpoints and stages all count).
    Unlike :func:`set_conversion`, it does not count the line (a summary of every journey): the demo
    seeding saves definitions without showing them."""
    if not conversion.defined:
        from core.errors import BadInputError

        raise BadInputError(
            "a conversion definition needs goal nodes or outcome values (clear it to have none)",
            expected="--goal or --outcome",
        )
    ctx = open_context(dataset_id, map_id, engine=engine)
    check_conversion(conversion, context_names(ctx), has_outcome=ctx.schema.has(Role.OUTCOME))
    with write_session(engine) as session:
        rows = session.exec(select(ConversionDefinition).where(ConversionDefinition.dataset_id == dataset_id)).all()
        row = next((r for r in rows if r.map_id == map_id), None) or ConversionDefinition(
            dataset_id=dataset_id, map_id=map_id
        )
        row.goals, row.outcomes = list(conversion.goals), list(conversion.outcomes)
        row.lost_goals, row.lost_outcomes = list(conversion.lost_goals), list(conversion.lost_outcomes)
        row.within_days, row.updated_at = conversion.within_days, utcnow()
        session.add(row)
    refresh_conversion_metrics(dataset_id, engine=engine)


def clear_conversion(dataset_id: int, *, map_id: int | None = None, engine: Engine | None = None) -> bool:
    """Remove the definition saved for the dataset (``map_id`` None) or for it through ``map_id``.
    Returns whether there was one. An unknown dataset or map id is refused with the real ones (as
    show, set and suggest refuse them), never answered "there was none"."""
    with write_session(engine) as session:
        check_dataset_id(session, dataset_id)
        if map_id is not None:
            check_map_id(session, map_id)
        rows = session.exec(select(ConversionDefinition).where(ConversionDefinition.dataset_id == dataset_id)).all()
        doomed = [r for r in rows if r.map_id == map_id]
        for r in doomed:
            session.delete(r)
    refresh_conversion_metrics(dataset_id, engine=engine)
    return bool(doomed)


# --------------------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class Suggestion:
    """A likely definition, with why it is offered."""

    conversion: Conversion
    why: str


def _ending_nodes(ctx: AnalysisContext) -> pd.DataFrame:
    """Touchpoints with the journeys that visit them and that end on them, most ending first."""
    nodes = node_counts(ctx.events(), ctx.schema, replace(ctx.query, by="touchpoint", through=()))
    return nodes.sort_values(["ending_journeys", "node"], ascending=[False, True], ignore_index=True)


def suggest_conversions(ctx: AnalysisContext, *, limit: int = 4) -> list[Suggestion]:
    """Likely definitions, most telling first: an outcome column's winning values (with its losing
    ones as lost), a touchpoint whose name says it is a win, the map's (or data's) last stage, and
    the touchpoints most journeys end on. Nothing is chosen for the user."""
    names = context_names(ctx)
    out: list[Suggestion] = []
    if names.outcomes:
        # Outcome values most frequent first, as node_counts' frame so the same words pick the win.
        frame = pd.DataFrame({"node": list(names.outcomes), "journeys": range(len(names.outcomes), 0, -1)})
        win = suggest_goal(frame.assign(ending_journeys=0), fallback=False)
        lost = [o for o in suggest_lost(names.outcomes) if o != win]
        if win is not None:
            out.append(
                Suggestion(
                    Conversion(outcomes=(win,), lost_outcomes=tuple(lost)),
                    f"the outcome column has the value {win!r}",
                )
            )
    nodes = _ending_nodes(ctx)
    win_node = suggest_goal(nodes, fallback=False)
    lost_nodes = tuple(n for n in suggest_lost(nodes["node"]) if n != win_node)
    if win_node is not None:
        out.append(Suggestion(Conversion(goals=(win_node,), lost_goals=lost_nodes), f"{win_node!r} reads like a win"))
    last_stage = ctx.stage_order[-1] if ctx.stage_order else None
    if last_stage and last_stage in names.nodes:
        out.append(Suggestion(Conversion(goals=(last_stage,)), "the map's last stage"))
    for row in nodes.head(3).itertuples():
        if int(row.ending_journeys) > 0:
            share = int(row.ending_journeys)
            out.append(Suggestion(Conversion(goals=(str(row.node),)), f"{share:,} journeys end there"))
    unique: dict[Conversion, Suggestion] = {}
    for s in out:
        unique.setdefault(s.conversion, s)
    return list(unique.values())[:limit]


__all__ = [
    "SCOPE_WORDS",
    "ConversionLine",
    "Suggestion",
    "clear_conversion",
    "compute_conversion_line",
    "conversion_text",
    "definition_problems",
    "get_conversion_line",
    "save_conversion",
    "set_conversion",
    "suggest_conversions",
]


def event_filter_note(query: JourneyQuery) -> str | None:
    """What a channel, role or segment filter does to the Conversion line (it keeps events, not whole
    journeys: a conversion on an event it leaves out is not counted), said beside it; None without one."""
    kinds = [
        w for w, on in (("channel", query.channels), ("contact role", query.roles), ("segment", query.segments)) if on
    ]
    if not kinds:
        return None
    return (
        f"The {' and '.join(kinds)} filter keeps only the matching events of each journey: a conversion on an "
        "event it leaves out (another channel's, say) is not counted here."
    )
