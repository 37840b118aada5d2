"""The one bootstrap every page calls first: page config, engine and migrations, demo seeding, sidebar."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
from sqlalchemy import Engine

from components.auth import require_sign_in
from components.text import escape_markup
from core.errors import JourneyLensError
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


@st.cache_resource(show_spinner=False)
def _engine() -> Engine:
    """Process-wide engine: migrations applied once, demo seeded once when the database is new."""
    engine = get_engine()
    if os.environ.get("JOURNEYLENS_NO_DEMO") != "1":
        with as_system("first start"):  # whoever opens the app first, the demo is seeded
            demo.ensure_demo(engine=engine)
    return engine


def bootstrap(title: str, icon: str | Path = FAVICON) -> Engine:
    """Configure the page, make sure the database is ready and draw the sidebar. Returns the engine."""
    st.set_page_config(page_title=f"{title} · JourneyLens", page_icon=str(icon), layout="wide")
    require_sign_in()  # only when secrets.toml has an [auth] section (components/auth.py)
    try:
        with st.spinner("Preparing the database and the demo…"):
            engine = _engine()
    except (JourneyLensError, OSError) as exc:  # damaged, read-only or missing data directory: say so
        st.title("JourneyLens")
        st.error(escape_markup(str(exc)), icon=":material/database_off:")
        st.caption("`python cli.py check` lists what is wrong with the data directory and what to do.")
        st.stop()
    with st.sidebar:
        st.markdown("### JourneyLens")
        for path, label, page_icon in list_pages():
            st.page_link(path, label=label, icon=page_icon)
    return engine
