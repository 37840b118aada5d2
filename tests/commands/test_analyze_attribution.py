"""`python cli.py analyze --report attribution|outlook` on a stored dataset."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

import cli
from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from services import analysis
from services.context import open_context
from tests.factories_attribution import create_stored_dataset, funnel_log

WON = Conversion(goals=("Closed won",), lost_goals=("Closed lost",))


@pytest.fixture
def dataset_id(engine) -> int:
    return create_stored_dataset(funnel_log(), name="Funnel log")


def _json(capsys, *argv: str):
    assert cli.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_attribution_report_json(capsys, dataset_id):
    rows = _json(
        capsys, "analyze", "--dataset", str(dataset_id), "--report", "attribution", "--goal", "Closed won",
        "--lost", "Closed lost",
    )  # fmt: skip
    expected = analysis.run("attribution", open_context(dataset_id, conversion=WON))
    assert [set(r) for r in rows][0] == {
        "touchpoint", "first_touch", "last_touch", "linear", "position_based", "removal_effect", "markov",
        "journeys", "conversion",
    }  # fmt: skip
    assert rows[0]["conversion"] == "reaching Closed won; lost: reaching Closed lost"
    assert [r["touchpoint"] for r in rows] == expected.table["touchpoint"].tolist()
    for model in ("first_touch", "last_touch", "linear", "position_based", "markov"):
        assert sum(r[model] for r in rows) == pytest.approx(expected.conversions, abs=1e-5)
    assert all(0 <= r["removal_effect"] <= 1 for r in rows)


def test_attribution_report_by_channel_at_account_level(capsys, dataset_id):
    rows = _json(
        capsys, "analyze", "--dataset", str(dataset_id), "--report", "attribution", "--goal", "Closed won",
        "--by", "channel", "--level", "account",
    )  # fmt: skip
    expected = analysis.run(
        "attribution",
        open_context(dataset_id, query=JourneyQuery(level="account"), conversion=Conversion(goals=("Closed won",))),
        by="channel",
    )
    assert {r["channel"]: r["markov"] for r in rows} == pytest.approx(
        expected.table.set_index("channel")["markov"].round(6).to_dict()
    )


def test_outlook_report_json_and_csv(capsys, dataset_id, monkeypatch):
    argv = ["analyze", "--dataset", str(dataset_id), "--report", "outlook", "--goal", "Closed won"]
    argv += ["--lost", "Closed lost", "--as-of", "2024-02-20", "--min-transitions", "1"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr()
    rows = json.loads(printed.out)
    expected = analysis.run(
        "outlook", open_context(dataset_id, conversion=WON), as_of=pd.Timestamp("2024-02-20").date(), min_transitions=1
    )
    assert set(rows[0]) == {
        "rank", "journey", "last_touchpoint", "last_timestamp", "steps", "conversion_probability",
        "markov_probability", "next_touchpoints", "next_best_action", "lift", "probability_after_action",
        "support", "factors", "model", "conversion",
    }  # fmt: skip
    for row in rows:
        assert all(set(n) == {"touchpoint", "probability"} for n in row["next_touchpoints"])
        assert all(set(f) == {"factor", "effect"} for f in row["factors"])
    # The test log is too small to learn from: the chain stands in, and says so on stderr.
    assert {r["model"] for r in rows} == {"markov"}
    assert "the Markov chain is shown: too few closed journeys to learn from" in printed.err
    assert [r["journey"] for r in rows] == expected.table["journey_key"].tolist()
    with_action = [r for r in rows if r["next_best_action"] is not None]
    assert with_action and all(r["lift"] > 0 for r in with_action)

    buffer = io.BytesIO()
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(buffer, encoding="utf-8"))
    assert cli.main([*argv, "--format", "csv"]) == 0
    text = buffer.getvalue().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("rank,journey_key,conversion_probability,last_touchpoint")
    assert len(text.strip().splitlines()) == len(rows) + 1
    # The JSON carries every column of the CSV (before: rank, steps, last_timestamp and the
    # probability after the action were in the CSV only).
    header = text.splitlines()[0].split(",")
    said = {"journey_key": "journey", "next_touchpoints": "next_touchpoints", "factors": "factors"}
    assert {said.get(c, c) for c in header} <= set(rows[0])


def test_reports_need_a_definition_and_name_bad_ones(capsys, dataset_id):
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "attribution"]) == 2
    said = capsys.readouterr().err  # the one wording of the refusal, with how to define it here
    assert (
        f"the attribution report of dataset {dataset_id} needs conversion defined: goal nodes or outcome values" in said
    )
    assert f"(python cli.py conversion set --dataset {dataset_id} --goal" in said
    # The backtest too (before: "the backtest needs conversion defined", without the dataset or the way to it).
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "outlook-backtest"]) == 2
    said = capsys.readouterr().err
    assert f"the outlook-backtest report of dataset {dataset_id} needs conversion defined" in said
    assert f"(python cli.py conversion set --dataset {dataset_id} --goal" in said
    # A channel filter keeps events, not journeys: said beside the numbers it moves.
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--goal", "Closed won", "--filter-channel", "web"]) == 0
    said = capsys.readouterr().err
    assert "note: The channel filter keeps only the matching events of each journey" in said
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "outlook", "--goal", "Closed Wn"]) == 2
    assert "No touchpoint, activity or stage is named 'Closed Wn' in this dataset; nearest: 'Closed won'" in (
        capsys.readouterr().err
    )


def test_the_saved_definition_serves_every_report_and_goal_overrides_it(capsys, dataset_id):
    assert cli.main(["conversion", "set", "--dataset", str(dataset_id), "--goal", "Closed won"]) == 0
    assert "Conversion: reaching Closed won" in capsys.readouterr().out
    saved = _json(capsys, "analyze", "--dataset", str(dataset_id), "--report", "attribution")
    override = _json(capsys, "analyze", "--dataset", str(dataset_id), "--report", "attribution", "--goal", "Demo")
    assert {r["conversion"] for r in saved} == {"reaching Closed won"}
    assert {r["conversion"] for r in override} == {"reaching Demo"}
    assert saved != override
