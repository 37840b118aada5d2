"""URL-state widgets and the report buttons of the Metrics, Friction, Overlay and Overview pages.

Every choice a page makes is kept in the URL (``?map=<id>&dataset=<id>&...``), so a link
reproduces the view. Their data comes through the cached loaders (:mod:`components.loaders`).
"""

from __future__ import annotations

import math

import streamlit as st

from analytics.friction import FrictionWeights
from components.bootstrap import ROOT
from components.loaders import load_report

# --------------------------------------------------------------------------- URL state


WEIGHT_MAX = 10.0  # the largest weight the Friction page takes


def weights_from_url() -> tuple[FrictionWeights, list[str]]:
    """Friction weights from ``?w_exit=..&w_backtrack=..`` (defaults where absent), and what the
    link asked that could not be used, each named with the weight used instead: a value that is not
    a number from 0 to :data:`WEIGHT_MAX`, or weights that are all 0 (the defaults then)."""
    defaults = FrictionWeights().as_dict()
    values: dict[str, float] = {}
    said: list[str] = []
    for key, default in defaults.items():
        raw = st.query_params.get(f"w_{key}")
        value = default
        if raw not in (None, ""):
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not 0 <= value <= WEIGHT_MAX:  # not a number fails too
                said.append(
                    f"The link's w_{key}={raw} is not a number from 0 to {WEIGHT_MAX:g}; using {default:g} instead."
                )
                value = default
        values[key] = value
    if sum(values.values()) <= 0:
        said.append("The link's weights are all 0; the default weights are used instead.")
        return FrictionWeights(), said
    return FrictionWeights(**values), said


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
