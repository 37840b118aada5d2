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
    assert err.startswith("error: There is no dataset 99; nearest: '1 (Demo: B2B SaaS event log)', '2 (")
    assert cli.main(["analyze", "--dataset", "99"]) == 2  # the same refusal as analyze's
    assert capsys.readouterr().err == err


# ── conversion clear ─────────────────────────────────────────────────────────────────────────────────


def test_conversion_clear_refuses_an_unknown_map_like_show_and_set(capsys, demo_engine):
    shown = _refused(capsys, "conversion", "show", "--dataset", "1", "--map", "999")
    assert shown.startswith("error: There is no map 999; nearest: '")
    assert _refused(capsys, "conversion", "clear", "--dataset", "1", "--map", "999") == shown
    err = _refused(capsys, "conversion", "clear", "--dataset", "99", "--map", "999")
    assert err.startswith("error: There is no dataset 99; nearest: '1 (")


def test_conversion_clear_of_a_real_map_still_clears(capsys, demo_engine):
    save_conversion(1, Conversion(outcomes=("won",)), map_id=1)
    assert cli.main(["conversion", "clear", "--dataset", "1", "--map", "1"]) == 0
    assert capsys.readouterr().out == "Cleared the conversion definition of dataset 1 seen through map 1.\n"


# ── maps new --template ──────────────────────────────────────────────────────────────────────────────


def test_maps_new_refuses_an_unknown_template_with_the_nearest_one(capsys, engine):
    err = _refused(capsys, "maps", "new", "--name", "X", "--template", "b2b-5stage")
    assert err.startswith("error: unknown template 'b2b-5stage'")
    assert err.endswith("; nearest: 'b2b-5-stage'\n")
    # A key like no other still names a real one (never a bare "unknown").
    assert "; nearest: '" in _refused(capsys, "maps", "new", "--name", "X", "--template", "zzz")


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
