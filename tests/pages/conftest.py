"""AppTest helpers: run a page script headless against the test's data directory.

Two pieces of work that every AppTest would repeat are done once per process (each xdist worker):
- the scan of the installed packages for Streamlit components (``AppTest.run`` scans all of them,
  about 0.14 s, for each new AppTest): the installed packages do not change during a run;
- the outlook's fitted model on the demo (several seconds a fit): see ``_fit_shared_by_demo_copies``.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import pytest
from streamlit.components.v2 import manifest_scanner
from streamlit.testing.v1 import AppTest

from services import analysis
from tests import ROOT

# Users see no error details (config.toml); tests need them to say what broke.
os.environ["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] = "full"


_scan_component_manifests = manifest_scanner.scan_component_manifests


@functools.cache
def _component_manifests() -> tuple:
    """The installed packages' Streamlit component manifests, scanned once per process."""
    return tuple(_scan_component_manifests())


# streamlit.components.v2.component_manager imports the scanner at each call, so this one is found.
manifest_scanner.scan_component_manifests = lambda max_workers=None: list(_component_manifests())


def run_page(
    script: str,
    *,
    timeout: float = 120,
    query: dict[str, str] | None = None,
    secrets: dict[str, object] | None = None,
    user: dict[str, object] | None = None,
) -> AppTest:
    """Run ``script`` (relative to the project root) once and fail on any exception it shows; with
    ``secrets`` (e.g. an ``[auth]`` section) and the signed-in ``user``'s fields where given. The
    ``timeout`` is a ceiling for a busy machine (a worker per core shares it), not an expected time."""
    # Pages run inside the multipage app (entry point app.py), as in a browser.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    for key, value in (user or {}).items():
        at.user[key] = value  # type: ignore[index]
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if script != "app.py":
        at.switch_page(script)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def conversion_line(at: AppTest) -> str:
    """The page's one "Conversion: ..." line (markdown, or the info shown when it is not defined)."""
    texts = [m.value for m in at.markdown] + [i.value for i in at.info] + [w.value for w in at.warning]
    plain = [t.replace("\\", "").lstrip("*") for t in texts]
    lines = [t.split("**")[0].split(" — ")[0].strip() for t in plain if t.startswith("Conversion:")]
    assert len(lines) == 1, texts
    return lines[0]


@pytest.fixture(autouse=True)
def _fit_shared_by_demo_copies(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """The outlook keeps its fitted model per dataset content (``services.analysis.content_key``: id,
    events file, size, modification time). Each test's demo is a copy (tests/conftest.py) at a path
    of its own, so every test fitted the demo again. Here the file is named by its path inside the
    test's data directory plus a hash of its bytes: one fit serves every copy holding the same bytes,
    and a dataset whose file differs by one byte is fitted afresh."""
    content_key = analysis.content_key

    def key_inside_the_data_dir(ctx):
        key = content_key(ctx)
        if key is None:
            return None
        dataset_id, path, size, mtime_ns = key
        if not Path(path).is_relative_to(data_dir):
            return key
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return (dataset_id, str(Path(path).relative_to(data_dir)), size, mtime_ns, digest)

    monkeypatch.setattr(analysis, "content_key", key_inside_the_data_dir)


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
