"""Paths: the variants of journeys (their whole sequence of nodes), with counts, share and conversion.

Semantics
- A journey's path is its sequence of nodes from :func:`analytics.journeys.journey_steps` (the
  query's level, filters, node and repeats). The product default is the stage level with repeats
  collapsed, since touchpoint-level variants explode on real data; the query decides.
- ``journeys``: journeys with exactly that path; ``share``: that over all journeys of the query;
  ``conversion_rate``: the share of those journeys that reach ``goal`` (a touchpoint or stage name,
  anywhere in the journey, see :func:`analytics.journeys.reaching`); empty without a goal.
- Order: journeys descending, then the path's names joined with " > " (stable ties).
- ``distinct_paths`` and ``total_journeys`` repeat on every row: the number of distinct paths and
  of journeys before the ``top`` cut. With ``include_other`` a last row ``OTHER_PATHS`` adds up every
  variant below the cut (its ``path`` is empty).
"""

from __future__ import annotations

import ibis
import pandas as pd
from ibis.expr.types import Table

from analytics.engine import execute
from analytics.journeys import JOURNEY, NODE, NODE_CODE, POSITION, JourneyQuery, journey_steps, reaching
from analytics.schema import EventSchema
from analytics.transitions import load_labels

PATH_SEPARATOR = " > "
OTHER_PATHS = "Other paths"
VARIANT_COLUMNS = ["path", "path_label", "journeys", "share", "conversion_rate", "distinct_paths", "total_journeys"]


def journey_paths(events: Table, schema: EventSchema, query: JourneyQuery = JourneyQuery()) -> Table:
    """One row per journey: ``journey`` and ``path`` (array of node codes in step order)."""
    s = journey_steps(events, schema, query, columns=(), labelled=False, numbered=False)
    # (position, node) pairs sorted, then the nodes: an ordered path without an ordered aggregate
    # (which Spark does not have).
    pairs = s.group_by(JOURNEY).aggregate(_pairs=ibis.struct({"p": s[POSITION], "n": s[NODE_CODE]}).collect())
    return pairs.select(JOURNEY, path=pairs._pairs.sort().map(lambda x: x.n))


def compute_variants(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    goal: str | None = None,
    top: int | None = 20,
    include_other: bool = False,
) -> pd.DataFrame:
    """Top variants: ``path`` (tuple of names), ``path_label``, ``journeys``, ``share``,
    ``conversion_rate``, ``distinct_paths``, ``total_journeys``. Exact semantics in the module docstring."""
    p = journey_paths(events, schema, query)
    if goal is not None:
        conv = reaching(events, schema, query, (goal,)).select(JOURNEY, _conv=ibis.literal(1))
        p = p.left_join(conv, JOURNEY).select(JOURNEY, "path", _conv=ibis._._conv.fill_null(0))
    else:
        p = p.mutate(_conv=ibis.literal(0))
    g = p.group_by("path").aggregate(journeys=p.count(), converted=p._conv.sum())
    everything = ibis.window()
    g = g.mutate(
        distinct_paths=g.count().over(everything),
        total_journeys=g.journeys.sum().over(everything),
        total_converted=g.converted.sum().over(everything),
    )
    if top is not None:
        # Rank with ties sharing a rank: every variant tied at the cut comes back, and the tie is
        # broken by the path's names below (codes order differently from names).
        g = g.mutate(_rank=ibis.rank().over(order_by=ibis.desc("journeys")))
        g = g.filter(g._rank < top).drop("_rank")
    coded = execute(g)
    columns = VARIANT_COLUMNS
    if coded.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    names = dict(zip(*_label_columns(load_labels(events, schema, query)), strict=False))
    coded["path"] = coded["path"].map(lambda codes: tuple(names[int(c)] for c in codes))
    coded["path_label"] = coded["path"].map(PATH_SEPARATOR.join)
    coded = coded.sort_values(["journeys", "path_label"], ascending=[False, True], kind="stable")
    if top is not None:
        coded = coded.head(top)
    total = int(coded["total_journeys"].iloc[0])
    distinct = int(coded["distinct_paths"].iloc[0])
    out = pd.DataFrame(
        {
            "path": coded["path"],
            "path_label": coded["path_label"],
            "journeys": coded["journeys"].astype("int64"),
            "share": coded["journeys"] / total,
            "conversion_rate": (coded["converted"] / coded["journeys"]) if goal is not None else float("nan"),
            "distinct_paths": distinct,
            "total_journeys": total,
        }
    )
    if include_other and len(out) < distinct:
        rest = total - int(out["journeys"].sum())
        converted_rest = None
        if goal is not None:
            converted_rest = int(coded["total_converted"].iloc[0]) - int(coded["converted"].sum())
        other = {
            "path": (),
            "path_label": f"{OTHER_PATHS} ({distinct - len(out):,})",
            "journeys": rest,
            "share": rest / total,
            "conversion_rate": (converted_rest / rest) if converted_rest is not None and rest else float("nan"),
            "distinct_paths": distinct,
            "total_journeys": total,
        }
        out = pd.concat([out, pd.DataFrame([other])], ignore_index=True)
    return out[columns].reset_index(drop=True)


def _label_columns(labels: pd.DataFrame) -> tuple[list[int], list[str]]:
    return labels[NODE_CODE].astype(int).tolist(), labels[NODE].tolist()
