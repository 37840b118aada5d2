"""``engine.quantiles_of`` gives what Ibis's ``quantile`` gives on the same column, exactly."""

from __future__ import annotations

import ibis
import numpy as np
import pyarrow as pa
import pytest

from analytics import engine


def _ibis_quantile(values: list[float | None], q: float) -> float | None:
    table = ibis.memtable(pa.table({"x": pa.array(values, pa.float64())}))
    return engine.execute_scalar(table.x.quantile(q))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_ibis_quantile_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    values = [None if rng.random() < 0.2 else float(v) for v in rng.exponential(5000.0, n)]
    if all(v is None for v in values):
        values[0] = 1.5
    wanted = {f"q{q}": ("x", q) for q in (0.0, 0.1, 0.25, 0.5, 0.9, 1.0)}
    got = engine.quantiles_of(pa.table({"x": pa.array(values, pa.float64())}), wanted)
    assert list(got) == list(wanted)
    for name, (_, q) in wanted.items():
        expected = _ibis_quantile(values, q)
        assert got[name] == expected, (name, got[name], expected)


def test_several_columns_and_an_empty_one() -> None:
    table = pa.table(
        {
            "a": pa.array([1.0, 2.0, 3.0, 4.0]),
            "b": pa.array([None, None, None, None], pa.float64()),
            'odd "name"': pa.array([10.0, 20.0, 30.0, 40.0]),
        }
    )
    got = engine.quantiles_of(table, {"a50": ("a", 0.5), "b50": ("b", 0.5), "odd": ('odd "name"', 0.25)})
    assert got == {"a50": 2.5, "b50": None, "odd": 17.5}


def test_nothing_wanted_is_nothing() -> None:
    assert engine.quantiles_of(pa.table({"a": [1.0]}), {}) == {}


@pytest.mark.parametrize("wanted", [{"m": ("missing", 0.5)}, {"m": ("a", 1.5)}, {"m": ("a", -0.1)}])
def test_refuses_an_unknown_column_or_a_quantile_outside_0_1(wanted) -> None:
    with pytest.raises(ValueError, match="no quantile"):
        engine.quantiles_of(pa.table({"a": [1.0, 2.0]}), wanted)
