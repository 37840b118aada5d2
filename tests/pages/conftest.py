"""AppTest helpers: run a page script headless against the test's data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
# Users see no error details (config.toml); tests need them to say what broke.
os.environ["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] = "full"


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
def _clear_streamlit_caches():
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
