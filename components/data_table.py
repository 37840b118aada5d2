"""A chart's data twin on the page: the table (paged, never the whole of a large result) and its CSV."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from services.csv_safety import to_safe_csv

MAX_SHOWN_ROWS = 500


def _formats(frame: pd.DataFrame) -> dict:
    """Fractions shown as percentages and durations as days, on screen only (the CSV keeps raw values)."""
    config = {}
    for column in frame.columns:
        name = str(column)
        if name == "share" or name.startswith(("share_", "conversion")) or name.endswith("_rate"):
            config[name] = st.column_config.NumberColumn(name, format="percent")
        elif "seconds" in name:
            config[name] = st.column_config.NumberColumn(
                name.replace("seconds", "days"), format="%.2f", help=f"{name} shown in days"
            )
    return config


def render_data_table(
    frame: pd.DataFrame, *, file_name: str, key: str, max_rows: int = MAX_SHOWN_ROWS, height: int | None = None
) -> None:
    """Show up to ``max_rows`` rows of ``frame`` and offer all of it as a CSV (formulas neutralised)."""
    shown = frame.head(max_rows).copy()
    for column in shown.columns:
        if "seconds" in str(column):
            shown[column] = shown[column] / 86400.0
    shown = shown.map(lambda v: " > ".join(map(str, v)) if isinstance(v, tuple) else v) if not shown.empty else shown
    st.dataframe(shown, hide_index=True, width="stretch", height=height or "auto", column_config=_formats(shown))
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
