"""The map's report buttons of the Metrics, Friction, Overlay and Overview pages, and whether a page
exists. Their data comes through the cached loaders (:mod:`components.loaders`); the choices the pages
keep in the URL go through :mod:`components.url_select`.
"""

from __future__ import annotations

import streamlit as st

from components.bootstrap import ROOT
from components.loaders import load_report


def page_exists(path: str) -> bool:
    return (ROOT / path).is_file()


# --------------------------------------------------------------------------- the map's report


def render_report_buttons(
    map_id: int,
    *,
    dataset_id: int | None = None,
    measure: str = "friction",
    version: int | None = None,
    key: str = "report",
    compact: bool = False,
) -> None:
    """The report where a manager is: the map's HTML report (written when clicked) and its tables as CSVs;
    ``compact`` shows the report alone, labelled "Report" (the Overview's map cards)."""
    with st.container(horizontal=True):
        st.download_button(
            "Report" if compact else "Download the map's report (HTML)",
            lambda: load_report(map_id, dataset_id, measure, version)[0].encode("utf-8"),
            file_name=f"journeylens-report-{map_id}.html",
            mime="text/html",
            icon=":material/description:",
            key=f"{key}_html",
            help="The whole grid with a measure laid over it, stage flow, funnel, metrics, hot spots and action "
            "plan in one file that opens offline.",
        )
        if compact:
            return
        st.download_button(
            "Download every table (ZIP of CSVs)",
            lambda: load_report(map_id, dataset_id, measure, version)[1],
            file_name=f"journeylens-report-{map_id}-tables.zip",
            mime="application/zip",
            icon=":material/folder_zip:",
            key=f"{key}_zip",
        )
