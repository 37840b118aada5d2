"""Map studio: build and edit one journey map (grid, stages and touchpoints, lanes, pain points and
opportunities, action plan, personas, versions, export). The map is chosen by ``?map=<id>``."""

from __future__ import annotations

import streamlit as st

from components import map_editor, studio_tabs
from components.bootstrap import bootstrap
from components.errors import user_errors
from components.loaders import load_map_summaries

bootstrap("Map studio")
st.title("Map studio")

maps = load_map_summaries()
if not maps:
    st.info("No journey maps yet: create one on the Maps page.")
    st.page_link("pages/1_Maps.py", label="Maps", icon=":material/map:")
    st.stop()

by_id = {m["id"]: m for m in maps}
try:
    wanted = int(st.query_params.get("map", ""))
except ValueError:
    wanted = None
if wanted is not None and wanted not in by_id:
    st.warning(f"Map {wanted} does not exist (it may have been deleted); showing the first map instead.")
ids = list(by_id)
map_id = st.selectbox(
    "Map",
    ids,
    index=ids.index(wanted) if wanted in by_id else 0,
    format_func=lambda i: f"{by_id[i]['name']} (id {i})" + (" · stale" if by_id[i]["stale"] else ""),
)
st.query_params["map"] = str(map_id)

with user_errors():
    view = map_editor.base_view(map_id)
    studio_tabs.render_header(view)
    map_editor.show_flash()
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
    # Bound to ?tab=: only the open tab runs, and a link reproduces the view.
    for tab, render in zip(st.tabs(labels, key="tab", bind="query-params"), renderers, strict=True):
        if tab.open:
            with tab:
                render(view)
