"""Tables and CSV downloads that cannot carry spreadsheet formulas out of the app (CSV injection).

The table toolbar of ``st.dataframe`` has its own CSV download and clipboard copy, which write cells
as they are. ``.streamlit/config.toml`` turns both off for every table (``client.disableDataExport``):
downloads go through :func:`csv_download_button`, i.e. ``services.csv_safety.to_safe_csv``.

Where an operator turns the toolbar export back on, :func:`safe_dataframe` hands the table to
Streamlit already neutralised (a cell such as ``=HYPERLINK(...)`` shows, and exports, as
``'=HYPERLINK(...)``); with export off it shows cells exactly as they are.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from services.csv_safety import neutralise_frame, to_safe_csv


def toolbar_export_enabled() -> bool:
    """Whether the table toolbar's own download / copy is on in this deployment."""
    return not bool(st.get_option("client.disableDataExport"))


def table_for_display(data: Any, *, export_enabled: bool) -> pd.DataFrame:
    """The frame to give ``st.dataframe``: neutralised when the toolbar can export it."""
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    return neutralise_frame(frame) if export_enabled else frame


def safe_dataframe(data: Any, **kwargs: Any) -> Any:
    """``st.dataframe`` whose toolbar export, if enabled at all, yields neutralised cells."""
    return st.dataframe(table_for_display(data, export_enabled=toolbar_export_enabled()), **kwargs)


def csv_download_button(
    frame: pd.DataFrame, *, file_name: str, label: str = "Download CSV", key: str | None = None
) -> Any:
    """A download button for ``frame`` as neutralised CSV (UTF-8 with BOM)."""
    return st.download_button(label, to_safe_csv(frame), file_name=file_name, mime="text/csv", key=key)
