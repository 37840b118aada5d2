"""Browser tests: a real `streamlit run app.py` on a free port, driven by Playwright in Debian's Chromium.

The run's shared ``server`` and every server ``fresh_server`` starts get a copy of the demo data
directory made once per run (tests/conftest.py), so no server imports the demo logs again; a first
start that seeds the demo itself is ``fresh_server(first_start=True)``, on an empty data directory.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.startup import CHROMIUM, CHROMIUM_ARGS  # the one home of Debian's Chromium and its flags
from tests import ROOT
from tests.conftest import copy_data_dir

pytestmark = pytest.mark.e2e

# Playwright's default wait for an action or an event (30 s), doubled: with a worker per core
# (pytest-xdist) two servers and two browsers share the cores, and a download or a click that
# takes a busy server longer must not fail the test. A waiting test is not slowed when it passes.
ACTION_TIMEOUT_MS = 60_000


# Servers told to stop, reaped at the end of the run: a test does not wait the second or two a
# Streamlit server takes to shut down (each has its own port and data directory).
_STOPPING: list[subprocess.Popen] = []


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        _STOPPING.append(self.process)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Wait for every stopped server to exit (killed after 10 s)."""
    while _STOPPING:
        process = _STOPPING.pop()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, *, env: dict[str, str] | None = None, timeout_s: float = 90) -> Server:
    """Start the app on a free port with its own data directory; wait until it answers."""
    port = _free_port()
    full_env = {**os.environ, "JOURNEYLENS_DATA_DIR": str(data_dir), **(env or {})}
    log = open(data_dir.parent / f"streamlit-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early; see {log.name}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return Server(url, data_dir, process)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"streamlit did not answer within {timeout_s}s; see {log.name}")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"Debian's Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> Iterator[Server]:
    """One app server on a copy of the demo data directory, shared by the browser tests of a run
    (of an xdist worker) that do not change its data."""
    data_dir = copy_data_dir(demo_data, tmp_path_factory.mktemp("e2e") / "data")
    srv = start_server(data_dir)
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(tmp_path: Path, demo_data: Path) -> Iterator[Callable[..., Server]]:
    """Factory for a freshly started server on its own copy of the demo data directory, stopped after
    the test. On an empty data directory with ``env={"JOURNEYLENS_NO_DEMO": "1"}`` (no demo), or with
    ``first_start=True`` (the app seeds the demo itself, as on its first start)."""
    started: list[Server] = []

    def make(*, env: dict[str, str] | None = None, first_start: bool = False, timeout_s: float = 90) -> Server:
        d = tmp_path / f"data{len(started)}"
        d.mkdir()
        if (env or {}).get("JOURNEYLENS_NO_DEMO") != "1" and not first_start:
            copy_data_dir(demo_data, d)
        srv = start_server(d, env=env, timeout_s=timeout_s)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A new page that records console errors and dialogs (``page.console_errors``, ``page.dialogs``)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    pg = context.new_page()
    pg.console_errors = []
    pg.dialogs = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()


def wait_for_app(pg: object, text: str | None = None, timeout_ms: int = 120_000) -> None:
    """Wait until the script has drawn the page (a heading, or ``text``) and stopped running."""
    pg.wait_for_selector("[data-testid='stMainBlockContainer'] [data-testid='stHeading']", timeout=timeout_ms)  # type: ignore[attr-defined]
    if text:
        pg.get_by_text(text).first.wait_for(timeout=timeout_ms)  # type: ignore[attr-defined]
    pg.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=timeout_ms
    )
    pg.wait_for_timeout(300)  # type: ignore[attr-defined]


# The demo's B2B SaaS log (dataset 1, linked to map 1) converts on the outcome "won": every analysis
# page states this line, opened by these links (tests/e2e/test_pages_e2e.py, test_conversion_e2e.py).
DEMO_CONVERSION = "Conversion: outcome is won; lost: outcome is lost · 2,131 of 7,065 journeys (30.2%)"
CONVERSION_LINKS = {
    **{f"/{name}": f"/{name}?dataset=1" for name in ("Flows", "Funnel", "Paths", "Friction", "Attribution", "Outlook")},
    **{f"/{name}": f"/{name}?map=1&dataset=1" for name in ("Metrics", "Overlay")},
}
CONVERSION_LINE = re.compile(r"^Conversion: ")


def conversion_line(pg: object, url: str) -> str:
    """Open ``url`` and return the one "Conversion: ..." line the page states (no exception drawn)."""
    pg.goto(url)  # type: ignore[attr-defined]
    wait_for_app(pg, "Conversion:")
    found = pg.locator("[data-testid='stMain']").get_by_text(CONVERSION_LINE)  # type: ignore[attr-defined]
    assert found.count() == 1, url
    assert not pg.locator("[data-testid='stException']").count(), url  # type: ignore[attr-defined]
    return found.first.inner_text().strip()


def download(pg: object, button: str, *, tries: int = 3, timeout_ms: int = 30_000) -> Path:
    """Click the download button named ``button`` and return the downloaded file's path. On a busy
    machine a click can land while the script reruns and the button's file is being replaced; no
    download follows, so the click is tried again (up to ``tries`` times) once the app is idle."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for attempt in range(1, tries + 1):
        try:
            with pg.expect_download(timeout=timeout_ms) as info:  # type: ignore[attr-defined]
                pg.get_by_role("button", name=button).click()  # type: ignore[attr-defined]
            return Path(info.value.path())
        except PlaywrightTimeoutError:
            if attempt == tries:
                raise
            pg.wait_for_function(  # type: ignore[attr-defined]
                "() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=120_000
            )
    raise AssertionError("unreachable")
