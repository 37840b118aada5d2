"""The outlook's learned model: features of a journey so far, a calibrated conversion model, a
next-touchpoint model, the next best action among similar journeys, and the factors behind a
journey's probability, in words.

Everything here works on plain frames (no query engine): :func:`analytics.outlook.load_journey_log`
reads the events, and the journeys' statuses as the dataset's conversion definition says
(:mod:`analytics.conversion`; there is no second definition here).

Steps and prefixes
- A journey's events (in stored order, kept by the query) form its steps; with repeats collapsed,
  consecutive events on the same node are one step whose ``first_ts`` is its first event's time
  and ``last_ts`` its last event's. A *prefix* is a journey up to and including one of its steps.
- Training prefixes come from closed journeys (converted, lost or gone quiet) and stop before the
  point of conversion or loss. An outcome converts after a journey's last event, so with an
  outcome definition a converted journey stops instead at its first visit to a touchpoint that
  marks conversion (reached by 20+ closed journeys, 98 %+ of them converted: a purchase, an
  onboarding), which is never suggested as an action
  (:func:`analytics.outlook.load_journey_log`). Label ``converted``: the journey converted. Label ``next``: the node of
  the next step, or, after the last step, how the journey ended (the goal, the lost name, or
  *(no further activity)*).
- A prefix is seen at an *observation time*: for an open journey the end of the as-of day; for a
  training or test prefix a seeded uniform point of its wait, between its last event and the next
  step's first event (after a journey's last step: up to ``active_days`` later), so "time since
  the last event" means the same in training as when scoring.

Features of a prefix (one row): ``steps``, ``events``, ``days_since_start``,
``days_since_last_event``, ``days_between_last_steps``, the count of visits to each of the most
visited nodes (``visits:<node>``), the last three nodes in order (categorical), and where the data
has them: distinct ``contacts`` (account level: the buying committee), ``roles`` and ``channels``
so far, the last channel, the value so far (the sum of the value column over its events), and each
segment's value. N-gram evidence (:class:`NgramEvidence`): what
followed the prefix's last 1–4 nodes among the training prefixes (weighted as below), read with
back-off: the next-node distribution (a feature of the next-node model) and the conversion rate of
each suffix length (features of the conversion model, in the factor "stands on ..."). For the rows
a model is fitted on they are counted out of fold (``NGRAM_FOLDS`` folds of journeys: a row never
counts its own journey), for scoring from every training prefix.

Models: for conversion scikit-learn's ``HistGradientBoostingClassifier`` (categorical features
native), fitted on the earlier ~80 % of training journeys by start and calibrated by centred
isotonic regression (:class:`CenteredIsotonic`) on the later ~20 %; for the next node a random forest (multi-class gradient boosting
was slower and less accurate on BPIC 2012) over the nodes seen at least ``MIN_CLASS_COUNT`` times
(rarer ones pooled as ``(other)``, never predicted as such).

Weights: each training journey weighs as one, and each of its prefixes by the share of the
journey's open time it stands still for (its wait: from its last event to the next step, after the
last step ``active_days``), as a snapshot at a random moment (an outlook, or the backtest's cut)
would catch it; the training prefixes are drawn (with replacement) in proportion to it. Unweighted,
long journeys (which convert more often) would count once per step,
and prefixes that last a second (an automatic follow-up) as often as ones that last weeks.

Next best action for a journey standing on node ``s``: among training prefixes ending on ``s``
("similar journeys"), for each node ``t`` they moved to next (not ``s``, not a goal or lost node,
not an end) with at least ``min_support`` distinct journeys, the (weighted) conversion rate of
those that did; the action is the ``t`` with the highest rate (ties: more support, then name), ``lift`` = its
rate − the journey's own probability of converting; none when that is not positive (a journey already
likelier to convert than the similar journeys that took any action gets none).

Factors: for each feature group, the journey's value replaced by the training reference (median,
or for a category the commonest value); ``effect`` = probability − probability with the reference.
The ``FACTORS_SHOWN`` largest ``|effect|`` of at least ``MIN_FACTOR_EFFECT`` are written in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol, SupportsFloat, SupportsInt, cast

import numpy as np
import pandas as pd

from analytics.numbers import SECONDS_PER_DAY
from core.errors import NotEnoughDataError

TOP_COUNTED = 30  # nodes with a visit-count feature
TOP_CATEGORIES = 60  # distinct values a categorical feature keeps (others pooled)
MIN_CLASS_COUNT = 20
OTHER_CLASS = "(other)"
MIN_TRAINING_JOURNEYS = 50
MIN_PER_CLASS = 10
MAX_TRAINING_PREFIXES = 40_000
CALIBRATION_SHARE = 0.2
FACTORS_SHOWN = 3
MIN_FACTOR_EFFECT = 0.005
CONVERSION_ITERATIONS = 60
NEXT_TREES = 30
MISSING = -1.0  # stands for a missing value in the next-node forest


@dataclass(frozen=True)
class JourneyLog:
    """Steps and journeys as plain frames.

    ``steps``: one row per step, ordered by ``journey, position``: ``journey, position, node``
    (code), ``first_ts``, ``last_ts`` (epoch seconds), ``events``, cumulative ``contacts``,
    ``roles``, ``channels`` (distinct so far, where present), ``channel`` (last channel code) and
    ``before_stop`` (the step starts before the point of conversion or loss).
    ``journeys``: one row per journey, indexed by ``journey``: ``journey_key, status, end``
    (the label after its last step, None while open), ``start_ts`` and segment values.
    ``names``: node code → name.
    """

    steps: pd.DataFrame
    journeys: pd.DataFrame
    names: dict[int, str]
    segments: tuple[str, ...] = ()
    has_contacts: bool = False
    has_roles: bool = False
    has_channels: bool = False
    has_value: bool = False  # steps carry ``value``: the value so far (sum over the events up to the step)
    channel_names: dict[int, str] = field(default_factory=dict)
    # Touchpoints that mark a conversion under an outcome definition (a converted journey stops there).
    post_conversion: tuple[str, ...] = ()


def collapse_steps(events: pd.DataFrame, stop: pd.Series, collapse: bool) -> pd.DataFrame:
    """Steps from events (``journey, position, node, ts`` and optional ``contact, role, channel``
    codes, ordered by journey and position); ``stop``: journey → event order of the point of
    conversion or loss (NaN: none)."""
    e = events.reset_index(drop=True)
    j = e["journey"].to_numpy()
    for column, out in (("contact", "contacts"), ("role", "roles"), ("channel", "channels")):
        if column in e:
            fresh = ~e.duplicated(["journey", column]) & e[column].notna()
            e[out] = fresh.astype("int64").groupby(e["journey"]).cumsum()
    node = e["node"].to_numpy()
    new = np.ones(len(e), dtype=bool)
    if len(e) > 1:
        same_journey = j[1:] == j[:-1]
        new[1:] = ~same_journey | (node[1:] != node[:-1]) if collapse else True
    step_id = np.cumsum(new) - 1
    agg: dict[str, tuple[str, str]] = {
        "journey": ("journey", "first"),
        "position": ("position", "first"),
        "node": ("node", "first"),
        "first_ts": ("ts", "first"),
        "last_ts": ("ts", "last"),
        "events": ("ts", "size"),
    }
    for column in ("contacts", "roles", "channels", "channel", "value"):
        if column in e:
            agg[column] = (column, "last")
    steps = e.groupby(step_id, sort=False).agg(**agg).reset_index(drop=True)
    limit = steps["journey"].map(stop)
    steps["before_stop"] = limit.isna() | (steps["position"] < limit)
    return steps


# --------------------------------------------------------------------------- n-gram evidence

NGRAM_ORDERS = (1, 2, 3, 4)  # suffix lengths whose next-node distribution and conversion rate are features
NGRAM_ALPHA = 2.0  # pseudo-journeys of the shorter suffix's estimate mixed into each longer one
NGRAM_FOLDS = 5
NGRAM_NEXT = True  # next-node distributions of the suffix as features of the next-node model
NGRAM_CONVERSION = True  # conversion rates of the suffix as features of the conversion model


def _suffix_keys(log: JourneyLog, rows: np.ndarray, order: int) -> np.ndarray:
    """An integer key per prefix for its last ``order`` nodes (0 before a journey's first step)."""
    steps = log.steps
    journey = steps["journey"].to_numpy()
    node = steps["node"].to_numpy().astype(np.int64) + 1
    base = int(node.max()) + 1 if len(node) else 1
    key = np.zeros(len(rows), dtype=np.int64)
    for back in range(order):
        at = np.maximum(rows - back, 0)
        valid = (rows - back >= 0) & (journey[at] == journey[rows])
        key = key * base + np.where(valid, node[at], 0)
    return key


@dataclass(frozen=True)
class NgramEvidence:
    """Weighted counts of what followed each suffix of the training prefixes: the
    next node (among ``classes``) and conversion, for each suffix length of ``NGRAM_ORDERS``. Read with back-off by interpolation: the estimate
    for a suffix of length n is ``(counts + alpha × estimate for length n − 1) / (total + alpha)``,
    starting from the overall distribution, so an unseen suffix gets its shorter suffix's estimate."""

    classes: tuple[str, ...]
    prior: np.ndarray  # next-class distribution over all training prefixes
    conversion_prior: float
    tables: tuple[pd.DataFrame, ...]  # per order: index key; columns 0..C-1 counts, "total", "converted"

    @property
    def next_columns(self) -> tuple[str, ...]:
        return tuple(f"ngram_next:{c}" for c in self.classes) + ("ngram_support",)

    @property
    def conversion_columns(self) -> tuple[str, ...]:
        return tuple(f"ngram_rate:{n}" for n in NGRAM_ORDERS)

    def features(self, log: JourneyLog, rows: np.ndarray) -> dict[str, np.ndarray]:
        k = len(self.classes)
        p = np.tile(self.prior, (len(rows), 1))
        r = np.full(len(rows), self.conversion_prior)
        out: dict[str, np.ndarray] = {}
        support = np.zeros(len(rows))
        for order, table in zip(NGRAM_ORDERS, self.tables, strict=True):
            found = table.reindex(_suffix_keys(log, rows, order))
            counts = found[list(range(k))].fillna(0.0).to_numpy()
            total = found["total"].fillna(0.0).to_numpy()
            converted = found["converted"].fillna(0.0).to_numpy()
            p = (counts + NGRAM_ALPHA * p) / (total + NGRAM_ALPHA)[:, None]
            r = (converted + NGRAM_ALPHA * r) / (total + NGRAM_ALPHA)
            out[f"ngram_rate:{order}"] = r
            support = total
        for j, c in enumerate(self.classes):
            out[f"ngram_next:{c}"] = p[:, j]
        out["ngram_support"] = support
        return out


def fit_ngrams(
    log: JourneyLog,
    rows: np.ndarray,
    labels: np.ndarray,
    converted: np.ndarray,
    weight: np.ndarray,
    classes: tuple[str, ...],
) -> NgramEvidence:
    """Counts of the training prefixes ``rows`` (their next ``labels`` among ``classes``, whether
    their journey ``converted``, each counted with ``weight``)."""
    index = {c: i for i, c in enumerate(classes)}
    code = np.array([index.get(v, -1) for v in labels])
    k = len(classes)
    onehot = np.zeros((len(rows), k))
    known = code >= 0
    onehot[np.flatnonzero(known), code[known]] = weight[known]
    total_w = max(float(weight.sum()), 1e-12)
    prior = onehot.sum(axis=0) / total_w
    conversion_prior = float((converted * weight).sum() / total_w)
    tables = []
    for order in NGRAM_ORDERS:
        frame = pd.DataFrame(onehot)
        frame["total"] = weight
        frame["converted"] = converted * weight
        tables.append(frame.groupby(_suffix_keys(log, rows, order)).sum())
    return NgramEvidence(classes, prior, conversion_prior, tuple(tables))


# --------------------------------------------------------------------------- features


@dataclass(frozen=True)
class FeatureSpace:
    """How a prefix becomes a row: which nodes are counted, the category codes, the columns."""

    counted: tuple[int, ...]
    categories: dict[str, dict[object, int]]
    columns: tuple[str, ...]
    categorical: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]
    ngrams: NgramEvidence | None = None


def _category_codes(values: pd.Series) -> dict[object, int]:
    top = values.dropna().value_counts().head(TOP_CATEGORIES).index
    return {v: k for k, v in enumerate(top)}


def feature_space(log: JourneyLog, prefixes: pd.DataFrame) -> FeatureSpace:
    """Fix the features on the training prefixes (most visited nodes, category codes)."""
    counts = log.steps["node"].value_counts()
    counted = tuple(int(c) for c in counts.head(TOP_COUNTED).index)
    categories = {"last_node": _category_codes(prefixes["node"])}
    if log.has_channels:
        categories["last_channel"] = _category_codes(prefixes["channel"])
    for s in log.segments:
        categories[f"segment:{s}"] = _category_codes(log.journeys[f"segment:{s}"])
    numeric = ["steps", "events", "days_since_start", "days_since_last_event", "days_between_last_steps"]
    numeric += [c for c, has in (("contacts", log.has_contacts), ("roles", log.has_roles)) if has]
    numeric += ["channels"] if log.has_channels else []
    numeric += ["value"] if log.has_value else []
    visits = [f"visits:{c}" for c in counted]
    cats = ["last_node", "node_before", "node_two_before"]
    cats += ["last_channel"] if log.has_channels else []
    cats += [f"segment:{s}" for s in log.segments]
    groups: dict[str, tuple[str, ...]] = {c: (c,) for c in (*numeric, *visits, *cats)}
    return FeatureSpace(counted, categories, (*numeric, *visits, *cats), tuple(cats), groups)


def _codes(values: pd.Series, mapping: dict[object, int]) -> np.ndarray:
    """Category codes: unknown values pooled as ``len(mapping)``, missing ones NaN."""
    coded = values.map(mapping)
    coded = coded.where(values.isna() | coded.notna(), len(mapping))
    return coded.to_numpy(dtype=float)


def prefix_features(
    log: JourneyLog, space: FeatureSpace, rows: pd.Index | np.ndarray, observed_at: np.ndarray
) -> pd.DataFrame:
    """Feature rows of the prefixes ending at the steps ``rows`` (positions in ``log.steps``), seen
    at ``observed_at`` (epoch seconds)."""
    steps = log.steps
    rows = np.asarray(rows)
    journey = steps["journey"].to_numpy()
    node = steps["node"].to_numpy()
    first_ts = steps["first_ts"].to_numpy()
    last_ts = steps["last_ts"].to_numpy()
    # Step number in its journey, and where its journey starts in the table.
    starts = np.r_[0, np.flatnonzero(journey[1:] != journey[:-1]) + 1]
    start_of = np.repeat(starts, np.diff(np.r_[starts, len(steps)]))
    k = np.arange(len(steps)) - start_of
    out: dict[str, np.ndarray] = {}
    out["steps"] = (k[rows] + 1).astype(float)
    events_cum = steps.groupby("journey", sort=False)["events"].cumsum().to_numpy()
    out["events"] = events_cum[rows].astype(float)
    out["days_since_start"] = (observed_at - first_ts[start_of[rows]]) / SECONDS_PER_DAY
    out["days_since_last_event"] = (observed_at - last_ts[rows]) / SECONDS_PER_DAY
    prev = np.where(k[rows] > 0, rows - 1, rows)
    gap = (first_ts[rows] - last_ts[prev]) / SECONDS_PER_DAY
    out["days_between_last_steps"] = np.where(k[rows] > 0, gap, np.nan)
    present = (
        ("contacts", log.has_contacts),
        ("roles", log.has_roles),
        ("channels", log.has_channels),
        ("value", log.has_value),
    )
    for column, has in present:
        if has:
            out[column] = steps[column].to_numpy()[rows].astype(float)
    for c in space.counted:
        cum = pd.Series(node == c).astype("int32").groupby(journey, sort=False).cumsum().to_numpy()
        out[f"visits:{c}"] = cum[rows].astype(float)
    mapping = space.categories["last_node"]
    for name, back in (("last_node", 0), ("node_before", 1), ("node_two_before", 2)):
        at = rows - back
        valid = k[rows] >= back
        values = pd.Series(np.where(valid, node[np.maximum(at, 0)], -1))
        coded = _codes(values.where(valid), mapping)
        out[name] = coded
    if log.has_channels:
        out["last_channel"] = _codes(pd.Series(steps["channel"].to_numpy()[rows]), space.categories["last_channel"])
    for s in log.segments:
        values = pd.Series(log.journeys[f"segment:{s}"].reindex(journey[rows]).to_numpy())
        out[f"segment:{s}"] = _codes(values, space.categories[f"segment:{s}"])
    if space.ngrams is not None:
        out.update(space.ngrams.features(log, rows))
    return pd.DataFrame(out, columns=list(space.columns))


def prefix_waits(log: JourneyLog, rows: np.ndarray, active_days: float) -> np.ndarray:
    """Seconds each prefix stands still: from its last event to the next step's first event (after
    a journey's last step: ``active_days``)."""
    steps = log.steps
    journey = steps["journey"].to_numpy()
    last_ts = steps["last_ts"].to_numpy()
    nxt = np.minimum(rows + 1, len(steps) - 1)
    has_next = (rows + 1 < len(steps)) & (journey[nxt] == journey[rows])
    wait = np.where(has_next, steps["first_ts"].to_numpy()[nxt] - last_ts[rows], active_days * SECONDS_PER_DAY)
    return np.maximum(wait, 0.0)


def observation_times(log: JourneyLog, rows: np.ndarray, rng: np.random.Generator, active_days: float) -> np.ndarray:
    """A seeded uniform point while each prefix stands still (see the module docstring)."""
    last_ts = log.steps["last_ts"].to_numpy()
    return last_ts[rows] + rng.random(len(rows)) * prefix_waits(log, rows, active_days)


def time_weights(log: JourneyLog, rows: np.ndarray, active_days: float) -> np.ndarray:
    """Weight of each prefix: the share of its journey's open time (the sum of its prefixes' waits)
    it stands still for, so each journey weighs as one and a prefix as likely as a snapshot at a
    random moment would catch it; 0 for a journey that never stands still."""
    wait = prefix_waits(log, rows, active_days)
    journey = log.steps["journey"].to_numpy()[rows]
    total = pd.Series(wait).groupby(journey).transform("sum").to_numpy()
    return np.divide(wait, total, out=np.zeros_like(wait), where=total > 0)


def cut_at_random_times(log: JourneyLog, rows: np.ndarray, rng: np.random.Generator, active_days: float) -> np.ndarray:
    """One prefix per journey among ``rows`` (ordered by journey), drawn as a snapshot at a seeded
    uniform moment of the journey's open time would catch it (probability ∝ its wait); journeys
    that never stand still are left out."""
    wait = prefix_waits(log, rows, active_days)
    journey = log.steps["journey"].to_numpy()[rows]
    frame = pd.DataFrame({"row": rows, "journey": journey, "wait": wait})
    frame["cum"] = frame.groupby("journey")["wait"].cumsum()
    total = frame.groupby("journey")["cum"].transform("max")
    frame = frame[total > 0]
    totals = frame.groupby("journey", sort=False)["cum"].max()
    moment = pd.Series(rng.random(len(totals)) * totals.to_numpy(), index=totals.index)
    frame = frame[frame["cum"] > frame["journey"].map(moment)]
    return np.sort(frame.drop_duplicates("journey")["row"].to_numpy())


def next_labels(log: JourneyLog, rows: np.ndarray) -> np.ndarray:
    """What came after each prefix: the next step's node name, or how its journey ended."""
    steps = log.steps
    journey = steps["journey"].to_numpy()
    nxt = np.minimum(rows + 1, len(steps) - 1)
    has_next = (rows + 1 < len(steps)) & (journey[nxt] == journey[rows])
    names = pd.Series(steps["node"].to_numpy()[nxt]).map(log.names).to_numpy()
    ends = log.journeys["end"].reindex(journey[rows]).to_numpy()
    return np.where(has_next, names, ends)


def training_rows(log: JourneyLog, journeys: pd.Index | None = None) -> np.ndarray:
    """Steps that end a training prefix: closed journeys (of ``journeys`` when given), before their stop."""
    closed = log.journeys.index[log.journeys["status"] != "open"]
    if journeys is not None:
        closed = closed.intersection(journeys)
    steps = log.steps
    keep = steps["journey"].isin(closed).to_numpy() & steps["before_stop"].to_numpy()
    return np.flatnonzero(keep)


# --------------------------------------------------------------------------- models


class Classifier(Protocol):
    """What the outlook reads of a fitted scikit-learn classifier."""

    classes_: np.ndarray

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray: ...


class IsotonicSteps(Protocol):
    """What :class:`CenteredIsotonic` reads of a fitted ``IsotonicRegression``."""

    X_thresholds_: np.ndarray
    y_thresholds_: np.ndarray


@dataclass(frozen=True)
class CenteredIsotonic:
    """Centred isotonic regression: the isotonic fit's steps replaced by the line through the centre
    of each step. Plain isotonic regression is flat on each step, so hundreds of open journeys with
    different raw scores would share one probability (on the demo, 1,059 open journeys got 29
    values); through the centres the map stays monotone, agrees with the step at its centre, and
    keeps the model's ranking between steps. Below the first centre and above the last it is flat."""

    centres: np.ndarray
    levels: np.ndarray

    @classmethod
    def from_isotonic(cls, isotonic: IsotonicSteps) -> CenteredIsotonic:
        xs = np.asarray(isotonic.X_thresholds_, dtype=float)
        ys = np.asarray(isotonic.y_thresholds_, dtype=float)
        starts = np.flatnonzero(np.r_[True, ys[1:] != ys[:-1]])
        ends = np.r_[starts[1:], len(ys)] - 1
        return cls(centres=(xs[starts] + xs[ends]) / 2, levels=ys[starts])

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(raw, dtype=float), self.centres, self.levels)


@dataclass
class LearnedOutlook:
    """The fitted models and what they were fitted on."""

    space: FeatureSpace
    conversion_model: Classifier
    calibrator: CenteredIsotonic
    next_model: Classifier | None
    next_classes: tuple[str, ...]
    reference: pd.Series
    actions: pd.DataFrame  # node, action, rate, support
    training_prefixes: int
    training_journeys: int
    base_rate: float
    calibration_journeys: int = 0
    conversion_columns: tuple[str, ...] = ()  # the columns of ``x`` each model reads (empty: all)
    next_columns: tuple[str, ...] = ()

    def raw_probability(self, x: pd.DataFrame) -> np.ndarray:
        if self.conversion_columns:
            x = x[list(self.conversion_columns)]
        return self.conversion_model.predict_proba(x)[:, 1]

    def probability(self, x: pd.DataFrame) -> np.ndarray:
        """Calibrated probability, kept within ``[1/(n+2), (n+1)/(n+2)]`` for ``n`` calibration
        journeys: isotonic regression returns 0 or 1 where a slice of them all ended one way, and no
        finite sample makes an open journey certain."""
        n = max(self.calibration_journeys, 1)
        p = self.calibrator.predict(self.raw_probability(x))
        return np.clip(p, 1 / (n + 2), (n + 1) / (n + 2))

    def next_probabilities(self, x: pd.DataFrame) -> pd.DataFrame:
        """Probability of each next node (columns), ``(other)`` left out."""
        if self.next_model is None:
            return pd.DataFrame({self.next_classes[0]: np.ones(len(x))})
        if self.next_columns:
            x = x[list(self.next_columns)]
        p = self.next_model.predict_proba(x.fillna(MISSING))
        frame = pd.DataFrame(p, columns=list(self.next_model.classes_))
        return frame.drop(columns=[OTHER_CLASS], errors="ignore")


def _classifier(
    space: FeatureSpace, iterations: int, leaves: int = 31, rate: float = 0.1, columns: tuple[str, ...] | None = None
):
    from sklearn.ensemble import HistGradientBoostingClassifier

    mask = [c in space.categorical for c in (columns if columns is not None else space.columns)]
    return HistGradientBoostingClassifier(
        max_iter=iterations,
        learning_rate=rate,
        max_leaf_nodes=leaves,
        min_samples_leaf=20,
        categorical_features=mask,
        early_stopping=False,
        random_state=0,
    )


def _next_classifier():
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=NEXT_TREES, max_depth=14, min_samples_leaf=5, max_features=0.3, n_jobs=1, random_state=0
    )


def fit_learned(
    log: JourneyLog,
    *,
    journeys: pd.Index | None = None,
    active_days: float = 30,
    seed: int = 0,
    fit_next: bool = True,
    goal_names: frozenset[str] = frozenset(),
) -> LearnedOutlook:
    """Fit the conversion and next-node models on the closed journeys (of ``journeys``), see the
    module docstring. Raises :class:`NotEnoughDataError` when there is too little to learn from."""
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(seed)
    rows = training_rows(log, journeys)
    jt = log.journeys
    steps = log.steps
    journey_of = steps["journey"].to_numpy()[rows]
    trained = jt.loc[np.unique(journey_of)]
    converted = trained["status"].eq("converted")
    if len(trained) < MIN_TRAINING_JOURNEYS or min(converted.sum(), (~converted).sum()) < MIN_PER_CLASS:
        raise NotEnoughDataError(
            f"too few closed journeys to learn from: {len(trained):,} ({int(converted.sum()):,} converted); "
            f"the learned model needs {MIN_TRAINING_JOURNEYS} with at least {MIN_PER_CLASS} converted and "
            f"{MIN_PER_CLASS} not"
        )
    # Each journey weighs as one, its prefixes by the time they stand still (module docstring): the
    # training prefixes are drawn with replacement in proportion to that weight.
    all_rows = rows
    all_weight = time_weights(log, rows, active_days)
    size = min(MAX_TRAINING_PREFIXES, max(len(rows), 1))
    rows = np.sort(rng.choice(rows, size, replace=True, p=all_weight / all_weight.sum()))
    journey_of = steps["journey"].to_numpy()[rows]
    observed = observation_times(log, rows, rng, active_days)
    prefixes = steps.iloc[rows]
    labels = next_labels(log, rows)
    counts = pd.Series(labels).value_counts()
    keep = set(counts[counts >= MIN_CLASS_COUNT].index)
    pooled = np.array([lab if lab in keep else OTHER_CLASS for lab in labels], dtype=object)
    space = feature_space(log, prefixes)
    base_columns = space.columns
    if NGRAM_NEXT or NGRAM_CONVERSION:
        # The suffix's n-gram evidence, from every training prefix; for the rows the models are
        # fitted on, out of fold (counted without their own journey's fold), so no row sees itself.
        all_journey = steps["journey"].to_numpy()[all_rows]
        all_labels = next_labels(log, all_rows)
        all_converted = jt["status"].reindex(all_journey).eq("converted").to_numpy().astype(float)
        ngram_classes = tuple(sorted(keep))
        ngrams = fit_ngrams(log, all_rows, all_labels, all_converted, all_weight, ngram_classes)
        extra = (*ngrams.next_columns, *ngrams.conversion_columns)
        groups = dict(space.groups)
        if NGRAM_CONVERSION:
            groups["last_node"] = ("last_node", *ngrams.conversion_columns)
        space = replace(space, ngrams=ngrams, columns=(*space.columns, *extra), groups=groups)
        fold_of = pd.Series(rng.integers(0, NGRAM_FOLDS, len(trained)), index=trained.index)
        all_fold = fold_of.reindex(all_journey).to_numpy()
        fold = fold_of.reindex(journey_of).to_numpy()
        oof = {c: np.zeros(len(rows)) for c in extra}
        for f in range(NGRAM_FOLDS):
            out_f = all_fold != f
            part = fit_ngrams(
                log, all_rows[out_f], all_labels[out_f], all_converted[out_f], all_weight[out_f], ngram_classes
            )
            mine = fold == f
            for c, v in part.features(log, rows[mine]).items():
                oof[c][mine] = v
    x = prefix_features(log, space, rows, observed)
    if space.ngrams is not None:
        for c, v in oof.items():
            x[c] = v
    conversion_columns = base_columns + (space.ngrams.conversion_columns if space.ngrams and NGRAM_CONVERSION else ())
    next_columns = base_columns + (space.ngrams.next_columns if space.ngrams and NGRAM_NEXT else ())
    y = jt["status"].reindex(journey_of).eq("converted").to_numpy().astype(int)
    # Calibration on the later journeys by start (what the model will meet next).
    order = trained.sort_values(["start_ts"]).index
    cut = int(len(order) * (1 - CALIBRATION_SHARE))
    late = np.isin(journey_of, order[cut:])
    if min(y[late].sum(), (1 - y[late]).sum()) == 0 or min(y[~late].sum(), (1 - y[~late]).sum()) == 0:
        late = rng.random(len(rows)) < CALIBRATION_SHARE  # one class only in a slice: a random slice
    weight = np.ones(len(rows))
    xc = x[list(conversion_columns)]
    model = _classifier(space, CONVERSION_ITERATIONS, columns=conversion_columns)
    model.fit(xc[~late], y[~late], sample_weight=weight[~late])
    isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    isotonic.fit(model.predict_proba(xc[late])[:, 1], y[late], sample_weight=weight[late])
    calibrator = CenteredIsotonic.from_isotonic(isotonic)

    next_model = None
    classes = tuple(sorted(set(pooled)))
    if fit_next and len(set(pooled)) > 1:
        next_model = _next_classifier().fit(x[list(next_columns)].fillna(MISSING), pooled)
        classes = tuple(next_model.classes_)

    # Similar journeys: prefixes on the same node; their conversion rate by the node they moved to.
    node_names = prefixes["node"].map(log.names).to_numpy()
    moves = pd.DataFrame(
        {"node": node_names, "action": labels, "journey": journey_of, "converted": y * weight, "weight": weight}
    )
    actions = moves.groupby(["node", "action"]).agg(
        converted=("converted", "sum"), weight=("weight", "sum"), support=("journey", "nunique")
    )
    actions = actions.reset_index()
    actions["rate"] = actions["converted"] / actions["weight"]
    actions = actions[actions["node"] != actions["action"]]
    actions = actions[~actions["action"].isin(goal_names)]
    reference = x.median(numeric_only=True)
    for c in space.categorical:
        mode = x[c].mode(dropna=True)
        reference[c] = mode.iloc[0] if len(mode) else np.nan
    return LearnedOutlook(
        space=space,
        conversion_model=model,
        calibrator=calibrator,
        next_model=next_model,
        next_classes=classes,
        reference=reference,
        actions=actions,
        training_prefixes=len(rows),
        training_journeys=len(trained),
        base_rate=float(converted.mean()),
        calibration_journeys=int(len(np.unique(journey_of[late]))),
        conversion_columns=conversion_columns,
        next_columns=next_columns,
    )


def best_actions(
    learned: LearnedOutlook, node: str, min_support: int, allowed: tuple[str, ...] | None, ends: frozenset[str]
) -> tuple[str | None, float, float, int]:
    """``(action, NaN, rate after it, support)`` for a journey standing on ``node`` (module docstring):
    the lift is the rate after it − the journey's own probability, taken by the caller."""
    a = learned.actions
    a = a[(a["node"] == node) & (a["support"] >= min_support) & ~a["action"].isin(ends)]
    if allowed is not None:
        a = a[a["action"].isin(allowed)]
    if a.empty:
        return None, float("nan"), float("nan"), 0
    best = a.sort_values(["rate", "support", "action"], ascending=[False, False, True]).iloc[0]
    return str(best["action"]), float("nan"), float(best["rate"]), int(best["support"])


# --------------------------------------------------------------------------- factors


def _days(value: float) -> str:
    if value < 1:
        hours = value * 24
        return f"{hours:.0f} hour{'s' if round(hours) != 1 else ''}"
    shown = f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
    return f"{shown} day{'s' if shown != '1' else ''}"


def _times(n: int) -> str:
    return "once" if n == 1 else ("twice" if n == 2 else f"{n} times")


def factor_words(feature: str, value: float, log: JourneyLog, space: FeatureSpace) -> str:
    """A feature's value in words ("3 people of the buying committee involved", "41 days since the last event")."""
    if feature.startswith("visits:"):
        name = log.names.get(int(feature.split(":", 1)[1]), feature)
        n = int(value)
        return f"{name} not visited yet" if n == 0 else f"{name} visited {_times(n)}"
    if feature in ("last_node", "node_before", "node_two_before", "last_channel") or feature.startswith("segment:"):
        key = "last_node" if feature in ("node_before", "node_two_before") else feature
        inverse = {v: k for k, v in space.categories[key].items()}
        raw = inverse.get(int(value)) if not np.isnan(value) else None
        if feature == "last_channel":
            text = log.channel_names.get(int(cast(SupportsInt, raw)), str(raw)) if raw is not None else "no channel"
            return f"last reached by {text}"
        if feature.startswith("segment:"):
            return f"{feature.removeprefix('segment:')}: {raw if raw is not None else 'other'}"
        name = log.names.get(int(cast(SupportsInt, raw)), str(raw)) if raw is not None else "a rare touchpoint"
        where = {"last_node": "stands on", "node_before": "came from", "node_two_before": "two steps back:"}[feature]
        return f"{where} {name}" if not np.isnan(value) else f"{where} nothing (first step)"
    n = int(round(value)) if not np.isnan(value) else 0
    return {
        "steps": f"{n} step{'s' if n != 1 else ''} so far",
        "events": f"{n} event{'s' if n != 1 else ''} so far",
        "days_since_start": f"{_days(value)} since the start",
        "days_since_last_event": f"{_days(value)} since the last event",
        "days_between_last_steps": f"{_days(value)} between the last two steps" if not np.isnan(value) else "one step",
        "contacts": f"{n} {'person' if n == 1 else 'people'} of the buying committee involved",
        "roles": f"{n} role{'s' if n != 1 else ''} of the buying committee involved",
        "channels": f"{n} channel{'s' if n != 1 else ''} used",
        "value": f"value so far {value:,.0f}" if not np.isnan(value) else "no value so far",
    }.get(feature, f"{feature}: {value:g}")


def compute_factors(learned: LearnedOutlook, x: pd.DataFrame, log: JourneyLog) -> list[list[dict[str, object]]]:
    """Per row of ``x``: up to ``FACTORS_SHOWN`` factors ``{"factor": words, "effect": points as a
    fraction}``, largest ``|effect|`` first (module docstring)."""
    if x.empty:
        return []
    base = learned.probability(x)
    names = list(learned.space.groups)
    swapped = []
    for group in names:
        y = x.copy()
        for c in learned.space.groups[group]:
            y[c] = learned.reference.get(c, np.nan)
        swapped.append(y)
    probs = learned.probability(pd.concat(swapped, ignore_index=True)).reshape(len(names), len(x))
    effects = base[None, :] - probs
    out = []
    for i in range(len(x)):
        order = np.argsort(-np.abs(effects[:, i]), kind="stable")
        picked = []
        for g in order[:FACTORS_SHOWN]:
            if abs(effects[g, i]) < MIN_FACTOR_EFFECT:
                break
            words = factor_words(names[g], float(x.iloc[i][names[g]]), log, learned.space)
            picked.append({"factor": words, "effect": round(float(effects[g, i]), 6)})
        out.append(picked)
    return out


def factors_text(factors: list[dict[str, object]]) -> str:
    """``"41 days since the last event (−12.3 points); ..."``"""
    parts = []
    for f in factors:
        points = float(cast(SupportsFloat, f["effect"])) * 100
        parts.append(f"{f['factor']} ({'+' if points >= 0 else '−'}{abs(points):.1f} points)")
    return "; ".join(parts)


__all__ = [
    "JourneyLog",
    "LearnedOutlook",
    "best_actions",
    "collapse_steps",
    "compute_factors",
    "factor_words",
    "factors_text",
    "feature_space",
    "fit_learned",
    "next_labels",
    "cut_at_random_times",
    "observation_times",
    "prefix_waits",
    "time_weights",
    "prefix_features",
    "training_rows",
]
