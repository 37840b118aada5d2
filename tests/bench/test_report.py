"""The benchmark's report: ratios, agreement with the peers, targets, and failures shown as such."""

from __future__ import annotations

from bench.run import agree, fmt_s, markdown, targets
from bench.suite import ANALYSES

TRANSITIONS = "transitions (touchpoint, repeats kept)"


def _results(ours_median: float, peer_median: float, peer_check: dict) -> dict:
    check = {"total": 10, "pairs": 3, "top": ["A", "B", 5]}
    size = {
        "events": 5_000_000,
        "label": "5M",
        "csv_mb": 700.0,
        "import": {"first": 40.0, "peak_rss_mb": 1500.0, "load": [1.0, 1.2]},
        "analyses": {
            TRANSITIONS: {"first": 0.5, "median": ours_median, "peak_rss_mb": 900.0, "check": check},
            "friction index": {"first": 3.5, "median": 3.0, "peak_rss_mb": 2500.0},
            "outcomes": {"error": "analytics.outcomes is not on this branch", "unavailable": True},
        },
        "peers": {
            "rete_transitions": {
                "median": peer_median,
                "prep_seconds": 9.0,
                "peak_rss_mb": 3000.0,
                "check": peer_check,
            },
            "pm4py_dfg": {"error": "timed out after 1200 s"},
            "pandas_transitions": {"error": "pandas is not installed in /x", "skipped": True},
        },
    }
    return {
        "started": "2026-11-24 03:00 UTC",
        "command": "python bench/run.py --sizes 5M",
        "commit": "abc1234",
        "seed": 7,
        "repeat": 3,
        "machine": {"cpu": "AMD EPYC", "nproc": 2, "memory_gib": 23.5, "os": "Linux", "python": "3.11", "versions": {}},
        "peer_versions": ["retentioneering 5.2.4"],
        "sizes": [size],
        "apptest": {
            "size": "1M",
            "page": "pages/5_Flows.py",
            "widget": "toggle 'x'",
            "cold": 5.0,
            "uncached": 2.0,
            "cached": [0.4, 1.2],
        },
    }


def test_ratio_agreement_and_failures_are_in_the_table():
    text = markdown(_results(0.2, 4.0, {"total": 10, "pairs": 3, "top": ["A", "B", 5]}))
    assert "20.0×" in text
    assert "yes (pairs, top, total)" in text
    assert "timed out after 1200 s" in text
    assert "pandas is not installed" in text
    assert "analytics.outcomes is not on this branch" in text
    assert "commit abc1234" in text
    assert "1.0 to 1.2" in text  # the machine load is reported


def test_a_different_answer_is_flagged():
    assert agree({"total": 10, "top": ["A", "B", 5]}, {"total": 11, "top": ["A", "B", 5]}).startswith("**no**")
    text = markdown(_results(0.2, 4.0, {"total": 11, "pairs": 3, "top": ["A", "B", 5]}))
    assert "**no**: total 10 vs 11" in text


def test_targets_judge_met_and_missed():
    lines = "\n".join(targets(_results(0.5, 4.0, {})))
    assert "import 40.00 s: met" in lines
    assert "**missed** by friction index (3.50 s)" in lines
    assert "highest 2,500 MB (friction index): **missed**" in lines
    assert "8.0× **missed**" in lines  # 4.0 / 0.5 against retentioneering
    assert "filter switch once cached (1M): 1.20 s **missed**" in lines


def test_times_are_readable():
    assert fmt_s(0.0042) == "4.2 ms" and fmt_s(0.25) == "250 ms" and fmt_s(12.345) == "12.35 s" and fmt_s(None) == "–"


def test_every_peer_of_the_suite_is_known():
    from bench.run import PEER_LABEL

    assert {p for a in ANALYSES.values() for p in a.peers} <= set(PEER_LABEL)


def test_page_start_is_reported_and_judged():
    results = _results(0.1, 2.0, {"total": 10, "pairs": 3, "top": ["A", "B", 5]})
    results["page_start"] = [
        {"page": "app.py", "first": 3.2, "fresh_session": [0.4, 0.2]},
        {"page": "pages/5_Flows.py", "first": 4.0, "fresh_session": [2.6, 2.4]},
        {"page": "pages/6_Funnel.py", "error": "timed out after 600 s"},
    ]
    text = markdown(results)
    assert "## Page start in a fresh session" in text
    assert f"| `app.py` | {fmt_s(3.2)} | {fmt_s(0.3)} |" in text
    assert "| `pages/6_Funnel.py` | failed: timed out after 600 s | |" in text
    line = next(t for t in targets(results) if t.startswith("- a page in a fresh session"))
    assert fmt_s(2.5) in line and "**missed**" in line
    results["page_start"] = results["page_start"][:1]
    assert "met" in next(t for t in targets(results) if t.startswith("- a page in a fresh session"))
