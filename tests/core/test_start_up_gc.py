"""core.start_up: the garbage collector paused once per process while it imports, resumed (start-up
objects frozen) when the imports are done; the app's entry point pauses it and the bootstrap resumes
it. In fresh interpreters: this test process has long started. Not timed (``bench/startup.py``)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests import ROOT


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_pause_then_resume_once_per_process() -> None:
    out = _run(
        "import gc, json\n"
        "from core.start_up import gc_paused, pause_gc, resume_gc\n"
        "pause_gc(); paused = (gc.isenabled(), gc_paused())\n"
        "resume_gc(); resumed = (gc.isenabled(), gc.get_freeze_count() > 0)\n"
        "pause_gc(); again = gc.isenabled()\n"
        "print(json.dumps({'paused': paused, 'resumed': resumed, 'again': again}))"
    )
    assert out == {"paused": [False, True], "resumed": [True, True], "again": True}


def test_resume_without_a_pause_changes_nothing() -> None:
    out = _run(
        "import gc, json\n"
        "from core.start_up import resume_gc\n"
        "resume_gc()\n"
        "print(json.dumps([gc.isenabled(), gc.get_freeze_count()]))"
    )
    assert out == [True, 0]


def test_the_overview_resumes_the_collector_it_paused(tmp_path) -> None:
    code = (
        "import gc, json, os\n"
        f"os.environ['JOURNEYLENS_DATA_DIR'] = {str(tmp_path)!r}\n"
        "os.environ['JOURNEYLENS_NO_DEMO'] = '1'\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=120)\n"
        "at.run()\n"
        "print(json.dumps({'errors': [str(e.value) for e in at.exception], 'title': at.title[0].value,\n"
        "                  'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count() > 0}))"
    )
    out = _run(code)
    assert out == {"errors": [], "title": "Overview", "enabled": True, "frozen": True}
