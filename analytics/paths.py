"""Paths: the variants of journeys (their whole sequence of nodes), with counts, share and conversion.

Semantics
- A journey's path is its sequence of nodes from :func:`analytics.journeys.journey_steps` (the
  query's level, filters, node and repeats). The product default is the stage level with repeats
  collapsed, since touchpoint-level variants explode on real data; the query decides.
- ``journeys``: journeys with exactly that path; ``share``: that over all journeys of the query;
  ``conversion_rate``: the share of those journeys that convert (``conversion``, the dataset's
  definition: see :mod:`analytics.conversion`; a property of the journey, the same at every level);
  empty when conversion is not defined.
- Order: journeys descending, then the path's names joined with " > " (stable ties).
- ``distinct_paths`` and ``total_journeys`` repeat on every row: the number of distinct paths and
  of journeys before the ``top`` cut. With ``include_other`` a last row ``OTHER_PATHS`` adds up every
  variant below the cut (its ``path`` is empty).
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from ibis.expr.types import Table

from analytics.conversion import NOT_DEFINED, Conversion, converted_journeys
from analytics.engine import execute, execute_arrow, runs_on_duckdb
from analytics.journeys import (
    JOURNEY,
    NODE,
    NODE_CODE,
    POSITION,
    STEP,
    JourneyQuery,
    journey_arrays,
    journey_steps,
    load_labels,
    stored_steps,
)
from analytics.schema import EventSchema

PATH_SEPARATOR = " > "
OTHER_PATHS = "Other paths"
VARIANT_COLUMNS = ["path", "path_label", "journeys", "share", "conversion_rate", "distinct_paths", "total_journeys"]


# A path of up to KEY_SLOTS × (63 // bits per node code) steps is packed exactly into KEY_SLOTS
# integers (``_k0``...): grouping journeys by a few integers is several times faster than collecting,
# sorting and grouping arrays. Longer paths (few) are grouped by their array of codes.
KEY_SLOTS = 4
KEYS = tuple(f"_k{i}" for i in range(KEY_SLOTS))


def _arrays(s: Table) -> Table:
    """One row per journey of the steps ``s``: ``journey`` and ``path`` (array of node codes in step order)."""
    # (position, node) pairs sorted, then the nodes: an ordered path without an ordered aggregate
    # (which Spark does not have).
    pairs = s.group_by(JOURNEY).aggregate(_pairs=ibis.struct({"p": s[POSITION], "n": s[NODE_CODE]}).collect())
    return pairs.select(JOURNEY, path=pairs._pairs.sort().map(lambda x: x.n))


def _bits(max_code: int) -> int:
    """Bits per packed node: codes are stored plus one, so 0 marks an empty slot."""
    return max(1, int(max_code + 1).bit_length())


def packed_paths(events: Table, schema: EventSchema, query: JourneyQuery, max_code: int) -> Table:
    """One row per journey: ``journey``, the path packed into ``_k0``... (``(code + 1) << (bits ×
    slot)``, summed: slots never overlap, so the keys are exact) and ``path`` (the array of codes)
    only for a journey too long to pack (its keys are 0, which no packed path has)."""
    bits = _bits(max_code)
    per_key = 63 // bits
    s = journey_steps(events, schema, query, columns=(), labelled=False)
    step = s[STEP]
    code = s[NODE_CODE].cast("int64") + 1
    keys = {
        name: ibis.ifelse((step // per_key) == i, code << ((step % per_key) * bits), ibis.literal(0, "int64")).sum()
        for i, name in enumerate(KEYS)
    }
    packed = s.group_by(JOURNEY).aggregate(_n=s.count(), **keys)
    capacity = per_key * KEY_SLOTS
    short = packed.filter(packed._n <= capacity)
    short = short.select(JOURNEY, *KEYS, path=ibis.null("array<int32>"))
    long_ids = packed.filter(packed._n > capacity).select(JOURNEY)
    long = _arrays(s.filter(s[JOURNEY].isin(long_ids[JOURNEY])))
    # Keys of 0, not null: a backend may hand back an integer column with nulls as floats, which
    # cannot hold a 63-bit key exactly.
    long = long.select(JOURNEY, *[ibis.literal(0, "int64").name(k) for k in KEYS], path=long.path.cast("array<int32>"))
    return short.union(long, distinct=False)


def unpack_path(keys: list[int | None], max_code: int) -> tuple[int, ...]:
    """The node codes packed by :func:`packed_paths`."""
    bits = _bits(max_code)
    per_key, mask = 63 // bits, (1 << bits) - 1
    codes: list[int] = []
    for key in keys:
        value = int(key or 0)
        for _ in range(per_key):
            slot = value & mask
            if slot == 0:
                return tuple(codes)
            codes.append(slot - 1)
            value >>= bits
    return tuple(codes)


def compute_variants(
    events: Table,
    schema: EventSchema,
    query: JourneyQuery = JourneyQuery(),
    *,
    conversion: Conversion = NOT_DEFINED,
    top: int | None = 20,
    include_other: bool = False,
) -> pd.DataFrame:
    """Top variants: ``path`` (tuple of names), ``path_label``, ``journeys``, ``share``,
    ``conversion_rate``, ``distinct_paths``, ``total_journeys``. Exact semantics in the module docstring."""
    labels = load_labels(events, schema, query)
    codes, names_ = _label_columns(labels)
    max_code = max(codes, default=0)
    coded = _stored_variants(events, schema, query, conversion, max_code, top)
    if coded is None:
        coded = execute(_variants_query(events, schema, query, conversion, max_code, top))
    columns = VARIANT_COLUMNS
    if coded.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    names = dict(zip(codes, names_, strict=False))
    paths = [
        tuple(array) if array is not None and not _is_na(array) else unpack_path(list(keys), max_code)
        for array, *keys in zip(coded["path"], *(coded[k] for k in KEYS), strict=True)
    ]
    coded["path"] = [tuple(names[int(c)] for c in path) for path in paths]
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
            "conversion_rate": (coded["converted"] / coded["journeys"]) if conversion.defined else float("nan"),
            "distinct_paths": distinct,
            "total_journeys": total,
        }
    )
    if include_other and len(out) < distinct:
        rest = total - int(out["journeys"].sum())
        converted_rest = None
        if conversion.defined:
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


def _stored_variants(
    events: Table, schema: EventSchema, query: JourneyQuery, conversion: Conversion, max_code: int, top: int | None
) -> pd.DataFrame | None:
    """What :func:`_variants_query` returns, counted with numpy from one read of the stored steps
    where they are the query's steps (:func:`analytics.journeys.stored_steps`, on DuckDB); else
    None. The rows come by journey and in order, so a journey's packed keys are sums over its run of
    rows, the same sums as the query's; journeys too long to pack are grouped by their codes."""
    s = stored_steps(events, query)
    if s is None or not runs_on_duckdb(events):
        return None
    steps = execute_arrow(s.select(JOURNEY, POSITION, NODE_CODE))
    journey, node = journey_arrays(steps, NODE_CODE)
    starts = np.flatnonzero(np.concatenate(([True], journey[1:] != journey[:-1]))) if len(journey) else journey
    lengths = np.diff(np.append(starts, len(journey)))
    step = np.arange(len(journey)) - np.repeat(starts, lengths)
    bits = _bits(max_code)
    per_key = 63 // bits
    packed = (node.astype(np.int64) + 1) << ((step % per_key) * bits).astype(np.int64)
    slot = step // per_key
    frame = pd.DataFrame(
        {
            key: np.add.reduceat(np.where(slot == i, packed, 0), starts) if len(starts) else []
            for i, key in enumerate(KEYS)
        },
        dtype="int64",
    )
    frame["converted"] = 0
    if conversion.defined and len(starts):
        won = execute_arrow(converted_journeys(events, schema, query, conversion).select(JOURNEY))
        frame["converted"] = np.isin(journey[starts], won.column(JOURNEY).to_numpy()).astype("int64")
    long = lengths > per_key * KEY_SLOTS
    # Most paths fill only the first key: those are grouped on it alone (one hash of one column).
    one_key = ~long & ~frame[list(KEYS[1:])].to_numpy().any(axis=1)
    codes, firsts = pd.factorize(frame[KEYS[0]].to_numpy()[one_key])
    g = pd.DataFrame(
        {
            **{key: (firsts if i == 0 else 0) for i, key in enumerate(KEYS)},
            "journeys": np.bincount(codes, minlength=len(firsts)),
            "converted": np.bincount(codes, frame["converted"].to_numpy()[one_key], minlength=len(firsts)),
        }
    ).astype("int64")
    several = frame[~long & ~one_key]
    if len(several):
        g_several = several.groupby(list(KEYS), sort=False).agg(
            journeys=("converted", "size"), converted=("converted", "sum")
        )
        g = pd.concat([g, g_several.reset_index()], ignore_index=True)
    g = g.assign(path=None)
    if long.any():
        paths: dict[tuple[int, ...], list[int]] = {}
        for start, length, won_ in zip(starts[long], lengths[long], frame["converted"][long], strict=True):
            counts = paths.setdefault(tuple(int(c) for c in node[start : start + length]), [0, 0])
            counts[0] += 1
            counts[1] += int(won_)
        rows = [{**dict.fromkeys(KEYS, 0), "journeys": n, "converted": c, "path": p} for p, (n, c) in paths.items()]
        g = pd.concat([g, pd.DataFrame(rows)], ignore_index=True)
    g = g.assign(
        distinct_paths=len(g), total_journeys=int(g["journeys"].sum()), total_converted=int(g["converted"].sum())
    )
    if top is not None and len(g):
        # The query's rank: how many variants have more journeys (ties share it).
        more = np.searchsorted(np.sort(-g["journeys"].to_numpy()), -g["journeys"].to_numpy(), side="left")
        g = g[more < top]
    return g.reset_index(drop=True)


def _variants_query(
    events: Table, schema: EventSchema, query: JourneyQuery, conversion: Conversion, max_code: int, top: int | None
) -> Table:
    """The variants coded (packed keys or ``path``; ``journeys``, ``converted``, ``distinct_paths``,
    ``total_journeys``, ``total_converted``), the top ``top`` with their ties, as one query."""
    p = packed_paths(events, schema, query, max_code)
    if conversion.defined:
        conv = converted_journeys(events, schema, query, conversion).select(JOURNEY, _conv=ibis.literal(1))
        p = p.left_join(conv, JOURNEY).select(JOURNEY, *KEYS, "path", _conv=ibis._._conv.fill_null(0))
    else:
        p = p.mutate(_conv=ibis.literal(0))
    g = p.group_by([*KEYS, "path"]).aggregate(journeys=p.count(), converted=p._conv.sum())
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
    return g


def _label_columns(labels: pd.DataFrame) -> tuple[list[int], list[str]]:
    return labels[NODE_CODE].astype(int).tolist(), labels[NODE].tolist()


def _is_na(value: object) -> bool:
    return not hasattr(value, "__len__") and pd.isna(value)
