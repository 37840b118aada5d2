"""Every JourneyLens analysis the benchmark measures, called exactly as the pages call them.

Each entry names the analysis function by module and attribute and builds its arguments from the
dataset's events and schema; an entry whose module is not on this branch yet is reported as
such. ``check`` reduces a result to the summary that is compared with the peers' answers
(:mod:`bench.peers`), so the benchmark also shows that the fast answer is the same answer.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bench.peers import FUNNEL_STEPS, MAX_STEPS, transitions_check

GOAL = "Contract signed"


@dataclass
class Context:
    events: Any
    schema: Any


@dataclass(frozen=True)
class Analysis:
    label: str
    module: str
    function: str
    kwargs: Callable[[Context], dict] = field(default=lambda ctx: {})
    check: Callable[[Any], dict] | None = None
    # Peer task names (bench.peers) answering the same question.
    peers: tuple[str, ...] = ()

    def available(self) -> str | None:
        """None when the function is on this branch, else why not."""
        try:
            mod = importlib.import_module(self.module)
        except ModuleNotFoundError:
            return f"{self.module} is not on this branch"
        if not hasattr(mod, self.function):
            return f"{self.module}.{self.function} is not on this branch"
        return None

    def run(self, ctx: Context) -> Any:
        fn = getattr(importlib.import_module(self.module), self.function)
        return fn(ctx.events, ctx.schema, **self.kwargs(ctx))


def prepare(dataset_id: int) -> Context:
    """The dataset's events as the pages get them (``services.datasets.get_event_source``)."""
    from analytics.engine import events_table
    from services.datasets import get_event_source

    source, schema = get_event_source(dataset_id)
    return Context(events=events_table(source), schema=schema)


def _q(**kwargs: Any) -> Any:
    from analytics.journeys import JourneyQuery

    return JourneyQuery(**kwargs)


def _funnel(**kwargs: Any) -> Any:
    from analytics.funnel import FunnelSpec

    return FunnelSpec(steps=tuple(FUNNEL_STEPS), **kwargs)


def _transitions_check(frame: pd.DataFrame) -> dict:
    inner = frame[~frame["source"].isin(["(entry)", "(exit)", "entry", "exit"])]
    inner = inner[~inner["target"].isin(["(entry)", "(exit)", "entry", "exit"])]
    return transitions_check(inner.set_index(["source", "target"])["count"])


def _variants_check(frame: pd.DataFrame) -> dict:
    row = frame.iloc[0] if len(frame) else None
    return {
        "variants": int(row["distinct_paths"]) if row is not None else 0,
        "top_count": int(row["journeys"]) if row is not None else 0,
        "journeys": int(row["total_journeys"]) if row is not None else 0,
    }


def _funnel_check(frame: pd.DataFrame) -> dict:
    col = next((c for c in ("journeys", "entered", "count") if c in frame.columns), None)
    return {"journeys": [int(v) for v in frame[col]]} if col else {}


ANALYSES: dict[str, Analysis] = {
    a.label: a
    for a in (
        Analysis(
            "transitions (touchpoint, repeats kept)",
            "analytics.transitions",
            "compute_transitions",
            lambda ctx: {"query": _q(collapse_repeats=False)},
            check=_transitions_check,
            peers=("pandas_transitions", "pm4py_dfg", "rete_transitions"),
        ),
        Analysis(
            "transitions (default: repeats collapsed, entry/exit)",
            "analytics.transitions",
            "compute_transitions",
            lambda ctx: {"query": _q()},
        ),
        Analysis(
            "transitions, account level, filtered (web+email, EMEA)",
            "analytics.transitions",
            "compute_transitions",
            lambda ctx: {"query": _q(level="account", channels=("web", "email"), segments=(("region", ("EMEA",)),))},
        ),
        Analysis(
            f"step Sankey ({MAX_STEPS} steps, top 8 + Other)",
            "analytics.sankey",
            "compute_step_sankey",
            lambda ctx: {"query": _q(collapse_repeats=False), "steps": MAX_STEPS},
            peers=("rete_step_sankey",),
        ),
        Analysis(
            "stage flow with loops",
            "analytics.sankey",
            "compute_stage_flow",
            lambda ctx: {"query": _q(by="stage")},
        ),
        Analysis(
            "funnel (4 touchpoints, ordered, no window)",
            "analytics.funnel",
            "compute_funnel",
            lambda ctx: {"query": _q(collapse_repeats=False), "spec": _funnel(window_days=100_000)},
            check=_funnel_check,
            peers=("rete_funnel",),
        ),
        Analysis(
            "funnel (4 touchpoints, ordered, 90-day window)",
            "analytics.funnel",
            "compute_funnel",
            lambda ctx: {"query": _q(), "spec": _funnel()},
        ),
        Analysis(
            "funnel, strict order, per-step windows",
            "analytics.funnel",
            "compute_funnel",
            lambda ctx: {"query": _q(), "spec": _funnel(mode="strict", step_windows_days=(30, 30, 60))},
        ),
        Analysis(
            "variants (stage level, repeats collapsed)",
            "analytics.paths",
            "compute_variants",
            lambda ctx: {"query": _q(by="stage"), "goal": GOAL},
        ),
        Analysis(
            "variants (touchpoint, repeats kept)",
            "analytics.paths",
            "compute_variants",
            lambda ctx: {"query": _q(collapse_repeats=False)},
            check=_variants_check,
            peers=("pm4py_variants",),
        ),
        Analysis(
            "non-linearity", "analytics.nonlinearity", "compute_nonlinearity", lambda ctx: {"query": _q(by="stage")}
        ),
        Analysis("top loops", "analytics.nonlinearity", "compute_top_loops", lambda ctx: {"query": _q(by="stage")}),
        Analysis("outcomes", "analytics.outcomes", "compute_outcomes", lambda ctx: {"query": _q(level="account")}),
        Analysis(
            "time to convert",
            "analytics.timing",
            "compute_time_to_convert",
            lambda ctx: {"query": _q(), "goal": GOAL},
        ),
        Analysis("time in stage", "analytics.timing", "compute_time_in_stage", lambda ctx: {"query": _q(by="stage")}),
        Analysis("friction index", "analytics.friction", "compute_friction", lambda ctx: {"query": _q(), "goal": GOAL}),
        Analysis(
            "attribution (5 models incl. Markov)",
            "analytics.attribution",
            "compute_attribution",
            lambda ctx: {"query": _q(), "goal": GOAL},
        ),
        Analysis(
            "outlook (open journeys, next best action)",
            "analytics.outlook",
            "compute_outlook",
            lambda ctx: {"query": _q(), "goal": GOAL},
        ),
    )
}
