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

with user_errors():
    view = map_editor.base_view(map_id)
    studio_tabs.render_header(view)
    show_flash()
    labels = [
        "Grid",
        "Stages & touchpoints",
        "Lanes",
        "Pain points & opportunities",
        "Action plan",
        "Personas",
        "Versions",
        "Export",
    ]
    renderers = [
        studio_tabs.render_grid_tab,
        studio_tabs.render_structure_tab,
        studio_tabs.render_lanes_tab,
        studio_tabs.render_pains_tab,
        studio_tabs.render_actions_tab,
        studio_tabs.render_personas_tab,
        studio_tabs.render_versions_tab,
        studio_tabs.render_export_tab,
    ]
    if not editing_allowed("edit this map"):  # viewers: the read-only tabs only
        keep = [i for i, label in enumerate(labels) if label in ("Grid", "Versions", "Export")]
        labels, renderers = [labels[i] for i in keep], [renderers[i] for i in keep]
    # Bound to ?tab=: only the open tab runs, and a link reproduces the view.
    for tab, render in zip(st.tabs(labels, key="tab", bind="query-params"), renderers, strict=True):
        if tab.open:
            with tab:
                render(view)
