"""JourneyLens entry point and Overview page: every map and dataset at a glance."""

from __future__ import annotations

import streamlit as st

from components.bootstrap import bootstrap
from components.loaders import load_dataset_summaries, load_map_summaries
from components.text import escape_markdown

bootstrap("Overview")
st.title("Overview")
st.caption("Every journey map and event log in this workspace.")

maps = load_map_summaries()
if not maps:
    st.info("No journey maps yet. Open **Maps** to create one from a template, or run `python cli.py demo`.")
else:
    stale = sum(m["stale"] for m in maps)
    c1, c2, c3 = st.columns(3)
    c1.metric("Journey maps", len(maps))
    c2.metric("Stale maps", stale, help="Maps past their review-by date")
    c3.metric("Datasets", len(load_dataset_summaries()))
    st.subheader("Journey maps")
    cols = st.columns(3)
    for i, m in enumerate(maps):
        with cols[i % 3].container(border=True):
            st.markdown(f"**{escape_markdown(m['name'])}**" + ("  :orange-badge[stale]" if m["stale"] else ""))
            st.caption(
                f"Owner: {escape_markdown(m['owner'] or '—')} · {m['stages']} stages · {m['touchpoints']} touchpoints"
                f" · updated {m['updated_at']:%Y-%m-%d}"
            )

st.subheader("Event logs")
datasets = load_dataset_summaries()
if not datasets:
    st.info("No event logs yet. Open **Data** to upload a CSV export.")
else:
    st.dataframe(datasets, hide_index=True, use_container_width=True)
