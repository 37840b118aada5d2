"""A chart's data twin on the page: the table (paged, never the whole of a large result) and its CSV.

The table is written for people (``charts.labels.for_people``: human column labels, percentages with one
decimal, durations in min/h/days, counts without decimals, a dash for a missing value); the CSV keeps
the machine names and raw values."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts.labels import for_people
from services.csv_safety import to_safe_csv

MAX_SHOWN_ROWS = 500


def render_data_table(
    frame: pd.DataFrame,
    *,
    file_name: str,
    key: str,
    max_rows: int = MAX_SHOWN_ROWS,
    height: int | None = None,
    download: pd.DataFrame | None = None,
) -> None:
    """Show up to ``max_rows`` rows of ``frame`` and offer all of it as a CSV (formulas neutralised);
    ``download``: what the CSV holds instead (the same rows with what the page states beside them)."""
    shown = for_people(frame.head(max_rows))
    frame = frame if download is None else download
    st.dataframe(shown, hide_index=True, width="stretch", height=height or "auto")
    c1, c2 = st.columns([3, 1])
    if len(frame) > max_rows:
        c1.caption(f"Showing the first {max_rows:,} of {len(frame):,} rows; the download has them all.")
    csv = frame.map(lambda v: " > ".join(map(str, v)) if isinstance(v, tuple) else v) if not frame.empty else frame
    c2.download_button(
        "Download CSV",
        data=to_safe_csv(csv),
        file_name=file_name,
        mime="text/csv",
        key=f"download_{key}",
        icon=":material/download:",
        width="stretch",
    )
