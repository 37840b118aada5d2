"""`python cli.py` pauses the garbage collector while `analyze` imports what it needs, and only then:
the collector runs again for the analysis and for every other command, the output is the same,
and a process calling ``cli.main()`` itself (as these tests do) is left alone. Not timed (the
benchmark times it: ``bench/startup.py``)."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import subprocess
import sys

import pytest

import cli
from tests import ROOT
from tests.factories import b2b_log, create_dataset


@pytest.fixture
def dataset(engine) -> int:
    return create_dataset(b2b_log(), segments=["region"], name="Pipeline")


def _probe(argv: list[str]) -> dict:
    """cli.main(argv, quick_start=True) in a fresh interpreter: its exit status, its output, and the
    collector's state afterwards."""
    code = (
        "import contextlib, gc, io, json, sys, cli\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    status = cli.main({argv!r}, quick_start=True)\n"
        "print(json.dumps({'status': status, 'out': out.getvalue(), 'enabled': gc.isenabled(),\n"
        "                  'frozen': gc.get_freeze_count()}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_analyze_resumes_the_collector_and_prints_the_same(dataset) -> None:
    argv = ["analyze", "--dataset", str(dataset), "--report", "transitions"]
    probe = _probe(argv)
    assert probe["status"] == 0 and probe["enabled"] is True
    assert probe["frozen"] > 0  # the start-up's objects left out of later passes
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(argv) == 0
    assert json.loads(probe["out"]) == json.loads(out.getvalue())


def test_other_commands_and_failures_run_with_the_collector(dataset) -> None:
    shown = _probe(["conversion", "show", "--dataset", str(dataset)])
    assert shown["status"] == 0 and shown["enabled"] is True and shown["frozen"] == 0
    refused = _probe(["analyze", "--dataset", "999", "--report", "transitions"])
    assert refused["status"] == 2 and refused["enabled"] is True


def test_a_process_calling_main_itself_is_left_alone(dataset) -> None:
    frozen = gc.get_freeze_count()
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["analyze", "--dataset", str(dataset), "--report", "transitions"]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
