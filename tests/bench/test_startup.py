"""The benchmark's start-up section: what it says of measured process times and first starts,
targets judged from the numbers given (no timing here)."""

from __future__ import annotations

from bench.run import _startup_targets
from bench.startup import cli_commands, markdown_lines


def _cli(help_s: float, analyze_s: float) -> dict:
    row = {"wall_min": 0.0, "cpu_median": 0.1, "error": None}
    return {
        "repeat": 5,
        "load": [1.0, 2.0],
        "commands": {
            "python -c pass": {**row, "wall_median": 0.02},
            "cli.py --help": {**row, "wall_median": help_s},
            "cli.py analyze transitions": {**row, "wall_median": analyze_s},
        },
    }


def test_targets_met_and_missed() -> None:
    startup = {"cli": _cli(0.1, 1.7), "first_start": [{"server_up": 1.0, "drawn": 6.0, "complete": 9.0, "load": 1}]}
    lines = _startup_targets(startup)
    assert lines[0] == "- `cli.py --help` 100 ms: met (< 0.5 s)"
    assert "**missed**" in lines[1] and "analyze" in lines[1]
    assert "first start until the Overview is drawn" in lines[2] and "met" in lines[2]
    slow = _startup_targets({"first_start": [{"drawn": 9.5}, {"drawn": 8.5}, {"error": "no browser"}]})
    assert slow == ["- first start until the Overview is drawn: 9.00 s **missed** (< 8 s)"]


def test_the_section_shows_failures_as_such() -> None:
    cli = _cli(0.1, 0.9)
    cli["commands"]["cli.py analyze transitions"]["error"] = "error: There is no dataset 9"
    text = "\n".join(markdown_lines(cli, [{"error": "chromium not found"}]))
    assert "failed: error: There is no dataset 9" in text
    assert "- failed: chromium not found" in text
    shown = "\n".join(markdown_lines(None, [{"server_up": 1.2, "drawn": 6.8, "complete": 11.0, "load": 8}]))
    assert "Overview drawn 6.8 s, with each map's health 11.0 s" in shown and "until drawn 6.8 s: met" in shown
    assert "load average 1.0–2.0" in text


def test_the_analyze_process_is_timed_only_with_a_dataset() -> None:
    assert "cli.py analyze transitions" not in cli_commands(None)
    assert cli_commands(3)["cli.py analyze transitions"][-4:] == ["--dataset", "3", "--report", "transitions"]
