"""Success metrics of a map: CRUD, values per period (entered by hand or computed from a linked
dataset through the one analysis context, :func:`services.context.open_context`), status against
the target, trends. A computed conversion rate uses the dataset's conversion definition.

Formulas and the red/amber/green rule: :mod:`analytics.metrics`. A computed metric stores one
:class:`db.models.MetricValue` per period that has data (a period without data has no row: "no
data" is never stored as 0); recomputing replaces the computed rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import col, select

from analytics import metrics as am
from analytics.conversion import check_names
from analytics.engine import EventSource, events_table
from analytics.journeys import JourneyQuery, Level
from analytics.numbers import MONEY_KINDS, NO_CURRENCY
from analytics.schema import STORED_COLUMN, Role
from core.errors import BadInputError, ConversionUndefinedError, NotFoundError
from db import crud
from db.engine import read_session, write_session
from db.inputs import MetricUpdate, given, validate
from db.models import Dataset, Direction, Metric, MetricKind, MetricValue, Stage, Touchpoint
from services.analysis import content_key, run
from services.context import AnalysisContext, context_names, open_context
from services.datasets import get_event_source
from services.linking import TouchpointRef, map_touchpoints

# Each kind's name, once: a new metric's name when none is given, the kind picker's words, and the
# Overview's words for a measure without a named metric.
DEFAULT_NAMES: dict[str, str] = {
    "nps": "NPS",
    "csat": "CSAT",
    "ces": "Customer effort (CES)",
    "fcr": "First contact resolution (FCR)",
    "retention": "Retention rate",
    "clv": "Customer lifetime value (CLV)",
    "conversion": "Conversion rate",
    "custom": "Custom metric",
}
DEFAULT_UNITS: dict[str, str] = {
    "nps": "points",
    "csat": "%",
    "ces": "score",
    "fcr": "%",
    "retention": "%",
    "clv": "",
    "conversion": "%",
}
LOWER_IS_BETTER = {"ces"}
# The scale a value of a kind lies on (analytics.metrics' formulas): NPS −100..+100; CSAT, FCR and
# conversion are percentages of a whole, 0..100; a retention rate counts returning accounts and can
# exceed 100 (analytics.metrics), so only its floor holds. CES (the dataset's own scale), CLV (money)
# and custom metrics have no bounded scale and are not here.
VALUE_RANGES: dict[str, tuple[float, float | None]] = {
    "nps": (-100.0, 100.0),
    "csat": (0.0, 100.0),
    "fcr": (0.0, 100.0),
    "conversion": (0.0, 100.0),
    "retention": (0.0, None),
}
_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$|^\d{4}-Q[1-4]$")


# --------------------------------------------------------------------------- map scopes


def list_map_scopes(map_id: int, *, engine: Engine | None = None) -> tuple[list[tuple[int, str]], list[TouchpointRef]]:
    """A map's stages ``(id, name)`` and touchpoints, in display order: what a metric can be bound to."""
    with read_session(engine) as session:
        crud.get_map(session=session, map_id=map_id)
        stages = list(crud.list_stages(session=session, map_id=map_id))
    return [(s.id or 0, s.name) for s in stages], list(map_touchpoints(map_id, engine=engine))


def list_stage_outcomes(map_id: int, *, engine: Engine | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """Stages of a map that declare outcomes (e.g. hired / not now / no way), in order."""
    with read_session(engine) as session:
        return [(s.name, tuple(s.outcomes)) for s in crud.list_stages(session=session, map_id=map_id) if s.outcomes]


def dataset_has_role(dataset_id: int, role: str, *, engine: Engine | None = None) -> bool:
    _, schema = get_event_source(dataset_id, engine=engine)
    return schema.has(Role(role))


def linked_dataset_id(map_id: int, *, engine: Engine | None = None) -> int | None:
    """The most recent dataset linked to a map, or None."""
    with read_session(engine) as session:
        row = session.exec(
            select(Dataset.id)
            .where(Dataset.map_id == map_id)
            .order_by(col(Dataset.created_at).desc(), col(Dataset.id).desc())
        ).first()
        return int(row) if row is not None else None


# --------------------------------------------------------------------------- metric rows


@dataclass(frozen=True)
class MetricRow:
    """A metric with its latest value, the one before, and its status (plain data for pages)."""

    id: int
    map_id: int
    kind: str
    name: str
    unit: str
    target: float | None
    direction: str
    source: str
    dataset_id: int | None
    stage_id: int | None
    touchpoint_id: int | None
    scope: str
    formula: str
    latest_period: str | None = None
    latest_value: float | None = None
    latest_base: int | None = None
    previous_period: str | None = None
    previous_value: float | None = None
    status: str = "none"
    values: tuple[tuple[str, float, int | None, bool], ...] = field(default_factory=tuple)
    # The options its computed values were computed with, as (name, value) pairs (none: not computed
    # yet, or computed before they were kept).
    computed_options: tuple[tuple[str, Any], ...] = ()

    @property
    def computed_with(self) -> str:
        """:attr:`computed_options` in words (:func:`analytics.metrics.kept_options_words`); "" for a
        metric entered by hand; said to be unknown where values were computed before options were kept."""
        if self.source != "dataset":
            return ""
        if self.computed_options:
            return am.kept_options_words(dict(self.computed_options))
        return "options not recorded" if any(computed for *_, computed in self.values) else ""

    @property
    def change(self) -> float | None:
        """Latest value minus the previous period's (None without both)."""
        if self.latest_value is None or self.previous_value is None:
            return None
        return self.latest_value - self.previous_value


def period_sort_key(label: str) -> tuple[int, int, int]:
    """Chronological order of period labels; a quarter sorts at its first month."""
    year = int(label[:4])
    if "-Q" in label:
        return (year, (int(label[-1]) - 1) * 3 + 1, 1)
    return (year, int(label[5:7]), 0)


def _scope_label(metric: Metric, stages: dict[int, str], touchpoints: dict[int, str]) -> str:
    if metric.touchpoint_id is not None:
        return f"touchpoint: {touchpoints.get(metric.touchpoint_id, '?')}"
    if metric.stage_id is not None:
        return f"stage: {stages.get(metric.stage_id, '?')}"
    return "whole map"


def _metric_row(metric: Metric, values: list[MetricValue], stages: dict, touchpoints: dict) -> MetricRow:
    ordered = sorted(values, key=lambda v: period_sort_key(v.period))
    latest = ordered[-1] if ordered else None
    previous = ordered[-2] if len(ordered) > 1 else None
    return MetricRow(
        id=metric.id or 0,
        map_id=metric.map_id,
        kind=metric.kind,
        name=metric.name,
        unit=metric.unit,
        target=metric.target,
        direction=metric.direction,
        source=metric.source,
        dataset_id=metric.dataset_id,
        stage_id=metric.stage_id,
        touchpoint_id=metric.touchpoint_id,
        scope=_scope_label(metric, stages, touchpoints),
        formula=am.FORMULAS.get(metric.kind, am.FORMULAS["custom"]),
        latest_period=latest.period if latest else None,
        latest_value=latest.value if latest else None,
        latest_base=latest.respondents if latest else None,
        previous_period=previous.period if previous else None,
        previous_value=previous.value if previous else None,
        status=am.metric_status(latest.value if latest else None, metric.target, metric.direction),
        values=tuple((v.period, v.value, v.respondents, v.computed) for v in ordered),
        computed_options=tuple((metric.computed_with or {}).items()),
    )


def list_metrics(map_id: int, *, engine: Engine | None = None) -> list[MetricRow]:
    """Every metric of a map (map-wide first, then by stage and touchpoint), with latest values."""
    with read_session(engine) as session:
        crud.get_map(session=session, map_id=map_id)
        stages = {s.id: s.name for s in crud.list_stages(session=session, map_id=map_id)}
        tps = {t.id: t.name for t in crud.list_touchpoints(session=session, map_id=map_id)}
        metrics = session.exec(select(Metric).where(Metric.map_id == map_id).order_by(col(Metric.id))).all()
        ids = [m.id for m in metrics]
        values: dict[int, list[MetricValue]] = {}
        if ids:
            for v in session.exec(select(MetricValue).where(col(MetricValue.metric_id).in_(ids))).all():
                values.setdefault(v.metric_id, []).append(v)
        rows = [_metric_row(m, values.get(m.id or 0, []), stages, tps) for m in metrics]
    return sorted(rows, key=lambda r: (r.stage_id is not None or r.touchpoint_id is not None, r.id))


def get_metric(metric_id: int, *, engine: Engine | None = None) -> MetricRow:
    with read_session(engine) as session:
        metric = session.get(Metric, metric_id)
        if metric is None:
            raise NotFoundError("Metric", metric_id)
        map_id = metric.map_id
    for row in list_metrics(map_id, engine=engine):
        if row.id == metric_id:
            return row
    raise NotFoundError("Metric", metric_id)


def compute_metric_history(row: MetricRow) -> pd.DataFrame:
    """A metric's values over time with its target and status: the trend chart's data twin.

    Columns: ``period, value, base, computed, target, direction, status``.
    """
    df = pd.DataFrame(row.values, columns=["period", "value", "base", "computed"])
    df["target"] = row.target
    df["direction"] = row.direction
    df["status"] = [am.metric_status(v, row.target, row.direction) for v in df["value"]]
    return df


def compute_metric_table(rows: list[MetricRow]) -> pd.DataFrame:
    """The scorecard of a map's metrics: one row each (the data twin of the scorecard chart)."""
    return pd.DataFrame(
        [
            {
                "id": r.id,
                "metric": r.name,
                "kind": r.kind,
                "scope": r.scope,
                "period": r.latest_period,
                "value": r.latest_value,
                # Money says its currency, or that none was set (never a guessed one).
                "unit": r.unit or (NO_CURRENCY if r.kind in MONEY_KINDS else ""),
                "base": r.latest_base,
                "target": r.target,
                "direction": r.direction,
                "status": r.status,
                "previous period": r.previous_period,
                "change": r.change,
                "source": r.source,
                "computed with": r.computed_with,
                "formula": r.formula,
            }
            for r in rows
        ],
        columns=[
            "id",
            "metric",
            "kind",
            "scope",
            "period",
            "value",
            "unit",
            "base",
            "target",
            "direction",
            "status",
            "previous period",
            "change",
            "source",
            "computed with",
            "formula",
        ],
    )


# --------------------------------------------------------------------------- CRUD


def _check_scope(session, map_id: int, stage_id: int | None, touchpoint_id: int | None) -> None:  # noqa: ANN001
    if stage_id is not None and touchpoint_id is not None:
        raise BadInputError.invalid("scope", (stage_id, touchpoint_id), "a stage or a touchpoint, not both")
    if stage_id is not None:
        stage = session.get(Stage, stage_id)
        if stage is None or stage.map_id != map_id:
            raise BadInputError.invalid("stage", stage_id, "a stage of this map")
    if touchpoint_id is not None:
        tp = session.get(Touchpoint, touchpoint_id)
        if tp is None or tp.map_id != map_id:
            raise BadInputError.invalid("touchpoint", touchpoint_id, "a touchpoint of this map")


def create_metric(
    *,
    map_id: int,
    kind: str,
    name: str | None = None,
    target: float | None = None,
    direction: str | None = None,
    unit: str | None = None,
    stage_id: int | None = None,
    touchpoint_id: int | None = None,
    dataset_id: int | None = None,
    engine: Engine | None = None,
) -> int:
    """Create a metric bound to the map, one stage or one touchpoint. With ``dataset_id`` its values
    are computed from that dataset (``source = "dataset"``); otherwise they are entered by hand.
    Direction defaults to lower-is-better for CES, higher for the rest. Returns its id.
    """
    if kind not in {k.value for k in MetricKind}:
        raise BadInputError.invalid("kind", kind, ", ".join(k.value for k in MetricKind))
    direction = direction or (Direction.LOWER.value if kind in LOWER_IS_BETTER else Direction.HIGHER.value)
    clean = validate(MetricUpdate, {"name": name or DEFAULT_NAMES[kind], "target": target, "direction": direction})
    if dataset_id is not None and kind == "custom":
        raise BadInputError.invalid(
            "kind", kind, "a metric JourneyLens can compute (custom metrics are entered by hand)"
        )
    if clean.target is not None:  # a target lies on the metric's scale, as its values do
        check_value_in_range(kind, clean.target, name=clean.name, what="target")
    with write_session(engine) as session:
        crud.get_map(session=session, map_id=map_id)
        _check_scope(session, map_id, stage_id, touchpoint_id)
        if dataset_id is not None:
            crud.get_dataset(session=session, dataset_id=dataset_id)
        metric = Metric(
            map_id=map_id,
            kind=kind,
            name=clean.name,
            unit=(unit if unit is not None else DEFAULT_UNITS.get(kind, "")).strip()[:40],
            target=clean.target,
            direction=clean.direction,
            stage_id=stage_id,
            touchpoint_id=touchpoint_id,
            source="dataset" if dataset_id is not None else "manual",
            dataset_id=dataset_id,
        )
        session.add(metric)
        session.flush()
        return int(metric.id or 0)


def update_metric(metric_id: int, *, engine: Engine | None = None, **changes: object) -> None:
    """Change a metric's name, target, direction, unit, scope or dataset."""
    clean = given(validate(MetricUpdate, changes))
    with write_session(engine) as session:
        metric = session.get(Metric, metric_id)
        if metric is None:
            raise NotFoundError("Metric", metric_id)
        dataset_before = metric.dataset_id
        if clean.get("target") is not None:  # a target lies on the metric's scale, as its values do
            check_value_in_range(metric.kind, clean["target"], name=clean.get("name") or metric.name, what="target")
        for key, value in clean.items():
            setattr(metric, key, value)
        _check_scope(session, metric.map_id, metric.stage_id, metric.touchpoint_id)
        metric.source = "dataset" if metric.dataset_id is not None else "manual"
        if metric.dataset_id != dataset_before:  # kept options describe values of the dataset before
            metric.computed_with = {}
        session.add(metric)


def delete_metric(metric_id: int, *, engine: Engine | None = None) -> None:
    with write_session(engine) as session:
        metric = session.get(Metric, metric_id)
        if metric is None:
            raise NotFoundError("Metric", metric_id)
        for v in session.exec(select(MetricValue).where(MetricValue.metric_id == metric_id)).all():
            session.delete(v)
        session.flush()
        session.delete(metric)


def clean_period(period: str) -> str:
    """A period label: ``YYYY-MM`` (month) or ``YYYY-Qn`` (quarter)."""
    text = (period or "").strip().upper().replace("-q", "-Q")
    if not _PERIOD_RE.match(text):
        raise BadInputError.invalid("period", period, "a month like 2026-03 or a quarter like 2026-Q1")
    return text


def set_metric_value(
    metric_id: int, period: str, value: float, *, respondents: int | None = None, engine: Engine | None = None
) -> None:
    """Enter (or replace) a metric's value for one period by hand."""
    period = clean_period(period)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInputError.invalid("value", value, "a number") from None
    if math.isnan(number) or math.isinf(number):
        raise BadInputError.invalid("value", value, "a finite number")
    if respondents is not None and (int(respondents) != respondents or respondents < 0):
        raise BadInputError.invalid("respondents", respondents, "a whole number ≥ 0")
    with write_session(engine) as session:
        metric = session.get(Metric, metric_id)
        if metric is None:
            raise NotFoundError("Metric", metric_id)
        check_value_in_range(metric.kind, number, name=metric.name)
        row = session.exec(
            select(MetricValue).where(MetricValue.metric_id == metric_id, MetricValue.period == period)
        ).first()
        row = row or MetricValue(metric_id=metric_id, period=period, value=number)
        row.value, row.respondents, row.computed = number, respondents, False
        session.add(row)


def check_value_in_range(
    kind: str, value: float, *, name: str = "", what: str = "value", field: str | None = None
) -> None:
    """Refuse a value (or, ``what="target"``, a target) off the scale of its ``kind``
    (:data:`VALUE_RANGES`) with a :class:`BadInputError` naming the metric, the value and the range;
    a kind without a bounded scale takes any number. ``field`` replaces the field the refusal names
    (a map document names the value's path); it is ``"<name> <what>"`` otherwise."""
    if kind not in VALUE_RANGES:
        return
    lo, hi = VALUE_RANGES[kind]
    if lo <= value and (hi is None or value <= hi):
        return
    unit = DEFAULT_UNITS.get(kind, "")
    scale = f"from {lo:g} to {hi:g}" if hi is not None else f"of {lo:g} or more"
    label = DEFAULT_NAMES.get(kind, kind)
    shown = field or (f"{name} {what}" if name else what)
    raise BadInputError.invalid(shown, value, f"a number {scale}, the scale of {label} ({unit})")


def delete_metric_value(metric_id: int, period: str, *, engine: Engine | None = None) -> None:
    with write_session(engine) as session:
        row = session.exec(
            select(MetricValue).where(MetricValue.metric_id == metric_id, MetricValue.period == period)
        ).first()
        if row is None:
            raise NotFoundError("Metric value", f"{metric_id} {period}")
        session.delete(row)


# --------------------------------------------------------------------------- computing


@dataclass(frozen=True)
class ComputeOptions:
    """Parameters of computed metrics (stated beside each value on the Metrics page)."""

    period: am.Period = "month"
    window_days: float = 7.0  # FCR derived: repeat-contact window
    gross_margin: float = 1.0  # CLV
    support: tuple[str, ...] = ()  # FCR derived: support touchpoints/stages; default the metric's scope

    def kept(self, kind: str, table: pd.DataFrame) -> dict[str, Any]:
        """What a metric of ``kind`` computed as ``table`` keeps of these options
        (:data:`analytics.metrics.KEPT_OPTIONS`): the period; for FCR where its cases came from
        (the flag column, or derived) and, derived, the repeat window; the gross margin of CLV."""
        kept: dict[str, Any] = {"period": self.period}
        if kind == MetricKind.FCR.value and "method" in table and len(table):
            kept["fcr_from"] = str(table["method"].iloc[0])
            if self.support:  # else the metric's own scope, which its card names
                kept["support"] = list(self.support)
            if kept["fcr_from"] == "derived":
                kept["window_days"] = float(self.window_days)
        if kind == MetricKind.CLV.value:
            kept["gross_margin"] = float(self.gross_margin)
        return kept

    def for_kind(self, kind: str) -> ComputeOptions:
        """These options as one metric of ``kind`` takes them: retention and CLV compare each period
        with the one before, so over the whole log they are computed per month (and say so)."""
        if kind in PER_PERIOD_KINDS and self.period == am.ALL:
            return replace(self, period="month")
        return self

    @classmethod
    def of_kept(cls, kept: Mapping[str, Any]) -> ComputeOptions:
        """The options a metric kept (the defaults for what it did not keep)."""
        taken = {k: kept[k] for k in ("period", "window_days", "gross_margin") if k in kept}
        return cls(**taken, support=tuple(kept.get("support", ())))


def _scope_of(ctx: AnalysisContext, stage_id: int | None, touchpoint_id: int | None) -> tuple[str | None, str | None]:
    if touchpoint_id is not None:
        names = [t.label for t in ctx.touchpoints if t.id == touchpoint_id]
        return (names[0] if names else None), "touchpoint"
    if stage_id is not None:
        names = [n for n, i in ctx.stages if i == stage_id]
        return (names[0] if names else None), "stage"
    return None, None


def compute_for_context(
    ctx: AnalysisContext,
    kind: str,
    *,
    options: ComputeOptions = ComputeOptions(),
    scope: str | None = None,
    scope_by: str | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """One metric from a context's events (see :func:`analytics.metrics.compute_metric`); the
    conversion rate uses the context's conversion definition."""
    if kind == "conversion" and not ctx.conversion.defined:
        raise ConversionUndefinedError(
            f"the conversion rate of dataset {ctx.dataset_id}",
            how="python cli.py conversion set, or the Conversion line on a page",
        )
    if kind == MetricKind.FCR.value and options.support:  # a name that does not exist would count no case
        check_names(options.support, context_names(ctx).nodes, "support touchpoint or stage")
    support = options.support or ((scope,) if scope else ())
    return run(
        "metric",
        ctx,
        kind=kind,
        period=options.period,
        by=by,
        scope=scope,
        scope_by=scope_by,
        support=support,
        window_days=options.window_days,
        gross_margin=options.gross_margin,
    )


def compute_metric_values(
    metric_id: int, *, options: ComputeOptions = ComputeOptions(), engine: Engine | None = None
) -> pd.DataFrame:
    """Compute a dataset-bound metric per period and store it (replacing earlier computed values).

    Periods without data are not stored. Returns the computed table (``period, value, base, ...``).
    """
    with read_session(engine) as session:
        metric = session.get(Metric, metric_id)
        if metric is None:
            raise NotFoundError("Metric", metric_id)
        if metric.dataset_id is None:
            raise BadInputError.invalid(
                "dataset", None, "a dataset to compute this metric from (it is entered by hand)"
            )
        kind, map_id, dataset_id = metric.kind, metric.map_id, metric.dataset_id
        stage_id, touchpoint_id = metric.stage_id, metric.touchpoint_id
    ctx = open_context(dataset_id, map_id, engine=engine)
    scope, scope_by = _scope_of(ctx, stage_id, touchpoint_id)
    df = compute_for_context(ctx, kind, options=options, scope=scope, scope_by=scope_by)
    with write_session(engine) as session:
        for old in session.exec(
            select(MetricValue).where(MetricValue.metric_id == metric_id, col(MetricValue.computed).is_(True))
        ).all():
            session.delete(old)
        session.flush()
        for row in df.itertuples(index=False):
            if row.value is None or pd.isna(row.value):
                continue
            existing = session.exec(
                select(MetricValue).where(MetricValue.metric_id == metric_id, MetricValue.period == row.period)
            ).first()
            target = existing or MetricValue(metric_id=metric_id, period=row.period, value=float(row.value))
            target.value, target.respondents, target.computed = float(row.value), int(row.base), True
            session.add(target)
        stored = session.get(Metric, metric_id)
        if stored is not None:
            stored.computed_with = options.kept(kind, df)
            session.add(stored)
    return df


CONTEXT_METRIC_COLUMNS = ("metric", "scope", "period", "value", "base", "target", "status", "computed_with")


def compute_context_metrics(
    ctx: AnalysisContext, *, kinds: tuple[str, ...] | None = None, options: ComputeOptions = ComputeOptions()
) -> pd.DataFrame:
    """Every metric a context's dataset allows (or ``kinds``), per period, with the targets and status
    of the map's matching map-wide metrics and the options each was computed with: ``metric, scope,
    period, value, base, target, status, computed_with``. What cannot be computed is left out, and
    :func:`context_metrics_left_out` says why."""
    wanted = kinds or tuple(am.available_kinds(ctx.schema))
    targets: dict[str, tuple[float | None, str]] = {}
    if ctx.map_id is not None:
        for row in list_metrics(ctx.map_id):
            if row.stage_id is None and row.touchpoint_id is None and row.kind not in targets:
                targets[row.kind] = (row.target, row.direction)
    frames = []
    for kind in wanted:
        if _left_out_because(ctx, kind, options):
            continue
        df = compute_for_context(ctx, kind, options=options)
        target, direction = targets.get(kind, (None, Direction.LOWER.value if kind in LOWER_IS_BETTER else "higher"))
        df = df.assign(target=target, status=[am.metric_status(v, target, direction) for v in df["value"]])
        df = df.assign(computed_with=am.kept_options_words(options.kept(kind, df)))
        frames.append(df[list(CONTEXT_METRIC_COLUMNS)])
    if not frames:
        return pd.DataFrame(columns=list(CONTEXT_METRIC_COLUMNS))
    return pd.concat(frames, ignore_index=True)


# Metrics that compare each period with the one before (no value over the whole log).
PER_PERIOD_KINDS = frozenset({"retention", "clv"})


def _left_out_because(ctx: AnalysisContext, kind: str, options: ComputeOptions) -> str | None:
    """Why the metric ``kind`` cannot be computed on ``ctx`` with ``options`` (None: it can)."""
    if kind in am.KIND_ROLES and not ctx.schema.has(am.KIND_ROLES[kind]):
        return f"the log has no {STORED_COLUMN[am.KIND_ROLES[kind]]} column"
    if kind in am.KIND_ROLES and not _has_values(ctx, am.KIND_ROLES[kind]):
        return f"the log's {STORED_COLUMN[am.KIND_ROLES[kind]]} column is empty in every row"
    if kind == "fcr" and not ctx.schema.has(Role.FCR) and not options.support:
        return "the log has no fcr column, and no support touchpoints or stages were named to derive it from"
    if kind == "conversion" and not ctx.conversion.defined:
        return "conversion is not defined for this dataset"
    if kind in PER_PERIOD_KINDS and options.period == am.ALL:
        return "it compares each period with the one before, so it has no value over the whole log"
    return None


def _has_values(ctx: AnalysisContext, role: Role) -> bool:
    """Whether the context's whole log holds any value in the column of ``role``."""
    content = content_key(ctx)
    if content is None:  # a table on another backend may change: read each time
        return role in _filled_roles.__wrapped__(ctx.source, ctx.schema, None)
    return role in _filled_roles(ctx.source, ctx.schema, content)


@lru_cache(maxsize=64)
def _filled_roles(source: EventSource, schema: am.EventSchema, content: tuple[object, ...] | None) -> frozenset[Role]:
    """The metric roles whose column holds a value, one scan per stored content (``content``:
    :func:`services.analysis.content_key`, so a dataset imported again under a reused id is read again):
    asked both when metrics are computed and when what they leave out is said."""
    return am.roles_with_values(events_table(source), schema, tuple(am.KIND_ROLES.values()))


def context_metrics_left_out(
    ctx: AnalysisContext, *, kinds: tuple[str, ...] | None = None, options: ComputeOptions = ComputeOptions()
) -> tuple[str, ...]:
    """What :func:`compute_context_metrics` leaves out and why, a line each ("fcr: the log has no fcr
    column, ...")."""
    reasons = ((kind, _left_out_because(ctx, kind, options)) for kind in kinds or am.COMPUTED_KINDS)
    return tuple(f"{kind}: {why}" for kind, why in reasons if why)


def compute_context_outcome_shares(
    ctx: AnalysisContext, *, stage: str | None = None, outcomes: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Journeys by outcome of a context (``analytics.metrics.compute_outcome_shares``)."""
    return am.compute_outcome_shares(ctx.events(), ctx.schema, ctx.query, stage=stage, outcomes=outcomes)


def compute_context_referrals(ctx: AnalysisContext, *, former_stage: str, referral: tuple[str, ...]) -> pd.DataFrame:
    """Former clients who referred new ones, in a context (``analytics.metrics.compute_referrals``)."""
    return am.compute_referrals(
        ctx.events(), ctx.schema, ctx.query, former_stage=former_stage, referral_touchpoints=referral
    )


def compute_dataset_metrics(
    dataset_id: int,
    map_id: int | None = None,
    *,
    kinds: tuple[str, ...] | None = None,
    options: ComputeOptions = ComputeOptions(),
    level: Level = "contact",
    query: JourneyQuery | None = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """:func:`compute_context_metrics` of ``dataset_id`` seen through ``map_id`` (default: its map);
    ``query`` brings the level and filters."""
    ctx = open_context(dataset_id, map_id, query=query or JourneyQuery(level=level), engine=engine)
    return compute_context_metrics(ctx, kinds=kinds, options=options)


DEFAULT_TARGETS: dict[str, float] = {"conversion": 25.0, "nps": 30.0, "csat": 80.0, "ces": 3.0, "fcr": 75.0}


def create_default_metrics(
    map_id: int,
    dataset_id: int,
    *,
    targets: dict[str, float] | None = None,
    options: ComputeOptions = ComputeOptions(),
    engine: Engine | None = None,
) -> list[int]:
    """Give a map the standard metrics its dataset can compute (conversion, NPS, CSAT, CES, FCR from
    a flag column) with targets (default :data:`DEFAULT_TARGETS`), and compute them. Metrics of a
    kind the map already has (map-wide) are left alone. Returns the ids created.
    """
    targets = {**DEFAULT_TARGETS, **(targets or {})}
    _, schema = get_event_source(dataset_id, engine=engine)
    have = {r.kind for r in list_metrics(map_id, engine=engine) if r.stage_id is None and r.touchpoint_id is None}
    # The conversion rate needs the dataset's conversion definition (through this map).
    kinds = ["conversion"] if open_context(dataset_id, map_id, engine=engine).conversion.defined else []
    kinds += [k for k, role in (("nps", Role.NPS), ("csat", Role.CSAT), ("ces", Role.EFFORT)) if schema.has(role)]
    if schema.has(Role.FCR):
        kinds.append("fcr")
    ids = []
    for kind in kinds:
        if kind in have:
            continue
        metric_id = create_metric(
            map_id=map_id, kind=kind, target=targets.get(kind), dataset_id=dataset_id, engine=engine
        )
        compute_metric_values(metric_id, options=options, engine=engine)
        ids.append(metric_id)
    return ids


def recompute_map_metrics(
    map_id: int, *, options: ComputeOptions = ComputeOptions(), engine: Engine | None = None
) -> int:
    """Recompute every dataset-bound metric of a map. Returns how many were computed."""
    rows = [r for r in list_metrics(map_id, engine=engine) if r.source == "dataset" and r.dataset_id is not None]
    for r in rows:
        compute_metric_values(r.id, options=options, engine=engine)
    return len(rows)


def refresh_conversion_metrics(dataset_id: int, *, engine: Engine | None = None) -> int:
    """Recompute the conversion-rate metrics computed from ``dataset_id`` after its conversion
    definition changed; where it is no longer defined, their computed values are removed (no data,
    never a stale number). Returns how many metrics were touched."""
    with read_session(engine) as session:
        rows = session.exec(
            select(Metric).where(Metric.dataset_id == dataset_id, Metric.kind == MetricKind.CONVERSION.value)
        ).all()
        targets = [(m.id or 0, m.map_id, dict(m.computed_with or {})) for m in rows]
    for metric_id, map_id, kept in targets:
        if open_context(dataset_id, map_id, engine=engine).conversion.defined:
            # With the options the values were computed with (quarters stay quarters), never reset to
            # months; for values computed before the options were kept, the period their labels say.
            options = (
                ComputeOptions.of_kept(kept) if kept else ComputeOptions(period=_computed_period(metric_id, engine))
            )
            compute_metric_values(metric_id, options=options, engine=engine)
            continue
        with write_session(engine) as session:
            for old in session.exec(
                select(MetricValue).where(MetricValue.metric_id == metric_id, col(MetricValue.computed).is_(True))
            ).all():
                session.delete(old)
    return len(targets)


def _computed_period(metric_id: int, engine: Engine | None) -> am.Period:
    """The period a metric's newest computed value is labelled with (month where it has none); for
    metrics computed before their options were kept."""
    with read_session(engine) as session:
        computed = session.exec(
            select(MetricValue.period)
            .where(MetricValue.metric_id == metric_id, col(MetricValue.computed).is_(True))
            .order_by(col(MetricValue.id).desc())
        ).first()
    return am.period_of_label(computed) if computed else ComputeOptions.period
