"""Cached loaders between pages and services: plain, hashable results; cleared after writes."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from services import datasets as dataset_service
from services import maps as map_service


@st.cache_data(show_spinner=False, ttl=300, max_entries=64)
def load_map_summaries() -> list[dict]:
    return [asdict(m) for m in map_service.list_map_summaries()]


@st.cache_data(show_spinner=False, ttl=300, max_entries=64)
def load_dataset_summaries() -> list[dict]:
    return [asdict(d) for d in dataset_service.list_dataset_summaries()]


def clear_caches() -> None:
    """Call after any write so every page shows the new state."""
    st.cache_data.clear()
