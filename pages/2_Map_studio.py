"""Map studio: build and edit one journey map (grid, stages and touchpoints, lanes, pain points and
opportunities, action plan, personas, versions, export). The map is chosen by ``?map=<id>``."""

from __future__ import annotations

import streamlit as st

from components import map_editor, studio_tabs
from components.access import editing_allowed
from components.analysis_controls import INVALID, pick_map
from components.bootstrap import bootstrap
from components.errors import user_errors
from components.flash import show_flash
from components.loaders import load_map_summaries
from components.url_select import query_tabs

bootstrap("Map studio")
st.title("Map studio")

maps = load_map_summaries()
if not maps:
    st.info("No journey maps yet: create one on the Maps page.")
    st.page_link("pages/1_Maps.py", label="Maps", icon=":material/map:")
    st.stop()

map_id = pick_map(label="Map", required=True)
if isinstance(map_id, type(INVALID)) or map_id is None:
    st.stop()
studio_tabs.forget_other_maps_params(map_id)

with user_errors():
    view = map_editor.base_view(map_id)
    studio_tabs.render_header(view)
    show_flash()
    tabs = studio_tabs.STUDIO_TABS
    if not editing_allowed("edit this map"):  # viewers: the read-only tabs only
        tabs = tuple((label, render) for label, render in tabs if label in studio_tabs.READ_ONLY_TABS)
    labels = [label for label, _ in tabs]
    # Bound to ?tab=: only the open tab runs, and a link reproduces the view.
    for tab, (_, render) in zip(query_tabs(labels, key="tab"), tabs, strict=True):
        if tab.open:
            with tab:
                render(view)
