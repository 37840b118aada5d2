"""The outlook's backtest, built into the product: is the learned model worth acting on?

Protocol (PRODUCT.md, "What to do next"), every figure from the same run:
- Split: journeys are ordered by their first event; those that start before ``split_at`` (default:
  two thirds of the way from the first journey's start to the last one's, as a UTC day) are the
  training journeys, the others the test journeys. Statuses are those at the last event's day
  (:func:`analytics.outlook.journey_status`, the dataset's conversion definition).
- Training: the learned model (:mod:`analytics.outlook_model`) is fitted on the closed training
  journeys' prefixes, and so are the baselines.
- Test prefixes: each closed test journey (converted, lost or gone quiet) with at least one step
  before its point of conversion or loss is cut once, at a seeded uniform moment of its open time
  (from its first event to its point of conversion or loss, or to ``active_days`` after its last
  event), as a snapshot would catch it: the prefix is the steps before that moment, and the time
  since its last event is measured at that moment. A journey that never stands still (all its
  events at one instant) cannot be caught open and is left out.
- Next touchpoint: accuracy (share of test prefixes whose next step, or end, is the predicted
  one) of the learned model against the majority class (the commonest next of the training
  prefixes; every baseline counts a training prefix with the learned model's weight, the share of
  its journey's open time it stands still for, so all learn from the same distribution), a first-order Markov chain (the commonest next after the prefix's last node; unseen
  node: the majority) and a 3-gram back-off (the commonest next after the last two nodes; unseen
  pair: the Markov chain's).
- Conversion: AUC (rank) and Brier score (mean squared error of the probability) of the learned,
  calibrated probability against the last touchpoint's conversion rate (the share of training
  prefixes ending on that node whose journey converted, each journey weighing as one as in the
  learned model; unseen node: the base rate) and the base
  rate (the share of training journeys that converted). The calibration table bins the test
  prefixes by predicted probability (tenths): ``predicted`` (mean), ``observed`` (conversion
  rate) and ``prefixes`` per bin.
Refused (:class:`core.errors.NotEnoughDataError`, with what is missing) where the data cannot support it: too few
closed training or test journeys, almost every (or almost no) training journey converting, or a
test set of one class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import pandas as pd
from ibis.expr.types import Table

from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from analytics.numbers import plural
from analytics.outlook import DEFAULT_ACTIVE_DAYS, STALE_STATE, Cut, last_event_day, load_journey_log
from analytics.outlook_model import (
    cut_at_random_times,
    fit_learned,
    next_labels,
    observation_times,
    prefix_features,
    time_weights,
    training_rows,
)
from analytics.schema import EventSchema
from core.errors import ConversionUndefinedError, NotEnoughDataError

MIN_TEST_JOURNEYS = 30
MAX_RATE = 0.97  # refuse when more (or fewer than 1 − this) of the training journeys convert
CALIBRATION_BINS = 10
BACKTEST_SEED = 0


@dataclass(frozen=True)
class BacktestResult:
    """Figures of one backtest run (module docstring). ``next_touchpoint``: ``model, accuracy``;
    ``conversion``: ``model, auc, brier``; ``calibration``: ``bin, low, high, predicted, observed,
    prefixes`` (empty bins left out)."""

    split_at: date
    train_journeys: int
    test_journeys: int
    test_prefixes: int
    next_touchpoint: pd.DataFrame
    conversion: pd.DataFrame
    calibration: pd.DataFrame

    def to_json(self) -> dict[str, Any]:
        """``{"split_at", "train_journeys", "test_prefixes", "next_touchpoint": {"accuracy",
        "baselines": {...}}, "conversion": {"auc", "brier", "baselines": {...}, "calibration": [...]}}``."""
        nxt = self.next_touchpoint.set_index("model")["accuracy"]
        conv = self.conversion.set_index("model")
        return {
            "split_at": self.split_at.isoformat(),
            "train_journeys": self.train_journeys,
            "test_journeys": self.test_journeys,
            "test_prefixes": self.test_prefixes,
            "next_touchpoint": {
                "accuracy": round(float(nxt["learned"]), 6),
                "baselines": {k: round(float(v), 6) for k, v in nxt.items() if k != "learned"},
            },
            "conversion": {
                "auc": round(float(conv.loc["learned", "auc"]), 6),
                "brier": round(float(conv.loc["learned", "brier"]), 6),
                "baselines": {
                    k: {"auc": round(float(r["auc"]), 6), "brier": round(float(r["brier"]), 6)}
                    for k, r in conv.iterrows()
                    if k != "learned"
                },
                "calibration": [
                    {k: (round(float(v), 6) if k != "prefixes" else int(v)) for k, v in r.items() if k != "bin"}
                    for r in self.calibration.to_dict("records")
                ],
            },
        }


def _commonest(frame: pd.DataFrame, keys: list[str]) -> dict[Any, str]:
    """Per key: the commonest ``next`` by total ``weight`` (ties: by name)."""
    counts = frame.groupby([*keys, "next"])["weight"].sum().rename("n").reset_index()
    counts = counts.sort_values([*keys, "n", "next"], ascending=[True] * len(keys) + [False, True])
    first = counts.drop_duplicates(keys)
    if len(keys) == 1:
        return dict(zip(first[keys[0]], first["next"], strict=True))
    return dict(zip(zip(*(first[k] for k in keys), strict=True), first["next"], strict=True))


def baseline_next(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Predicted next of each test prefix by the majority class, the Markov chain and the 3-gram
    back-off; ``train`` and ``test`` have ``last``, ``before`` (node names; None at a first step)
    and ``train`` also ``next`` and ``weight`` (how much each training prefix counts)."""
    totals = train.groupby("next")["weight"].sum().sort_index()
    majority = str(totals.sort_values(ascending=False, kind="stable").index[0])
    first = _commonest(train, ["last"])
    known = train.dropna(subset=["before"])
    second = _commonest(known, ["before", "last"])
    markov = np.array([first.get(s, majority) for s in test["last"]], dtype=object)
    trigram = np.array(
        [
            second.get((b, s), m) if b is not None else m
            for b, s, m in zip(test["before"], test["last"], markov, strict=True)
        ],
        dtype=object,
    )
    return {"majority": np.full(len(test), majority, dtype=object), "markov": markov, "3-gram": trigram}


def calibration_table(p: np.ndarray, y: np.ndarray, bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Test prefixes binned by predicted probability: ``bin`` (e.g. ``"30–40%"``), ``low, high,
    predicted, observed, prefixes``; bins ``[low, high)``, the last closed; empty bins left out."""
    index = np.minimum((p * bins + 1e-9).astype(int), bins - 1)
    frame = pd.DataFrame({"b": index, "p": p, "y": y})
    g = frame.groupby("b").agg(predicted=("p", "mean"), observed=("y", "mean"), prefixes=("y", "size")).reset_index()
    g["low"] = g["b"] / bins
    g["high"] = (g["b"] + 1) / bins
    g["bin"] = [f"{lo * 100:.0f}–{hi * 100:.0f}%" for lo, hi in zip(g["low"], g["high"], strict=True)]
    return g[["bin", "low", "high", "predicted", "observed", "prefixes"]].astype({"prefixes": "int64"})


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def compute_outlook_backtest(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery,
    conversion: Conversion,
    *,
    split_at: date | None = None,
    active_days: int = DEFAULT_ACTIVE_DAYS,
    seed: int = BACKTEST_SEED,
) -> BacktestResult:
    """Run the backtest (module docstring) and return its figures. Refused: :class:`ConversionUndefinedError`
    without a definition, :class:`NotEnoughDataError` where the data cannot support it."""
    if not conversion.defined:
        raise ConversionUndefinedError("the backtest")
    as_of = last_event_day(events, schema, query)
    log = load_journey_log(Cut(events, schema, query, conversion, as_of, active_days))
    jt = log.journeys
    starts = jt["start_ts"]
    if split_at is None:
        boundary = float(starts.min() + (starts.max() - starts.min()) * 2 / 3)
        split_at = datetime.fromtimestamp(boundary, tz=UTC).date()
    boundary = datetime.combine(split_at, time.min, tzinfo=UTC).timestamp()
    closed = jt["status"] != "open"
    train_ids = jt.index[(starts < boundary) & closed]
    test_ids = jt.index[(starts >= boundary) & closed]
    train = jt.loc[train_ids]
    rate = float(train["status"].eq("converted").mean()) if len(train) else float("nan")
    if len(train) and not (1 - MAX_RATE <= rate <= MAX_RATE):
        raise NotEnoughDataError(
            f"{rate:.1%} of the {plural(len(train), 'closed journey')} that start before {split_at} convert: with almost "
            "every journey ending the same way there is nothing for a backtest to tell apart; change the "
            "conversion definition"
        )
    ends = frozenset((*conversion.goals, *conversion.lost_names(), STALE_STATE, *log.post_conversion))
    learned = fit_learned(log, journeys=train_ids, active_days=active_days, seed=seed, goal_names=ends)

    rng = np.random.default_rng(seed + 1)
    steps = log.steps
    test_rows = np.flatnonzero(steps["journey"].isin(test_ids).to_numpy() & steps["before_stop"].to_numpy())
    rows = cut_at_random_times(log, test_rows, rng, active_days)
    if len(rows) < MIN_TEST_JOURNEYS:
        raise NotEnoughDataError(
            f"only {len(rows):,} closed journeys with a step before their end start on or after {split_at}: the "
            f"backtest needs at least {MIN_TEST_JOURNEYS}; pick an earlier split date"
        )
    observed = observation_times(log, rows, rng, active_days)
    x = prefix_features(log, learned.space, rows, observed)
    y = jt["status"].reindex(steps["journey"].to_numpy()[rows]).eq("converted").to_numpy().astype(int)
    if y.min() == y.max():
        raise NotEnoughDataError(
            f"every test journey (starting on or after {split_at}) ends the same way: AUC needs both; "
            "pick another split date"
        )
    truth = next_labels(log, rows)

    # Baselines from the same training prefixes.
    t_rows = training_rows(log, train_ids)
    node = steps["node"].to_numpy()
    journey = steps["journey"].to_numpy()

    def context(r: np.ndarray) -> pd.DataFrame:
        has_before = (r > 0) & (journey[np.maximum(r - 1, 0)] == journey[r])
        before = pd.Series(node[np.maximum(r - 1, 0)]).map(log.names).where(has_before, None)
        return pd.DataFrame({"last": pd.Series(node[r]).map(log.names), "before": before.astype(object)})

    w = time_weights(log, t_rows, active_days)
    train_ctx = context(t_rows).assign(next=next_labels(log, t_rows), weight=w)
    test_ctx = context(rows)
    predicted = baseline_next(train_ctx, test_ctx)
    nxt = learned.next_probabilities(x)
    predicted = {"learned": nxt.columns.to_numpy()[np.argmax(nxt.to_numpy(), axis=1)], **predicted}
    accuracy = pd.DataFrame(
        {"model": list(predicted), "accuracy": [float(np.mean(v == truth)) for v in predicted.values()]}
    )

    p = learned.probability(x)
    t_converted = jt["status"].reindex(journey[t_rows]).eq("converted").to_numpy()
    # Weighted as the learned model is: each training journey as one.
    by_node = pd.DataFrame({"c": t_converted * w, "w": w}).groupby(train_ctx["last"].to_numpy()).sum()
    node_rate = by_node["c"] / by_node["w"]
    last_rate = test_ctx["last"].map(node_rate).fillna(rate).to_numpy(dtype=float)
    base = np.full(len(y), rate)
    probabilities = {"learned": p, "last touchpoint rate": last_rate, "base rate": base}
    conv = pd.DataFrame(
        {
            "model": list(probabilities),
            "auc": [_auc(y, v) for v in probabilities.values()],
            "brier": [float(np.mean((v - y) ** 2)) for v in probabilities.values()],
        }
    )
    return BacktestResult(
        split_at=split_at,
        train_journeys=learned.training_journeys,
        test_journeys=int(len(test_ids)),
        test_prefixes=int(len(rows)),
        next_touchpoint=accuracy,
        conversion=conv,
        calibration=calibration_table(p, y),
    )


__all__ = ["BacktestResult", "baseline_next", "calibration_table", "compute_outlook_backtest"]
