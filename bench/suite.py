"""Every JourneyLens analysis the benchmark measures: entries of the one registry
(:data:`analytics.registry.ANALYSES`) with the query and parameters of each case, called exactly as
the pages call them.

An entry whose analysis is not in the registry on this branch is reported as such. ``check`` reduces
a result to the summary that is compared with the peers' answers (:mod:`bench.peers`), so the
benchmark also shows that the fast answer is the same answer.
"""

from __future__ import annotations

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
    """A benchmark case: the registry's analysis ``name`` with a query and parameters."""

    label: str
    name: str
    params: Callable[[Context], dict] = field(default=lambda ctx: {})
    query: dict = field(default_factory=dict)
    converts: bool = False  # converts on reaching GOAL
    check: Callable[[Any], dict] | None = None
    # Peer task names (bench.peers) answering the same question.
    peers: tuple[str, ...] = ()

    def available(self) -> str | None:
        """None when the analysis is in the registry on this branch, else why not."""
        from analytics.registry import ANALYSES as REGISTRY

        return None if self.name in REGISTRY else f"no analysis {self.name!r} in the registry on this branch"

    def run(self, ctx: Context) -> Any:
        from analytics.conversion import NOT_DEFINED, goal
        from analytics.journeys import JourneyQuery
        from analytics.registry import Inputs, run_analysis

        inputs = Inputs(
            ctx.events, ctx.schema, JourneyQuery(**self.query), goal(GOAL) if self.converts else NOT_DEFINED
        )
        return run_analysis(self.name, inputs, **self.params(ctx))


def prepare(dataset_id: int, *, hot: bool = False) -> Context:
    """The dataset's events as the pages get them (``services.datasets.get_event_source``); with
    ``hot``, loaded into memory first (``analytics.engine.make_hot``, as the app does for a dataset
    in use), so the analyses read the in-memory table instead of Parquet."""
    from analytics.engine import events_table, make_hot
    from services.datasets import get_event_source

    source, schema = get_event_source(dataset_id)
    if hot:
        status = make_hot(source)
        if not status.in_memory:
            raise RuntimeError(f"--hot: dataset {dataset_id} is {status}")
    return Context(events=events_table(source), schema=schema)


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
            "transitions",
            query={"collapse_repeats": False},
            check=_transitions_check,
            peers=("pandas_transitions", "pm4py_dfg", "rete_transitions"),
        ),
        Analysis("transitions (default: repeats collapsed, entry/exit)", "transitions"),
        Analysis(
            "transitions, account level, filtered (web+email, EMEA)",
            "transitions",
            query={"level": "account", "channels": ("web", "email"), "segments": (("region", ("EMEA",)),)},
        ),
        Analysis(
            f"step Sankey ({MAX_STEPS} steps, top 8 + Other)",
            "sankey",
            lambda ctx: {"steps": MAX_STEPS},
            query={"collapse_repeats": False},
            peers=("rete_step_sankey",),
        ),
        Analysis("stage flow with loops", "stage_flow", query={"by": "stage"}),
        Analysis(
            "funnel (4 touchpoints, ordered, no window)",
            "funnel",
            lambda ctx: {"spec": _funnel(window_days=100_000)},
            query={"collapse_repeats": False},
            check=_funnel_check,
            peers=("rete_funnel",),
        ),
        Analysis("funnel (4 touchpoints, ordered, 90-day window)", "funnel", lambda ctx: {"spec": _funnel()}),
        Analysis(
            "funnel, strict order, per-step windows",
            "funnel",
            lambda ctx: {"spec": _funnel(mode="strict", step_windows_days=(30, 30, 60))},
        ),
        Analysis("variants (stage level, repeats collapsed)", "variants", query={"by": "stage"}, converts=True),
        Analysis(
            "variants (touchpoint, repeats kept)",
            "variants",
            query={"collapse_repeats": False},
            check=_variants_check,
            peers=("pm4py_variants",),
        ),
        Analysis("non-linearity", "nonlinearity", query={"by": "stage"}),
        Analysis("top loops", "top_loops", query={"by": "stage"}),
        Analysis("outcomes", "outcomes", query={"level": "account"}),
        Analysis("time to convert", "time_to_convert", converts=True),
        Analysis("time in stage", "time_in_stage", query={"by": "stage"}),
        Analysis("friction index", "friction", converts=True),
        Analysis("attribution (5 models incl. Markov)", "attribution", converts=True),
        Analysis("outlook (learned model: fit and score open journeys)", "outlook", converts=True),
        Analysis(
            "outlook (open journeys, next best action)", "outlook", lambda ctx: {"model": "markov"}, converts=True
        ),
    )
}
