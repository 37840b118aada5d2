"""Nothing silent, from a terminal: a role, dataset, map or template that does not exist is refused in
one line with the nearest real one (exit status 2, no traceback), and an empty or partial answer says
why (`external`, `conversion clear`, `maps new / diff / export`)."""

from __future__ import annotations

import json

import pytest

import cli
from analytics.conversion import Conversion
from services.conversion import save_conversion
from services.map_view import get_map_view

REGISTER = ["external", "register", "--name", "x", "--url", "duckdb://", "--table", "t"]


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI; it must refuse with exit status 2 and one line on standard error, nothing on standard output."""
    assert cli.main(list(argv)) == 2, argv
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and err.count("\n") == 1, (out, err)
    return err


# ── external register --map ROLE=COLUMN ──────────────────────────────────────────────────────────────


def test_external_register_refuses_an_unknown_role_with_the_nearest_one(capsys, engine):
    err = _refused(capsys, *REGISTER, "--map", "journy=case_id")
    assert err == "error: --map 'journy=case_id': no role 'journy'; nearest: 'journey'\n"


@pytest.mark.parametrize("pair", ["journey", "=case_id", "journey="])
def test_external_register_refuses_a_map_without_role_equals_column(capsys, engine, pair):
    # Before: raise SystemExit(str) from inside the command, exit status 1 (and cli.main did not return).
    err = _refused(capsys, *REGISTER, "--map", pair)
    assert f"--map expects ROLE=COLUMN (value {pair!r}" in err


def test_external_register_refuses_a_role_given_twice(capsys, engine):
    # The second column would silently have replaced the first.
    err = _refused(capsys, *REGISTER, "--map", "journey=a", "--map", "journey=b")
    assert "--map gives the role 'journey' twice (value 'a, b'" in err


# ── external check DATASET ───────────────────────────────────────────────────────────────────────────


def test_external_check_refuses_an_unknown_dataset_naming_the_real_ones(capsys, demo_engine):
    err = _refused(capsys, "external", "check", "99")
    assert err.startswith("error: There is no dataset 99; existing: '1 (Demo: B2B SaaS event log)', '2 (")
    assert cli.main(["analyze", "--dataset", "99"]) == 2  # the same refusal as analyze's
    assert capsys.readouterr().err == err


# ── conversion clear ─────────────────────────────────────────────────────────────────────────────────


def test_conversion_clear_refuses_an_unknown_map_like_show_and_set(capsys, demo_engine):
    shown = _refused(capsys, "conversion", "show", "--dataset", "1", "--map", "999")
    assert shown.startswith("error: There is no map 999; existing: '")
    assert _refused(capsys, "conversion", "clear", "--dataset", "1", "--map", "999") == shown
    err = _refused(capsys, "conversion", "clear", "--dataset", "99", "--map", "999")
    assert err.startswith("error: There is no dataset 99; existing: '1 (")


def test_conversion_clear_of_a_real_map_still_clears(capsys, demo_engine):
    save_conversion(1, Conversion(outcomes=("won",)), map_id=1)
    assert cli.main(["conversion", "clear", "--dataset", "1", "--map", "1"]) == 0
    assert capsys.readouterr().out == "Cleared the conversion definition of dataset 1 seen through map 1.\n"


# ── maps new --template ──────────────────────────────────────────────────────────────────────────────


def test_maps_new_refuses_an_unknown_template_with_the_nearest_one(capsys, engine):
    err = _refused(capsys, "maps", "new", "--name", "X", "--template", "b2b-5stage")
    assert err.startswith("error: unknown template 'b2b-5stage'")
    assert err.endswith("; nearest: 'b2b-5-stage'\n")
    # A key like no other is told the keys there are, and none is called near.
    err = _refused(capsys, "maps", "new", "--name", "X", "--template", "zzz")
    assert "known templates: b2b-5-stage" in err and "nearest" not in err


# ── maps diff: no change ─────────────────────────────────────────────────────────────────────────────


def test_maps_diff_with_no_change_says_so(capsys, engine):
    assert cli.main(["maps", "new", "--template", "b2b-4-stage", "--name", "Still"]) == 0
    map_id = int(capsys.readouterr().out)
    assert cli.main(["maps", "snapshot", str(map_id), "--name", "base"]) == 0
    snap_id = int(capsys.readouterr().out)
    sentence = f"No changes to map {map_id} since snapshot {snap_id} (base)."

    assert cli.main(["maps", "diff", str(snap_id)]) == 0
    assert capsys.readouterr() == (sentence + "\n", "")
    assert cli.main(["maps", "diff", str(snap_id), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == [] and err == f"note: {sentence}\n"  # JSON stays a list; the why on stderr


# ── maps export --format csv ─────────────────────────────────────────────────────────────────────────


def test_maps_export_csv_names_what_it_leaves_out(capsys, demo_engine, tmp_path):
    view = get_map_view(1)
    assert view.personas and view.metrics
    values = sum(len(m.values) for m in view.metrics)
    out = tmp_path / "map.csv"
    assert cli.main(["maps", "export", "1", "--format", "csv", "--out", str(out)]) == 0
    note, wrote = capsys.readouterr().err.splitlines()
    assert note.startswith(
        f"note: the CSV of map 1 leaves out its {len(view.personas)} personas and {len(view.metrics)} metrics "
        f"with their {values} values"
    )
    assert note.endswith("; --format json has everything")
    assert wrote.startswith("Wrote ")
    # JSON is complete: no note.
    assert cli.main(["maps", "export", "1", "--format", "json", "--out", str(tmp_path / "map.json")]) == 0
    assert "note" not in capsys.readouterr().err


def test_maps_export_csv_of_a_map_without_personas_or_metrics_does_not_name_them(capsys, engine):
    assert cli.main(["maps", "new", "--name", "Bare"]) == 0
    map_id = capsys.readouterr().out.strip()
    assert cli.main(["maps", "export", map_id, "--format", "csv"]) == 0
    assert capsys.readouterr().err == ""  # nothing held that the CSV leaves out


# ── analyze: what a flag would change without a word ─────────────────────────────────────────────────


@pytest.fixture
def planted(engine):
    from services.maps import create_map_from_template
    from tests.factories_metrics import create_dataset, planted_log

    map_id = create_map_from_template(template_key="b2b-5-stage", name="Five-stage")
    return map_id, create_dataset(planted_log(journeys=120), name="planted", map_id=map_id)


def test_a_blank_goal_is_refused_not_read_as_the_saved_definition(capsys, planted):
    _, dataset_id = planted
    err = _refused(capsys, "analyze", "--dataset", str(dataset_id), "--goal", " ")
    assert err.startswith("error: --goal is empty")
    err = _refused(capsys, "analyze", "--dataset", str(dataset_id), "--lost", "")
    assert err.startswith("error: --lost is empty")


def test_a_stage_order_the_map_overrides_is_refused(capsys, planted):
    _, dataset_id = planted
    err = _refused(capsys, "analyze", "--dataset", str(dataset_id), "--report", "nonlinearity", "--stage-order", "A,B")
    assert "the stage order comes from the map's stages (Awareness → Consideration →" in err
    # A report that does not read it names it unused, as every such option, and is not refused for it.
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "summary", "--stage-order", "Zz"]) == 0
    assert "note: --stage-order is not used by the summary report" in capsys.readouterr().err


def test_friction_without_a_conversion_says_every_end_counts_as_an_exit(capsys, planted):
    _, dataset_id = planted
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "friction"]) == 0
    err = capsys.readouterr().err
    assert f"note: conversion is not defined for dataset {dataset_id}, so no journey counts as converted" in err
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "friction", "--goal", "Service"]) == 0
    assert "conversion is not defined" not in capsys.readouterr().err


def test_the_outlook_by_channel_says_it_shows_touchpoints(capsys, planted):
    _, dataset_id = planted
    argv = ["analyze", "--dataset", str(dataset_id), "--report", "outlook", "--goal", "Service", "--model", "markov"]
    assert cli.main([*argv, "--by", "channel"]) == 0
    assert "note: the outlook learns touchpoints, not channels" in capsys.readouterr().err


def test_a_log_seen_through_another_map_says_so(capsys, planted):
    from services.maps import create_map_from_template

    _, dataset_id = planted
    other = create_map_from_template(template_key="professional-services", name="Advisory")
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--map", str(other), "--report", "summary"]) == 0
    err = capsys.readouterr().err
    assert "note: This event log is linked to “Five-stage”, not to “Advisory”" in err
    assert cli.main(["analyze", "--dataset", str(dataset_id), "--report", "summary"]) == 0
    assert "not to" not in capsys.readouterr().err
