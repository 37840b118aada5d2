"""`analyze` says what it does: a repeat-contact window of 0 days or less is refused, `--help` gives each
report's real node level, an option a report does not read is named unused, friction's exits are said
as counted, and a column the dataset lacks is refused with the nearest real name."""

from __future__ import annotations

import csv
import io
import json

import pytest

import cli
from tests.factories import b2b_log, create_dataset, log_frame


@pytest.fixture
def dataset(engine) -> int:
    return create_dataset(b2b_log(), segments=["region"], name="Pipeline")


def _analyze(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[str, str]:
    """Run ``analyze``; it must succeed. Its standard output and standard error."""
    assert cli.main(["analyze", *map(str, argv)]) == 0, argv
    captured = capsys.readouterr()
    return captured.out, captured.err


def _refused(capsys: pytest.CaptureFixture[str], *argv: object) -> str:
    """Run ``analyze``; it must refuse with exit status 2 and one line on standard error, nothing on standard output."""
    assert cli.main(["analyze", *map(str, argv)]) == 2, argv
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and err.count("\n") == 1, (out, err)
    return err


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    """``analyze --help`` with its lines joined (argparse wraps them at the terminal's width)."""
    with pytest.raises(SystemExit):
        cli.main(["analyze", "--help"])
    return " ".join(capsys.readouterr().out.split())


# ── --fcr-window-days ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("days", ["-1", "0"])
def test_a_repeat_contact_window_of_0_days_or_less_is_refused(capsys, dataset, days):
    # Before: read as a float and accepted, FCR 100 % (no repeat contact fits a window of no time).
    with pytest.raises(SystemExit) as stop:
        cli.main(["analyze", "--dataset", str(dataset), "--report", "metrics", "--fcr-window-days", days])
    assert stop.value.code == 2
    assert capsys.readouterr().err == f"error: argument --fcr-window-days: must be more than 0 days: '{days}'\n"


# ── --by: each report's default, and the level variants used ──────────────────────────────────────


def test_the_by_help_names_each_reports_default_node_level(capsys):
    text = _help(capsys)
    assert "node level (default: touchpoint; stage for time and variants when the log has a stage column" in text


def test_variants_name_the_node_level_they_used(capsys, dataset, engine):
    out, _ = _analyze(capsys, "--dataset", dataset, "--report", "variants", "--top", "2")
    rows = json.loads(out)
    assert [r["by"] for r in rows] == ["stage", "stage"] and rows[0]["path"][0] == "Awareness"
    out, _ = _analyze(capsys, "--dataset", dataset, "--report", "variants", "--top", "2", "--by", "touchpoint")
    assert {r["by"] for r in json.loads(out)} == {"touchpoint"}
    out, _ = _analyze(capsys, "--dataset", dataset, "--report", "variants", "--top", "2", "--format", "csv")
    assert {r["by"] for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))} == {"stage"}
    # A log with no stages (and no map) shows touchpoints, and says so.
    plain = create_dataset(log_frame([("a", 0, "A"), ("a", 1, "B"), ("b", 0, "A")]), name="no stages")
    out, _ = _analyze(capsys, "--dataset", plain, "--report", "variants")
    assert {r["by"] for r in json.loads(out)} == {"touchpoint"}


# ── --by and --keep-repeats named where unused ───────────────────────────────────────────────────────

# Reports that read neither the node level nor the repeats (the time report reads the level only).
NEITHER = ("summary", "outcomes", "nonlinearity", "friction", "metrics")


@pytest.mark.parametrize("report", NEITHER)
def test_by_and_keep_repeats_are_named_unused_where_the_report_does_not_read_them(capsys, dataset, report):
    plain, _ = _analyze(capsys, "--dataset", dataset, "--report", report)
    out, err = _analyze(capsys, "--dataset", dataset, "--report", report, "--by", "channel", "--keep-repeats")
    assert out == plain  # it does not read them: the same numbers
    assert f"note: --by is not used by the {report} report (it is used by: transitions, funnel, variants" in err
    assert f"note: --keep-repeats is not used by the {report} report (it is used by: transitions, funnel" in err


def test_the_time_report_reads_the_node_level_but_not_the_repeats(capsys, dataset):
    plain, _ = _analyze(capsys, "--dataset", dataset, "--report", "time")
    out, err = _analyze(capsys, "--dataset", dataset, "--report", "time", "--keep-repeats")
    assert out == plain and "note: --keep-repeats is not used by the time report" in err
    out, err = _analyze(capsys, "--dataset", dataset, "--report", "time", "--by", "touchpoint")
    assert out != plain and "--by" not in err
    # Reports that read both name neither.
    for report in ("transitions", "variants"):
        _, err = _analyze(capsys, "--dataset", dataset, "--report", report, "--by", "stage", "--keep-repeats")
        assert "is not used" not in err, report


# ── friction: exits as counted ───────────────────────────────────────────────────────────────────────


def test_friction_reasons_say_lost_when_lost_is_defined(capsys, engine):
    # a and b are lost at B2, c and d convert at C, e is still open at B1.
    paths = {"a": "A B2", "b": "A B2", "c": "A B1 C", "d": "A B1 C", "e": "A B1"}
    rows = [(j, i, name) for j, path in paths.items() for i, name in enumerate(path.split())]
    dataset_id = create_dataset(log_frame(rows), name="lost at B2")
    out, _ = _analyze(capsys, "--dataset", dataset_id, "--report", "friction", "--goal", "C", "--lost", "B2")
    reasons = {r["touchpoint"]: r["reason"] for r in json.loads(out)}
    assert "100.0 % of its journeys end there lost (base" in reasons["B2"]
    assert not any("unconverted" in reason for reason in reasons.values())
    out, _ = _analyze(capsys, "--dataset", dataset_id, "--report", "friction", "--goal", "C")
    reasons = {r["touchpoint"]: r["reason"] for r in json.loads(out)}
    assert "of its journeys end there unconverted (base" in reasons["B2"]
    assert "(exits: journeys ending lost, or unconverted where no lost rule is set)" in _help(capsys)


# ── column names: the nearest real one ───────────────────────────────────────────────────────────────


def test_a_segment_filter_on_a_column_the_dataset_lacks_names_the_nearest(capsys, dataset):
    err = _refused(capsys, "--dataset", dataset, "--filter-segment", "regoin=EMEA")
    assert err.startswith("error: this dataset has no column 'regoin' (roles: ")
    assert err.endswith("; segments: region); nearest: 'region'\n")


def test_a_funnel_breakdown_by_a_column_the_dataset_lacks_names_the_nearest(capsys, dataset):
    funnel = ["--dataset", dataset, "--report", "funnel", "--steps", "Demo,Pricing page"]
    err = _refused(capsys, *funnel, "--breakdown", "account_id")
    assert err.startswith("error: this dataset has no column 'account_id' (roles: account, ")
    assert err.endswith("; nearest: 'account'\n")
    # Nothing close: the names there are, and no "nearest"; a role the log lacks is said as such.
    assert "nearest" not in _refused(capsys, *funnel, "--breakdown", "zzzz")
    assert "needs a nps column, and this dataset has none" in _refused(capsys, *funnel, "--breakdown", "nps")
    out, _ = _analyze(capsys, *funnel, "--breakdown", "account", "--top", "2")
    assert len(json.loads(out)["breakdown"]) == 3  # two accounts and (other)


def test_the_repeats_rule_is_said_where_it_moves_the_numbers(capsys, dataset):
    """Collapsing consecutive repeats (the default) changes transitions, funnels and variants: the reports
    that read it say so on standard error; --keep-repeats, or a report that never reads it, says nothing."""
    _, err = _analyze(capsys, "--dataset", dataset, "--report", "transitions")
    assert "note: consecutive repeats of a node count once (--keep-repeats keeps them)" in err
    _, err = _analyze(capsys, "--dataset", dataset, "--report", "transitions", "--keep-repeats")
    assert "repeats" not in err
    _, err = _analyze(capsys, "--dataset", dataset, "--report", "summary")
    assert "repeats" not in err
