"""The one bootstrap every page calls first: page config, engine and migrations, demo seeding, sidebar."""

from __future__ import annotations

import os

import streamlit as st
from sqlalchemy import Engine

from db.engine import get_engine
from services import demo

PAGES: tuple[tuple[str, str, str], ...] = (
    ("app.py", "Overview", ":material/dashboard:"),
    ("pages/1_Maps.py", "Maps", ":material/map:"),
    ("pages/2_Data.py", "Data", ":material/upload_file:"),
)


@st.cache_resource(show_spinner=False)
def _engine() -> Engine:
    """Process-wide engine: migrations applied once, demo seeded once when the database is new."""
    engine = get_engine()
    if os.environ.get("JOURNEYLENS_NO_DEMO") != "1":
        demo.ensure_demo(engine=engine)
    return engine


def bootstrap(title: str, icon: str = ":material/route:") -> Engine:
    """Configure the page, make sure the database is ready and draw the sidebar. Returns the engine."""
    st.set_page_config(page_title=f"{title} · JourneyLens", page_icon=icon, layout="wide")
    with st.spinner("Preparing the database and the demo…"):
        engine = _engine()
    with st.sidebar:
        st.markdown("### JourneyLens")
        for path, label, page_icon in PAGES:
            st.page_link(path, label=label, icon=page_icon)
    return engine
