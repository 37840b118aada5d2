"""Data: import event logs (CSV, Excel .xlsx, Parquet), see how each was read, delete them, and link
them to journey maps."""

from __future__ import annotations

import streamlit as st

from components.access import editing_allowed
from components.bootstrap import bootstrap
from components.errors import user_errors
from components.import_form import (
    render_dataset_details,
    render_dataset_list,
    render_import_form,
    render_link_editor,
)
from components.loaders import load_dataset_summaries
from components.url_select import query_tabs

bootstrap("Data")
st.title("Event logs")
st.caption(
    "Import CSV, Excel or Parquet exports as they are (every row an event), check how they were read, "
    "and link their activities to a journey map's touchpoints."
)

# The open tab is kept in the link (?data_tab=…); with event logs stored, the page opens on them.
TABS = ["Import", "Datasets and links"]
tab_import, tab_datasets = query_tabs(TABS, key="data_tab", default=TABS[1] if load_dataset_summaries() else TABS[0])
with tab_import:
    if editing_allowed("import event logs"):
        render_import_form()
with tab_datasets:
    dataset_id = render_dataset_list()
    if dataset_id is not None:
        with user_errors():  # a dataset whose events file is missing or damaged: say so, keep the page
            render_dataset_details(dataset_id)
        st.subheader("Link to a map")
        with user_errors():
            if editing_allowed("change links"):
                render_link_editor(dataset_id)
