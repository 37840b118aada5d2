"""The CLI's foundation commands."""

from __future__ import annotations

import json

import pytest

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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["analyze", "--report", "summry"], "argument --report: invalid choice: 'summry' (nearest: summary)"),
        (["analyze", "--format", "xml"], "argument --format: invalid choice: 'xml' (one of json, csv)"),
        (["analyze", "--by", "stag"], "argument --by: invalid choice: 'stag' (nearest: stage; one of touchpoint, stage, channel)"),
        (["analyze", "--top", "0"], "argument --top: must be at least 1: '0'"),
        (["analyze", "--weights", "exitt=0.3"], "argument --weights: no component is named 'exitt' (nearest: exit; "),
        (["analyz"], "invalid command 'analyz' of python cli.py (nearest: analyze)"),
        (["maps", "lst"], "invalid command 'lst' of python cli.py maps (nearest: list)"),
        (["analyze", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
)  # fmt: skip
def test_a_wrong_value_is_refused_in_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {message}"), err
    assert "usage:" not in err


def test_help_still_shows_the_usage(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["analyze", "--help"])
    out = capsys.readouterr().out
    assert stop.value.code == 0 and out.startswith("usage: python cli.py analyze") and "--steps" in out


def test_the_namespace_says_which_options_were_given():
    args = cli.build_parser().parse_args(["analyze", "--dataset", "1", "--window=90", "--tz", "UTC", "--top", "3"])
    assert args.options_given == {"dataset", "window_days", "tz", "top"}
