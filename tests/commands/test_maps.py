"""`python cli.py maps new / export / import / snapshot / diff`: the studio's services from a terminal."""

from __future__ import annotations

import json

import cli
from services import map_edits, map_view
from services.maps import list_map_summaries


def test_new_export_import_round_trip(capsys, tmp_path, engine):
    assert (
        cli.main(
            [
                "maps",
                "new",
                "--template",
                "b2b-4-stage",
                "--name",
                "Terminal map",
                "--owner",
                "Ana",
                "--review-by",
                "2030-01-31",
            ]
        )
        == 0
    )
    map_id = int(capsys.readouterr().out.strip())
    view = map_view.get_map_view(map_id)
    assert (view.name, view.owner, str(view.review_by), len(view.stages)) == ("Terminal map", "Ana", "2030-01-31", 4)

    out = tmp_path / "map.json"
    assert cli.main(["maps", "export", str(map_id), "--format", "json", "--out", str(out)]) == 0
    assert "Wrote" in capsys.readouterr().err
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["map"]["name"] == "Terminal map"

    assert cli.main(["maps", "import", str(out)]) == 0
    said = capsys.readouterr()
    new_id = int(said.out.strip())
    # The file's name is taken (by the map it came from): the import is numbered, and says so.
    assert new_id != map_id and map_view.get_map_view(new_id).name == "Terminal map (2)"
    assert "map “Terminal map” exists (map " in said.err and "imported as “Terminal map (2)”" in said.err
    assert cli.main(["maps", "import", str(out), "--name", "Copy"]) == 0
    assert map_view.get_map_view(int(capsys.readouterr().out.strip())).name == "Copy"
    # A name given for the import, or for a new map, that another map has is refused, naming it.
    assert cli.main(["maps", "import", str(out), "--name", "copy "]) == 2
    assert "“Copy” is map " in capsys.readouterr().err
    assert cli.main(["maps", "new", "--template", "b2b-4-stage", "--name", "Terminal MAP"]) == 2
    assert f"a name no other map has (“Terminal map” is map {map_id})" in capsys.readouterr().err


def test_export_csv_and_mermaid_to_standard_output(capsysbinary, engine):
    assert cli.main(["maps", "new", "--template", "b2b-4-stage", "--name", "Piped"]) == 0
    map_id = capsysbinary.readouterr().out.decode().strip()
    assert cli.main(["maps", "export", map_id, "--format", "csv"]) == 0
    csv = capsysbinary.readouterr().out
    assert csv.startswith(b"\xef\xbb\xbfmap,stage_order,stage,")
    assert csv.count(b"\n") == 1 + 8  # header + one row per touchpoint (no lanes yet)
    assert cli.main(["maps", "export", map_id, "--format", "mermaid"]) == 0
    assert (
        capsysbinary.readouterr()
        .out.decode("utf-8")
        .startswith('---\ntitle: "Piped"\n---\nflowchart LR\n    subgraph S1["Awareness"]\n')
    )


def test_errors_exit_2_with_a_message_and_write_nothing(capsys, tmp_path, engine):
    assert cli.main(["maps", "new", "--template", "nope", "--name", "X"]) == 2
    assert "unknown template 'nope'" in capsys.readouterr().err
    assert cli.main(["maps", "new", "--name", "X", "--review-by", "31/01/2030"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert cli.main(["maps", "export", "999"]) == 2
    assert "There is no map 999 (no map yet)" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"format": "journeylens-map", "format_version": 1, "map": {"name": "Half"}, "stages": [{"ref": "S1"}]}'
    )
    assert cli.main(["maps", "import", str(bad)]) == 2
    assert "stages[0].name" in capsys.readouterr().err
    assert cli.main(["maps", "import", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert list_map_summaries() == []


def test_snapshot_and_diff(capsys, engine):
    assert cli.main(["maps", "new", "--template", "b2b-4-stage", "--name", "Snap"]) == 0
    map_id = int(capsys.readouterr().out.strip())
    assert cli.main(["maps", "snapshot", str(map_id), "--name", "Baseline"]) == 0
    snap_id = capsys.readouterr().out.strip()
    view = map_view.get_map_view(map_id)
    map_edits.add_stage(map_id, "Expansion", expected_version=view.version)
    assert cli.main(["maps", "diff", snap_id]) == 0
    assert "added\tstage\tExpansion" in capsys.readouterr().out
    assert cli.main(["maps", "diff", snap_id, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {"area": "stage", "change": "added", "item": "Expansion", "field": "", "before": "", "after": "0 touchpoints"}
    ]


def test_unknown_map_or_snapshot_id_is_refused_naming_the_real_ones(capsys, engine):
    assert cli.main(["maps", "new", "--template", "b2b-4-stage", "--name", "Real"]) == 0
    map_id = int(capsys.readouterr().out.strip())
    for argv in (["maps", "export", "999"], ["maps", "snapshot", "999", "--name", "x"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err == f"error: There is no map 999; existing: '{map_id} (Real)'\n", argv
    assert cli.main(["maps", "diff", "99"]) == 2
    assert capsys.readouterr().err == "error: There is no snapshot 99 (no snapshot yet)\n"
    assert cli.main(["maps", "snapshot", str(map_id), "--name", "Baseline"]) == 0
    snap_id = int(capsys.readouterr().out.strip())
    assert cli.main(["maps", "diff", "99"]) == 2
    assert (
        capsys.readouterr().err == f"error: There is no snapshot 99; existing: '{snap_id} (map {map_id}: Baseline)'\n"
    )
