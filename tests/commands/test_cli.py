"""The CLI's foundation commands."""

from __future__ import annotations

import json

import cli


def test_templates_one_a_line_key_first(capsys):
    assert cli.main(["templates"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t")[0] == "b2b-5-stage"
    assert len(lines) >= 9


def test_demo_and_maps_list_json(capsys):
    assert cli.main(["demo"]) == 0
    capsys.readouterr()
    assert cli.main(["maps", "list", "--format", "json"]) == 0
    maps = json.loads(capsys.readouterr().out)
    assert {"id", "name"} <= set(maps[0])
    names = {m["name"] for m in maps}
    assert "B2B SaaS buyer journey" in names
    # Idempotent, and --reset restores.
    assert cli.main(["demo"]) == 0
    assert "already loaded" in capsys.readouterr().out
    assert cli.main(["demo", "--reset"]) == 0
    capsys.readouterr()
    cli.main(["maps", "list", "--format", "json"])
    assert len(json.loads(capsys.readouterr().out)) == len(maps)
