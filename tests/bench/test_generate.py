"""The benchmark's log generator: seeded, exact size, B2B structure, ties, loops."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.generate import ACTIVITIES, ROLES, STAGES, format_size, generate, parse_size, transition_matrix


def test_same_seed_same_log_other_seed_other_log():
    a, b, c = generate(2000, 5).frame, generate(2000, 5).frame, generate(2000, 6).frame
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


@pytest.mark.parametrize("events", [1, 999, 5000])
def test_exact_number_of_events(events):
    assert len(generate(events, 1).frame) == events


def test_b2b_structure_ties_and_loops():
    log = generate(20_000, 3)
    f = log.frame
    assert set(f["activity"].unique()) <= set(ACTIVITIES)
    assert set(f["role"].unique()) <= set(ROLES)
    # A contact belongs to one account and keeps one role; accounts hold several contacts.
    assert (f.groupby("journey_id", observed=True)["account_id"].nunique() == 1).all()
    assert (f.groupby("journey_id", observed=True)["role"].nunique() == 1).all()
    assert f.groupby("account_id", observed=True)["journey_id"].nunique().max() > 1
    # Rows are in timestamp order (an export sorted by time).
    assert f["timestamp"].is_monotonic_increasing
    # Ties inside journeys exist (file order decides them), and some journeys go back a stage.
    s = f.sort_values(["journey_id", "timestamp"], kind="stable")
    assert s.duplicated(["journey_id", "timestamp"]).mean() > 0.02
    rank = {name: i for i, (name, _) in enumerate(STAGES)}
    r = s["stage"].map(rank).astype(int)
    back = (r.diff() < 0) & (s["journey_id"] == s["journey_id"].shift())
    assert back.sum() > 100
    # The outcome is per account; won accounts signed.
    per_account = f.groupby("account_id", observed=True)["outcome"].nunique()
    assert (per_account == 1).all()
    won = set(f.loc[f["outcome"] == "won", "account_id"])
    signed = set(f.loc[f["activity"] == "Contract signed", "account_id"])
    assert won == signed


def test_transition_matrix_is_stochastic():
    p = transition_matrix()
    assert p.shape == (len(ACTIVITIES), len(ACTIVITIES) + 1)
    assert (p >= 0).all() and abs(p.sum(axis=1) - 1).max() < 1e-12


def test_sizes_parse_and_format():
    assert parse_size("100k") == 100_000 and parse_size("5M") == 5_000_000 and parse_size("2500") == 2500
    assert format_size(1_000_000) == "1M" and format_size(100_000) == "100k"
    with pytest.raises(ValueError):
        parse_size("1.5")
