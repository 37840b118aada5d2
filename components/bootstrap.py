"""The one bootstrap every page calls first: page config, engine and migrations, demo seeding, sidebar.

On a first start (a database never seeded) the demo's maps are created before the first page is
drawn and its event logs are imported in a background thread meanwhile: the Overview is drawn at
once, saying so, and draws again with each map's health when they are in (:func:`finish_first_start`);
any other page waits for them under a spinner. An import that fails is shown, never swallowed.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import streamlit as st
from sqlalchemy import Engine

from components.auth import require_sign_in
from components.text import escape_markup
from core.errors import JourneyLensError
from core.start_up import resume_gc
from db.access import as_system
from db.engine import get_engine
from services import demo

ROOT = Path(__file__).resolve().parents[1]
# The browser tab's icon, bundled: a Material Symbol as page_icon is fetched from Google's font CDN at
# run time (an outside request from a self-hosted app, and a broken icon offline).
FAVICON = ROOT / "assets" / "favicon.png"
# Icons by page label; a page without one gets a generic icon.
ICONS = {
    "Overview": ":material/dashboard:",
    "Maps": ":material/map:",
    "Map studio": ":material/view_kanban:",
    "Personas": ":material/groups:",
    "Data": ":material/upload_file:",
    "Flows": ":material/account_tree:",
    "Funnel": ":material/filter_alt:",
    "Paths": ":material/route:",
    "Metrics": ":material/monitoring:",
    "Friction": ":material/warning:",
    "Attribution": ":material/pie_chart:",
    "Outlook": ":material/trending_up:",
}


def page_label(path: Path) -> str:
    """Label of a page file as Streamlit derives it: ``pages/3_Map_studio.py`` → ``Map studio``."""
    stem = path.stem.split("_", 1)[1] if path.stem.split("_", 1)[0].isdigit() else path.stem
    return stem.replace("_", " ")


def list_pages() -> list[tuple[str, str, str]]:
    """(path, label, icon) of the Overview and every script in pages/, in their number order."""

    def order(p: Path) -> tuple[int, str]:
        head = p.stem.split("_", 1)[0]
        return (int(head) if head.isdigit() else 999, p.stem)

    pages = [("app.py", "Overview", ICONS["Overview"])]
    for path in sorted((ROOT / "pages").glob("*.py"), key=order):
        label = page_label(path)
        pages.append((f"pages/{path.name}", label, ICONS.get(label, ":material/article:")))
    return pages


class DemoLogs:
    """The demo's event logs importing in a background thread (the maps are already there)."""

    def __init__(self, engine: Engine, map_ids: dict[str, int]) -> None:
        self.error: BaseException | None = None
        self.thread = threading.Thread(
            target=self._run, args=(engine, map_ids), name="journeylens-demo-logs", daemon=True
        )
        self.thread.start()

    def _run(self, engine: Engine, map_ids: dict[str, int]) -> None:
        try:
            with as_system("first start"):
                demo.seed_demo_logs(map_ids, engine=engine)
        except Exception as exc:  # noqa: BLE001 - kept, and shown by every page (_wait_for_demo_logs)
            self.error = exc


# The first start's demo logs while they import (one per process: the engine is made once).
_pending: list[DemoLogs] = []


@st.cache_resource(show_spinner=False)
def _engine() -> Engine:
    """Process-wide engine: migrations applied once, demo seeded once when the database is new (its
    event logs in the background: :class:`DemoLogs`)."""
    engine = get_engine()
    _pending.clear()  # a new engine (the cache cleared): what an earlier one imported is not this one's
    if os.environ.get("JOURNEYLENS_NO_DEMO") != "1":
        with as_system("first start"):  # whoever opens the app first, the demo is seeded
            map_ids = demo.ensure_demo_maps(engine=engine)
        if map_ids is not None:
            _pending[:] = [DemoLogs(engine, map_ids)]
    return engine


def demo_logs_pending() -> bool:
    """True while the first start's demo event logs are still importing."""
    return any(logs.thread.is_alive() for logs in _pending)


def _wait_for_demo_logs(*, wait: bool = True) -> None:
    """Wait (``wait``) for the first start's demo event logs while they import, then clear the caches
    that may have been read before they were in; say so if their import failed (the page still draws)."""
    for logs in _pending:
        if wait and logs.thread.is_alive():
            with st.spinner("Importing the demo's event logs…"):
                logs.thread.join()
            st.cache_data.clear()
        if logs.error is not None:
            st.error(
                f"The demo's event logs could not be imported: {escape_markup(str(logs.error))}. "
                "`python cli.py demo --reset` seeds the demo again.",
                icon=":material/error:",
            )


def finish_first_start(importing_demo: bool) -> None:
    """At the end of the Overview, drawn while the first start's demo logs were importing
    (``importing_demo``, :func:`demo_logs_pending` when it began): wait for them and draw it again."""
    if importing_demo:
        for logs in _pending:
            logs.thread.join()
        st.cache_data.clear()  # what this run read before the logs were in
        st.rerun()


def bootstrap(title: str, icon: str | Path = FAVICON, *, wait_for_demo: bool = True) -> Engine:
    """Configure the page, make sure the database is ready and draw the sidebar. Returns the engine.

    ``wait_for_demo``: on a first start, wait for the demo's event logs before drawing (every page but
    the Overview, which draws at once and then calls :func:`finish_first_start`)."""
    st.set_page_config(page_title=f"{title} · JourneyLens", page_icon=str(icon), layout="wide")
    try:
        require_sign_in()  # only when secrets.toml has an [auth] section (components/auth.py)
        try:
            with st.spinner("Preparing the database and the demo…"):
                engine = _engine()
        except (JourneyLensError, OSError) as exc:  # damaged, read-only or missing data directory: say so
            st.title("JourneyLens")
            st.error(escape_markup(str(exc)), icon=":material/database_off:")
            st.caption("`python cli.py check` lists what is wrong with the data directory and what to do.")
            st.stop()
    finally:
        resume_gc()  # the first run's imports are done (core.start_up; app.py paused the collector)
    _wait_for_demo_logs(wait=wait_for_demo)
    with st.sidebar:
        st.markdown("### JourneyLens")
        for path, label, page_icon in list_pages():
            st.page_link(path, label=label, icon=page_icon)
    return engine
