"""Maps: create a journey map from a template or from scratch, import one from JSON, open, rename and delete maps.
``?map=<id>`` selects the map to change."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from components.access import can_admin, editing_allowed
from components.bootstrap import bootstrap
from components.confirm import confirmed
from components.errors import user_errors
from components.flash import flash, form_key, form_saved, show_flash
from components.loaders import clear_caches, load_map_summaries
from components.map_editor import import_map_json
from components.text import escape_markdown
from components.url_select import query_pick
from services import maps as map_service
from services.templates import list_templates

STUDIO = "pages/2_Map_studio.py"

bootstrap("Maps")
st.title("Journey maps")
show_flash()

templates = {t.key: t for t in list_templates()}
editor = editing_allowed("create, import, rename or delete maps")
if editor:
    # A refused map keeps what was typed; a created one empties the form (drawn afresh on the next run).
    create = form_key("create_map")
    with st.expander("Create a map", expanded=not load_map_summaries()), st.form(create):
        name = st.text_input(
            "Name", max_chars=200, placeholder="e.g. Mid-market SaaS buyer journey", key=f"{create}:name"
        )
        key = st.selectbox(
            "Start from",
            [None, *templates],
            format_func=lambda k: (
                "Empty map (no stages)" if k is None else f"{templates[k].name}: {templates[k].description}"
            ),
            key=f"{create}:template",
        )
        c1, c2 = st.columns(2)
        owner = c1.text_input("Owner", max_chars=200, key=f"{create}:owner")
        review_by = c2.date_input("Review by", value=date.today() + timedelta(days=90), key=f"{create}:review")
        if st.form_submit_button("Create map", type="primary"):
            with user_errors():
                map_id = map_service.create_map_from_template(
                    template_key=key, name=name, owner=owner, review_by=review_by
                )
                clear_caches()
                flash(f"Created map “{escape_markdown(name.strip())}” (id {map_id}).")
                st.session_state["maps_created"] = map_id
                form_saved("create_map")
                st.rerun()
    if st.session_state.get("maps_created"):
        st.page_link(
            STUDIO,
            label="Open the new map in the studio",
            icon=":material/open_in_new:",
            query_params={"map": str(st.session_state["maps_created"])},
        )

    with st.expander("Import a map from JSON"):
        st.caption("A JSON file exported by JourneyLens (Map studio › Export, or `python cli.py maps export ID`).")
        import_map_json("Map JSON", "maps_import", STUDIO, "Open it in the studio")

maps = load_map_summaries()
if not maps:
    st.info("No maps yet: create one above from a template.")
    st.stop()

st.subheader(f"{len(maps)} maps")
st.dataframe(
    [
        {
            "Id": m["id"],
            "Map": m["name"],
            "State": m["state"],
            "Owner": m["owner"],
            "Stages": m["stages"],
            "Touchpoints": m["touchpoints"],
            "Last updated": f"{m['updated_at']:%Y-%m-%d %H:%M} UTC",
            "Review by": m["review_by"].isoformat() if m["review_by"] else "not set",
            "Stale": "⚠ stale" if m["stale"] else "",
        }
        for m in maps
    ],
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="maps_table",
)
picked = (st.session_state.get("maps_table") or {}).get("selection", {}).get("rows", [])
st.caption("Click a map's row to open it in the Map studio.")
if picked:
    st.switch_page(STUDIO, query_params={"map": str(maps[picked[0]]["id"])})

by_id = {m["id"]: m for m in maps}
# ``?map=<id>`` opens that map here (and the choice is kept in the link); an id of no map is refused.
selected = query_pick("Map to change", {i: f"{m['name']} (id {i})" for i, m in by_id.items()}, param="map", what="map")
if selected is None:
    st.stop()
current = by_id[selected]
st.page_link(
    STUDIO,
    label=f"Open “{escape_markdown(current['name'])}” in the studio",
    icon=":material/open_in_new:",
    query_params={"map": str(selected)},
)
if not editor:
    st.stop()
c1, c2 = st.columns(2)
with c1, st.form("rename_map"):
    new_name = st.text_input("New name", value=current["name"], max_chars=200)
    if st.form_submit_button("Rename"):
        with user_errors():
            map_service.rename_map(selected, new_name, expected_version=current["version"])
            clear_caches()
            st.rerun()
if not can_admin():  # deleting needs the admin role
    st.stop()
with c2, st.form("delete_map"):
    st.write(
        f"Delete **{escape_markdown(current['name'])}** with its stages, touchpoints, lanes, metrics and snapshots."
    )
    if confirmed(
        "Yes, delete this map for good", "Delete map", "Tick the box to confirm the deletion.", type="secondary"
    ):
        with user_errors():
            map_service.delete_map(selected, expected_version=current["version"])
            clear_caches()
            st.query_params.pop("map", None)  # the link no longer names a map that is gone
            st.session_state.pop("qp_map", None)
            st.rerun()
