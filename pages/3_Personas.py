"""Personas: the people a journey is for, with their B2B buying-committee role. ``?persona=<id>`` selects one."""

from __future__ import annotations

import streamlit as st

from charts.labels import for_people
from components import persona_forms
from components.access import can_admin, editing_allowed
from components.bootstrap import bootstrap
from components.confirm import confirmed
from components.errors import user_errors
from components.flash import flash, form_saved, show_flash
from components.loaders import clear_caches
from components.url_select import link_value, query_pick, warn_link_values_left_out
from services import personas as persona_service
from services.csv_safety import to_safe_csv

bootstrap("Personas")
st.title("Personas")
st.caption(
    "Who buys: a persona per buying-committee role (decision maker, champion, influencer, user/practitioner, "
    "technical evaluator, procurement, executive sponsor). Attach them to maps in the Map studio."
)
show_flash()


def forget_link_persona() -> None:
    st.query_params.pop("persona", None)
    st.session_state.pop("qp_persona", None)


with user_errors():
    personas = persona_service.list_personas()
    maps_by_persona = persona_service.list_persona_maps()
    table = persona_service.compute_persona_table(personas, maps_by_persona)

    editor = editing_allowed("create, edit or delete personas")
    with st.expander("Create a persona", expanded=not personas) if editor else st.container():
        values = persona_forms.persona_form("create_persona", None, submit="Create persona") if editor else None
        if values is not None:
            persona_id = persona_service.create_persona(**values)
            form_saved("create_persona")  # drawn empty next time (a refused one keeps what was typed)
            clear_caches()
            flash(f"Persona “{values['name'].strip()}” created.")
            st.query_params["persona"] = str(persona_id)
            st.session_state.pop("qp_persona", None)  # the picker follows the link to the new persona
            st.rerun()

    if not personas:
        st.info("No personas yet: create the first one above.")
        st.stop()

    roles = [persona_service.ALL_ROLES, *persona_service.COMMITTEE_ROLES, persona_service.NONE_PLAYED]
    warn_link_values_left_out("role", roles)
    role = st.selectbox(
        "Committee role", roles, key="role", bind="query-params", on_change=forget_link_persona
    )  # a new filter: the editor below opens one of the personas it shows, not the one picked before
    shown = persona_service.personas_of_role(table, role)
    st.subheader(f"{len(shown)} personas")
    st.dataframe(
        for_people(
            shown.drop(columns=["id"]),
            labels={"is_decision_maker": "Decision maker", "channels": "Channels and media", "maps": "On maps"},
        ),
        hide_index=True,
        width="stretch",
    )
    # The download is what the table shows (the role filter applied).
    st.download_button("Download personas (CSV)", to_safe_csv(shown), "personas.csv", "text/csv")

    st.subheader("Buying-committee coverage by map")
    matrix = persona_service.compute_committee_matrix()
    st.caption("How many of each map's personas play each role; 0 is a role nobody on the map covers.")
    st.dataframe(for_people(matrix.drop(columns=["map_id"])), hide_index=True, width="stretch")
    st.download_button(
        "Download the coverage (CSV)", to_safe_csv(matrix), "committee_coverage.csv", "text/csv", key="matrix_csv"
    )

    st.subheader("Edit a persona")
    by_id = {p.id: p for p in personas}
    # The personas the table shows (the role filter applied); one the link names stays offered.
    offered = [int(i) for i in shown["id"]]
    if (linked := link_value("persona")) is not None and linked.isascii() and linked.isdigit() and int(linked) in by_id:
        offered += [int(linked)] if int(linked) not in offered else []
    if role != persona_service.ALL_ROLES:
        st.caption(f"Of the personas shown above ({role}); *all roles* offers every one.")
    label = {i: by_id[i].name + (f" ({by_id[i].committee_role})" if by_id[i].committee_role else "") for i in offered}
    selected = query_pick("Persona", label, param="persona", what="persona")
    if selected is None:
        st.stop()
    persona = by_id[selected]
    used_on = maps_by_persona.get(selected, [])
    st.caption("On maps: " + (", ".join(used_on) if used_on else "none yet"))
    if not editor:
        st.stop()
    values = persona_forms.persona_form(f"edit_persona::{selected}", persona, submit="Save persona")
    if values is not None:
        persona_service.update_persona(selected, **values)
        clear_caches()
        flash(f"Persona “{values['name'].strip()}” saved.")
        st.rerun()
    if not can_admin():  # deleting needs the admin role
        st.stop()
    with st.form(f"delete_persona::{selected}"):
        st.markdown("**Delete this persona** (it leaves every map it is on, with its own lane cells and pain points)")
        if confirmed("Yes, delete this persona", "Delete persona", "Tick the box to confirm the deletion."):
            persona_service.delete_persona(selected)
            clear_caches()
            flash("Persona deleted.")
            del st.query_params["persona"]
            st.session_state.pop("qp_persona", None)
            st.rerun()
