"""Data: the event logs (datasets) of this workspace."""

from __future__ import annotations

import streamlit as st

from components.bootstrap import bootstrap
from components.loaders import load_dataset_summaries

bootstrap("Data")
st.title("Event logs")

datasets = load_dataset_summaries()
if not datasets:
    st.info("No event logs yet.")
else:
    st.dataframe(datasets, hide_index=True, use_container_width=True)
