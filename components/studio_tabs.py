"""The tabs of the Map studio page: each renders one part of a map and its editors.

Every edit goes through ``components.map_editor.save`` (versioned, conflict-safe); every table shown
is a service's plain-data result; every chart has its data twin beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from analytics import map_tables
from analytics.map_tables import MAP_MEASURES
from charts.labels import for_people
from charts.map_grid import SEVERITY_WORDS, compute_emotion_curve, compute_map_grid, figure_size, map_grid_figure
from charts.map_grid_html import grid_page_html
from components import map_editor as ed
from components.access import can_edit
from components.errors import user_errors
from components.flash import form_key
from components.grid_edit import render_grid_conflicts, render_grid_editor
from components.map_grid_view import render_map_grid
from components.metrics_ui import render_report_buttons
from components.studio_files import STUDIO_PAGE, map_csv_button, slug
from components.studio_versions import render_versions_tab
from components.text import escape_markdown, escape_markup
from components.theme import is_dark
from components.url_select import query_select, warn_link_values_left_out
from core.journey_map import ACTION_TASK_FIELDS, OPPORTUNITY_SHOWN, RACI_FIELDS, MapView
from db.models import ActionStatus, CommitteeRole, Lane, MapState
from services import map_edits, map_io, map_mermaid, map_view
from services import personas as persona_service
from services.map_edits import RowEdits

PRIORITY_FORMULA = (
    "priority = (customer value + business value) ÷ 2 ÷ effort, × 1.5 when the opportunity sits on a "
    "moment-of-truth touchpoint (all scores 1–5; ties: higher customer value, then lower effort, then older)."
)
COMMON_CHANNELS = "web, email, social, ads, events, sales rep, demo, chat, phone, help centre, community"


def plotly_config(fig_width: int, fig_height: int, filename: str) -> dict:
    """Toolbar settings: a clean PNG at the figure's own size (×2 for print), no Plotly logo."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {
            "format": "png",
            "filename": filename,
            "width": fig_width,
            "height": fig_height,
            "scale": 2,
        },
        "modeBarButtonsToRemove": ["zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"],
    }


def persona_label(view: MapView, persona_id: int) -> str:
    if persona_id == ed.EVERYONE:
        return "Everyone (no persona)"
    persona = next((p for p in view.personas if p.id == persona_id), None)
    if persona is None:
        return f"Persona {persona_id}"
    return persona.name + (f" ({persona.committee_role})" if persona.committee_role else "")


def _no_such_persona(view: MapView, raw: str) -> None:
    """The warning for a link naming a persona this map lacks: the real ones, and what is drawn meanwhile."""
    listed = "; ".join(f"{p.id} ({persona_label(view, p.id)})" for p in view.personas) or "none yet"
    st.warning(
        escape_markup(f"There is no persona {raw} on this map (from the link). Personas here: {listed}.")
        + " The tab shows everyone's view until you pick one."
    )


def _pick_persona(
    where: Any, view: MapView, label: str, key: str, help: str, *, param: str | None = None
) -> int | None:
    """Everyone or one of the map's personas, in a select box in ``where``; None means everyone. With
    ``param``, the choice lives in the URL under that name."""
    choices = [ed.EVERYONE, *(p.id for p in view.personas)]
    if param:
        with where:
            # A persona the link names that this map lacks is refused with the real ones (never shown as
            # "Everyone" with the link rewritten, so that a reload would say nothing); everyone is drawn meanwhile.
            # Everyone is the option None, the default: the link then carries no parameter (not "persona=0").
            if st.query_params.get(param) == str(ed.EVERYONE):  # an older link's everyone: read as such
                st.query_params.pop(param)
            picked = query_select(
                label,
                [None, *choices[1:]],
                param=param,
                format_func=lambda i: persona_label(view, ed.EVERYONE if i is None else i),
                key=key,
                help=help,
                refuse=lambda raw: _no_such_persona(view, raw),
                placeholder="Everyone (choose a persona)",
            )
    else:
        picked = where.selectbox(label, choices, format_func=lambda i: persona_label(view, i), key=key, help=help)
    return None if picked in (None, ed.EVERYONE) else picked


def render_wide_figure(fig: object, *, key: str, filename: str) -> None:
    """Draw a figure at its own pixel width inside a box that scrolls sideways (a wide map stays readable).

    Streamlit fits charts to the column; the grid has a fixed width per touchpoint column, so the box
    around it is made scrollable with a static style rule (no user text in it).
    """
    width, height = figure_size(fig)  # type: ignore[arg-type]
    st.html(
        f"<style>.st-key-{key}_scroll {{ overflow-x: auto !important; }} "
        f".st-key-{key} {{ width: {int(width)}px !important; min-width: {int(width)}px !important; "
        f"max-width: none !important; }}</style>"
    )
    with st.container(key=f"{key}_scroll"), st.container(key=key):
        st.plotly_chart(
            fig, theme=None, width=int(width), config=plotly_config(width, height, filename), key=f"{key}_chart"
        )


# --------------------------------------------------------------------------- header


def render_header(view: MapView) -> None:
    st.subheader(escape_markdown(view.name))
    badges = [f":blue-badge[{view.state} state]"]
    if view.stale:
        badges.append(":orange-badge[stale: past its review-by date]")
    if view.is_demo:
        badges.append(":gray-badge[demo]")
    st.markdown(" ".join(badges))
    review = view.review_by.isoformat() if view.review_by else "not set"
    st.caption(
        f"Owner: {escape_markdown(view.owner or '—')} · review by {review} · {len(view.stages)} stages · "
        f"{len(view.touchpoints)} touchpoints · {len(view.personas)} personas · version {view.version}"
    )
    if view.description:
        st.caption(escape_markdown(view.description))
    render_report_buttons(view.id, version=view.version, key="studio_report")
    latest = map_view.get_map_version(view.id)
    if latest != view.version:
        c1, c2 = st.columns([4, 1])
        c1.warning(
            f"This map was changed elsewhere since you opened it (your copy: version {view.version}, now "
            f"{latest}). Saving from your copy will be refused; reload to see the changes.",
            icon=":material/sync_problem:",
        )
        if c2.button("Reload the map", key="reload_base"):
            ed.reload_base(view.id)
            st.rerun()


# --------------------------------------------------------------------------- grid


def render_grid_tab(view: MapView) -> None:
    if not view.stages:
        st.info(
            "This map has no stages yet: add some in **Stages & touchpoints**."
            if can_edit()
            else "This map has no stages yet: an editor of this map can add them."
        )
        return
    c1, c2 = st.columns(2)
    persona_id = _pick_persona(
        c1, view, "Whose view", f"grid_persona::{view.id}",
        "A persona's view shows their own lane cells, falling back to the cells for everyone.", param="persona",
    )  # fmt: skip
    measures = ["none", *MAP_MEASURES]
    measure_name = {"none": "No measure", **MAP_MEASURES}
    # The link carries the measure as shown ("Emotion (everyone, −2..+2)"), as the bound select writes it.
    warn_link_values_left_out("overlay", [measure_name[m] for m in measures])
    measure = c2.selectbox(
        "Lay a measure over the touchpoints",
        measures,
        format_func=measure_name.__getitem__,
        key="overlay",
        bind="query-params",
        help="Measures from event logs (volume, conversion, friction, NPS…) are laid over this grid on the "
        "Metrics and Friction pages.",
    )
    overlay = None if measure == "none" else map_tables.compute_map_measure(view, measure)
    render_grid_conflicts(view)
    render_grid_editor(view)
    # The editor links keep the view (measure, persona, zoom): the page reloads on them.
    here = {k: v for k, v in st.query_params.to_dict().items() if k != "edit"}
    edit_href = "?" + urlencode({**here, "map": int(view.id), "tab": "Grid"})
    render_map_grid(view, overlay, key="map_grid", persona_id=persona_id, edit_href=edit_href, zoom_param="zoom")
    st.caption(
        "Stages are columns with their touchpoints beneath; lanes are rows; the emotion curve (−2..+2) has a "
        "line per persona. Click a touchpoint, a thinking/doing/feeling cell, a pain point, an opportunity or an "
        "action to edit it, or “+ touchpoint”, “+ pain point”, “+ opportunity”, “+ action” under a stage to add one; the other tabs stay the bulk editors. Hover a cell for its full text; zoom in for more room "
        "per touchpoint. A PNG of the grid is on the Export tab."
    )
    with st.expander("Grid data (the chart's data twin)"):
        grid = compute_map_grid(view, overlay, persona_id=persona_id)
        curve = compute_emotion_curve(view)
        st.dataframe(for_people(grid), hide_index=True, width="stretch", height=300)
        c1, c2 = st.columns(2)
        map_csv_button(c1, "Download grid cells (CSV)", grid, view, "-grid", key="dl_grid")
        map_csv_button(c2, "Download emotion curve (CSV)", curve, view, "-emotion", key="dl_curve")


# --------------------------------------------------------------------------- stages & touchpoints


# The studio's parameters that name things of one map: a link to another map drops them.
MAP_SCOPED_PARAMS = ("persona", "snapshot", "compare", "edit")


def forget_other_maps_params(map_id: int) -> None:
    """When the studio opens another map than on its last run, drop the URL parameters that named
    things of the previous one (so they are not warned about as if a link had asked for them)."""
    previous = st.session_state.get("_studio_map")
    if previous is not None and previous != map_id:
        for param in MAP_SCOPED_PARAMS:
            st.query_params.pop(param, None)
    st.session_state["_studio_map"] = map_id


def render_map_details(view: MapView) -> None:
    with st.form(f"map_details::{view.id}::{view.version}"):
        st.markdown("**Map details**")
        c1, c2, c3 = st.columns([3, 1, 1])
        name = c1.text_input("Name", value=view.name, max_chars=200)
        states = [s.value for s in MapState]
        state = c2.selectbox("State", states, index=states.index(view.state) if view.state in states else 0)
        review_by = c3.date_input("Review by", value=view.review_by, format="YYYY-MM-DD")
        owner = st.text_input("Owner", value=view.owner, max_chars=200)
        description = st.text_area("Description", value=view.description, height=68)
        scenario = st.text_area("Scenario", value=view.scenario, height=68, help="The situation this journey covers.")
        if st.form_submit_button("Save map details"):
            changes = {
                "name": name,
                "state": state,
                "review_by": review_by,
                "owner": owner,
                "description": description,
                "scenario": scenario,
            }
            ed.save(
                view.id,
                "details",
                changes,
                lambda p, v: map_edits.update_map_details(view.id, expected_version=v, **p),
                success="Map details saved.",
            )
    ed.render_conflict(
        view.id,
        "details",
        lambda p, v: map_edits.update_map_details(view.id, expected_version=v, **p),
        lambda p: pd.DataFrame([{"field": k, "value": str(v)} for k, v in p.items()]),
    )


def _place_column(places: Mapping[str, str], **kwargs: Any) -> Any:
    """The "Stage › touchpoint" column of the item tables (pain points, opportunities, actions)."""
    return st.column_config.SelectboxColumn(
        "Stage › touchpoint", options=list(places), format_func=lambda v: places.get(v, v), **kwargs
    )


def _save_button(
    view: MapView, label: str, key: str, table: str, edits: RowEdits, fn: Any, success: str, *, blocked: bool = False
) -> None:
    """The primary "Save …" button under a map table: saves its edits (``ed.save``); off while there are none."""
    if st.button(label, key=f"{key}::{view.id}", disabled=edits.empty or blocked, type="primary"):
        ed.save(view.id, table, edits, fn, success=success)


def render_structure_tab(view: MapView) -> None:
    render_map_details(view)
    st.markdown("**Stages** — edit in place, add rows at the bottom, delete with the row checkbox. "
                "*Order* moves a stage.")  # fmt: skip
    frame = ed.stage_table(view)
    edits, stage_fn = ed.row_table(
        view,
        "stages",
        frame,
        map_edits.apply_stage_edits,
        {s.id: s.name for s in view.stages},
        ed.convert_stage,
        column_order=["order", "name", "customer_goal", "business_goal", "outcomes", "revisitable", "touchpoints"],
        column_config={
            "order": st.column_config.NumberColumn("Order", min_value=1, step=1, width="small"),
            "name": st.column_config.TextColumn("Stage", required=True, max_chars=200),
            "customer_goal": st.column_config.TextColumn("Customer goal", max_chars=4000),
            "business_goal": st.column_config.TextColumn("Your goal", max_chars=4000),
            "outcomes": st.column_config.ListColumn("Outcomes", help="e.g. hired / not now / no way"),
            "revisitable": st.column_config.CheckboxColumn("Revisited", help="Buyers come back to this stage"),
            "touchpoints": st.column_config.NumberColumn("Touchpoints", disabled=True, width="small"),
        },
    )
    doomed = [s for s in view.stages if s.id in edits.deleted and s.touchpoints]
    confirm = True
    if doomed:
        names = ", ".join(f"{s.name} ({len(s.touchpoints)} touchpoints)" for s in doomed)
        st.warning(f"Saving deletes these stages with their touchpoints, lanes and items: {escape_markdown(names)}.")
        confirm = st.checkbox("Yes, delete them", key=f"confirm_stage_delete::{view.id}")
    _save_button(view, "Save stages", "save_stages", "stages", edits, stage_fn, "Stages saved.", blocked=not confirm)

    st.markdown("**Touchpoints** — channel, owner team, RACI, moment of truth (★) and the activity names in "
                "event data each one stands for.")  # fmt: skip
    if not view.stages:
        st.info("Add a stage first.")
    else:
        tframe = ed.touchpoint_table(view)
        stage_names = {s.id: s.name for s in view.stages}
        tedits, tp_fn = ed.row_table(
            view,
            "touchpoints",
            tframe,
            map_edits.apply_touchpoint_edits,
            {t.id: t.name for t in view.touchpoints},
            ed.convert_touchpoint,
            column_order=[c for c in tframe.columns if c != "id"],
            column_config={
                "stage_id": st.column_config.SelectboxColumn(
                    "Stage", options=list(stage_names), format_func=lambda i: stage_names.get(i, str(i)), required=True
                ),
                "order": st.column_config.NumberColumn("Order", min_value=1, step=1, width="small"),
                "name": st.column_config.TextColumn("Touchpoint", required=True, max_chars=200),
                "channel": st.column_config.TextColumn("Channel", help=f"e.g. {COMMON_CHANNELS}", max_chars=200),
                "owner_team": st.column_config.TextColumn("Owner team", max_chars=200),
                "moment_of_truth": st.column_config.CheckboxColumn("★ Moment of truth"),
                **{role: st.column_config.TextColumn(role.capitalize(), max_chars=200) for role in RACI_FIELDS},
                "activity_names": st.column_config.ListColumn(
                    "Activity names", help="Activity values in event logs that this touchpoint stands for"
                ),
            },
        )
        _save_button(view, "Save touchpoints", "save_tps", "touchpoints", tedits, tp_fn, "Touchpoints saved.")

    if view.touchpoints:
        render_ownership(view)

    c1, c2 = st.columns(2)
    add_stage = f"add_stage::{view.id}"  # a refused stage keeps what was typed; a saved one empties the form
    with c1, st.form(form_key(add_stage)):
        st.markdown("**Add a stage**")
        name = st.text_input("Stage name", max_chars=200, key=f"{form_key(add_stage)}:name")
        goal = st.text_input("Customer goal", key=f"{form_key(add_stage)}:goal")
        if st.form_submit_button("Add stage"):
            ed.save(
                view.id,
                "add_stage",
                {"name": name, "customer_goal": goal},
                lambda p, v: map_edits.add_stage(view.id, expected_version=v, **p),
                success=f"Stage “{name.strip()}” added.",
                form=add_stage,
            )
    ed.render_conflict(
        view.id,
        "add_stage",
        lambda p, v: map_edits.add_stage(view.id, expected_version=v, **p),
        lambda p: pd.DataFrame([p]),
    )
    if view.stages:
        stage_names = {s.id: s.name for s in view.stages}
        add_tp = f"add_touchpoint::{view.id}"
        with c2, st.form(form_key(add_tp)):
            k = form_key(add_tp)
            st.markdown("**Add a touchpoint**")
            stage_id = st.selectbox("In stage", list(stage_names), format_func=stage_names.get, key=f"{k}:stage")
            tp_name = st.text_input("Touchpoint name", max_chars=200, key=f"{k}:name")
            cc1, cc2 = st.columns(2)
            channel = cc1.text_input("Channel", help=f"e.g. {COMMON_CHANNELS}", key=f"{k}:channel")
            owner_team = cc2.text_input("Owner team", key=f"{k}:owner")
            mot = st.checkbox("Moment of truth", key=f"{k}:mot")
            if st.form_submit_button("Add touchpoint"):
                payload = {
                    "stage_id": stage_id,
                    "name": tp_name,
                    "channel": channel,
                    "owner_team": owner_team,
                    "responsible": owner_team,
                    "moment_of_truth": mot,
                }
                ed.save(
                    view.id,
                    "add_touchpoint",
                    payload,
                    lambda p, v: map_edits.apply_touchpoint_edits(view.id, RowEdits(added=[p]), expected_version=v),
                    success=f"Touchpoint “{tp_name.strip()}” added.",
                    form=add_tp,
                )
        ed.render_conflict(
            view.id,
            "add_touchpoint",
            lambda p, v: map_edits.apply_touchpoint_edits(view.id, RowEdits(added=[p]), expected_version=v),
            lambda p: pd.DataFrame([{k: str(v) for k, v in p.items()}]),
        )


def render_ownership(view: MapView) -> None:
    """Who owns what: the teams × touchpoints RACI matrix and the touchpoints with ownership gaps."""
    with st.expander("Ownership and RACI by team"):
        st.caption("O owner team · R responsible · A accountable · C consulted · I informed")
        matrix = map_tables.compute_raci_matrix(view)
        st.dataframe(
            matrix,
            hide_index=True,
            width="stretch",
            column_config={"team": st.column_config.TextColumn("Team", pinned=True)},
        )
        gaps = map_tables.compute_ownership_gaps(view)
        if gaps.empty:
            st.success("Every touchpoint has an owner team and exactly one accountable team.")
        else:
            mot_gaps = int(gaps["moment_of_truth"].sum())
            st.warning(
                f"{len(gaps)} touchpoints with ownership gaps"
                + (f", {mot_gaps} of them moments of truth" if mot_gaps else "")
                + ". Set the owner team and one accountable team in the table above."
            )
            st.dataframe(
                gaps.rename(columns={"stage": "Stage", "touchpoint": "Touchpoint", "gaps": "Gaps"}),
                hide_index=True,
                width="stretch",
                column_config={"moment_of_truth": st.column_config.CheckboxColumn("★ Moment of truth")},
            )
        map_csv_button(st, "Download the RACI matrix (CSV)", matrix, view, "-raci", key="dl_raci")


# --------------------------------------------------------------------------- lanes


def render_lanes_tab(view: MapView) -> None:
    if not view.stages:
        st.info("Add stages and touchpoints first.")
        return
    persona_id = _pick_persona(
        st.container(), view, "Whose lanes", f"lanes_persona::{view.id}",
        "Cells for everyone, or a persona's own (attach personas in the Personas tab).", param="persona",
    )  # fmt: skip
    persona = ed.EVERYONE if persona_id is None else persona_id  # names this view's pending edits
    lanes = list(view.lanes)
    st.caption(
        "A row per whole stage and per touchpoint. A whole-stage cell applies to every touchpoint of the stage "
        "that has none of its own. Emotion: −2 (very negative) to +2 (very positive)."
    )
    frame = ed.lane_table(view, persona_id, lanes)
    key = f"lanes::{view.id}::{persona}::{view.version}"
    fn = lambda p, v: map_edits.set_lane_cells(view.id, p, expected_version=v)  # noqa: E731
    ed.render_conflict(view.id, f"lanes::{persona}", fn, lambda p: ed.describe_lane_edits(p, view))
    config = {
        "where": st.column_config.TextColumn("Stage › touchpoint", disabled=True, pinned=True),
        "emotion": st.column_config.NumberColumn("Emotion (−2..+2)", min_value=-2, max_value=2, step=1),
    }
    for lane in lanes:
        config[lane] = st.column_config.TextColumn(lane.capitalize(), max_chars=4000, width="medium")
    st.data_editor(
        frame,
        key=key,
        num_rows="fixed",
        hide_index=True,
        width="stretch",
        column_order=["where", *lanes, "emotion"],
        column_config=config,
        height=min(38 * (len(frame) + 1) + 4, 640),
    )
    edits = ed.editor_lane_edits(key, frame, persona_id)
    if st.button("Save lanes", key=f"save_lanes::{view.id}", disabled=not edits, type="primary"):
        ed.save(view.id, f"lanes::{persona}", edits, fn, success="Lanes saved.")

    with st.form(f"one_cell::{view.id}"):
        st.markdown("**Edit one cell**")
        places = ed.place_options(view)
        c1, c2 = st.columns(2)
        where = c1.selectbox("Stage or touchpoint", list(places), format_func=places.get)
        lane = c2.selectbox("Lane", [lane.value for lane in Lane], format_func=str.capitalize)
        text = st.text_area("Text", height=68)
        emotion = st.select_slider(
            "Emotion (feeling lane only)",
            options=["no score", -2, -1, 0, 1, 2],
            value="no score",
            format_func=lambda e: e if isinstance(e, str) else f"{e:+d}",
        )
        if st.form_submit_button("Save cell"):
            place = ed.place_fields(where)
            stage_id = place["stage_id"]
            if place["touchpoint_id"] is not None:
                stage_id = view.touchpoint(place["touchpoint_id"]).stage_id
            edit = map_edits.LaneCellEdit(
                stage_id or 0,
                place["touchpoint_id"],
                persona_id,
                lane,
                text,
                None if emotion == "no score" else int(emotion),
                set_emotion=lane == Lane.FEELING.value,
            )
            ed.save(view.id, f"lanes::{persona}", [edit], fn, success="Cell saved.")


# --------------------------------------------------------------------------- pain points & opportunities


def render_pains_tab(view: MapView) -> None:
    if not view.stages:
        st.info("Add stages and touchpoints first.")
        return
    places = ed.place_options(view)
    persona_options = [ed.EVERYONE, *(p.id for p in view.personas)]
    st.markdown(f"**Pain points** — severity 1 ({SEVERITY_WORDS[1]}) to 5 ({SEVERITY_WORDS[5]}).")
    frame = ed.pain_table(view)
    edits, fn = ed.row_table(
        view,
        "pains",
        frame,
        map_edits.apply_pain_point_edits,
        {x.id: x.description for x in view.pain_points},
        ed.convert_pain,
        column_order=["where", "persona", "description", "severity"],
        column_config={
            "where": _place_column(places, required=True, width="medium"),
            "persona": st.column_config.SelectboxColumn(
                "Persona",
                options=persona_options,
                format_func=lambda i: persona_label(view, i),
                default=ed.EVERYONE,
            ),
            "description": st.column_config.TextColumn("Pain point", required=True, max_chars=4000),
            "severity": st.column_config.NumberColumn("Severity (1–5)", min_value=1, max_value=5, step=1, default=3),
        },
    )
    _save_button(view, "Save pain points", "save_pains", "pains", edits, fn, "Pain points saved.")

    st.markdown("**Opportunities** — effort, customer value and business value from 1 to 5.")
    oframe = ed.opportunity_table(view)
    score = {"min_value": 1, "max_value": 5, "step": 1, "default": 3}
    oedits, ofn = ed.row_table(
        view,
        "opps",
        oframe,
        map_edits.apply_opportunity_edits,
        {x.id: x.description for x in view.opportunities},
        ed.convert_opportunity,
        column_order=["where", *OPPORTUNITY_SHOWN],
        column_config={
            "where": _place_column(places, required=True, width="medium"),
            "description": st.column_config.TextColumn("Opportunity", required=True, max_chars=4000),
            "effort": st.column_config.NumberColumn("Effort (1–5)", **score),
            "customer_value": st.column_config.NumberColumn("Customer value (1–5)", **score),
            "business_value": st.column_config.NumberColumn("Business value (1–5)", **score),
            "moment_of_truth": st.column_config.CheckboxColumn("★", disabled=True, help="At a moment of truth"),
            "priority": st.column_config.NumberColumn("Priority", disabled=True, format="%.2f"),
        },
    )
    _save_button(view, "Save opportunities", "save_opps", "opps", oedits, ofn, "Opportunities saved.")

    st.markdown("**Opportunities ranked**")
    st.caption(PRIORITY_FORMULA)
    ranking = map_tables.compute_opportunity_ranking(view)
    if ranking.empty:
        st.info("No opportunities yet.")
    else:
        st.dataframe(
            ranking.drop(columns=["id"]),
            hide_index=True,
            width="stretch",
            column_config={
                "rank": st.column_config.NumberColumn("Rank", width="small"),
                "stage": "Stage",
                "touchpoint": "Touchpoint",
                "description": "Opportunity",
                "effort": "Effort",
                "customer_value": "Customer value",
                "business_value": "Business value",
                "moment_of_truth": st.column_config.CheckboxColumn("★ Moment of truth"),
                "priority": st.column_config.NumberColumn("Priority", format="%.2f"),
            },
        )
        map_csv_button(st, "Download the ranking (CSV)", ranking, view, "-opportunities", key="opportunities_csv")


# --------------------------------------------------------------------------- action plan


def render_actions_tab(view: MapView) -> None:
    plan = map_tables.compute_action_plan(view)
    c1, c2, c3 = st.columns(3)
    c1.metric("Actions", len(plan))
    c2.metric("Open", int((plan["status"] != ActionStatus.DONE.value).sum()) if not plan.empty else 0)
    c3.metric("Overdue", int(plan["overdue"].sum()) if not plan.empty else 0, help="Not done and past the due date")
    places = ed.place_options(view, allow_none=True)
    metrics = {0: "(none)", **{m.id: m.name for m in view.metrics}}
    frame = ed.action_table(view)
    edits, fn = ed.row_table(
        view,
        "actions",
        frame,
        map_edits.apply_action_edits,
        {a.id: a.action for a in view.actions},
        ed.convert_action,
        column_order=[*ACTION_TASK_FIELDS, "where", "metric", "expected_effect"],
        column_config={
            "action": st.column_config.TextColumn("Action", required=True, max_chars=4000),
            "owner": st.column_config.TextColumn("Owner", max_chars=200),
            "status": st.column_config.SelectboxColumn(
                "Status", options=[s.value for s in ActionStatus], default=ActionStatus.OPEN.value, required=True
            ),
            "due_date": st.column_config.DateColumn("Due", format="YYYY-MM-DD"),
            "where": _place_column(places, default=""),
            "metric": st.column_config.SelectboxColumn(
                "Target metric", options=list(metrics), format_func=lambda i: metrics.get(i, str(i)), default=0
            ),
            "expected_effect": st.column_config.TextColumn("Expected effect", max_chars=4000),
        },
    )
    _save_button(view, "Save action plan", "save_actions", "actions", edits, fn, "Action plan saved.")
    overdue = plan[plan["overdue"]] if not plan.empty else plan
    if not overdue.empty:
        st.warning(f"{len(overdue)} overdue: " + escape_markdown(", ".join(overdue["action"].head(5))))


# --------------------------------------------------------------------------- personas


def render_personas_tab(view: MapView) -> None:
    everyone = persona_service.list_personas()
    by_id = {p.id: p for p in everyone}
    st.markdown("**Personas on this map** — the buying committee this journey is for.")
    with st.form(f"map_personas::{view.id}::{view.version}"):
        chosen = st.multiselect(
            "Personas",
            list(by_id),
            default=[p.id for p in view.personas if p.id in by_id],
            format_func=lambda i: by_id[i].name + (f" ({by_id[i].committee_role})" if by_id[i].committee_role else ""),
            placeholder="Choose personas (create them on the Personas page)",
        )
        st.caption("Removing a persona from the map removes its own lane cells and pain points on this map.")
        if st.form_submit_button("Save personas"):
            ed.save(
                view.id,
                "personas",
                list(chosen),
                lambda p, v: map_edits.set_map_personas(view.id, p, expected_version=v),
                success="Personas saved.",
            )
    ed.render_conflict(
        view.id,
        "personas",
        lambda p, v: map_edits.set_map_personas(view.id, p, expected_version=v),
        lambda p: pd.DataFrame({"persona": [by_id[i].name if i in by_id else str(i) for i in p]}),
    )
    coverage = persona_service.compute_committee_coverage(view)
    covered = int(coverage["covered"].sum())
    st.markdown(f"**Buying committee: {covered} of {len(coverage)} roles covered**")
    st.dataframe(
        coverage.assign(covered=coverage["covered"].map({True: "✓ covered", False: "missing"})),
        hide_index=True,
        width="stretch",
        column_config={"committee_role": "Committee role", "covered": "Covered", "personas": "Personas"},
    )
    missing = coverage.loc[~coverage["covered"], "committee_role"].tolist()
    if missing:
        with st.form(f"persona_for_role::{view.id}", clear_on_submit=True):
            st.markdown("**Add a persona for a missing role** (fill in the rest on the Personas page)")
            c1, c2 = st.columns(2)
            role = c1.selectbox("Committee role", missing)
            name = c2.text_input("Persona name", max_chars=200, placeholder="e.g. Priya, procurement lead")
            if st.form_submit_button("Create and add to this map"):
                with user_errors():
                    persona_id = persona_service.create_persona(
                        name, committee_role=role, is_decision_maker=role == CommitteeRole.DECISION_MAKER.value
                    )
                    ed.save(
                        view.id,
                        "personas",
                        [*(p.id for p in view.personas), persona_id],
                        lambda p, v: map_edits.set_map_personas(view.id, p, expected_version=v),
                        success=f"Persona “{name.strip()}” created and added.",
                    )
    st.page_link("pages/3_Personas.py", label="Edit personas", icon=":material/groups:")


# --------------------------------------------------------------------------- export & import


def render_export_tab(view: MapView) -> None:
    base = slug(view.name)
    st.markdown("**Export this map**")
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        "JSON (complete)",
        map_io.document_to_json(map_io.document_from_view(view)).encode("utf-8"),
        f"{base}.json",
        "application/json",
        key="dl_json",
        help="Everything: importing it gives back an identical map",
    )
    cells = map_io.compute_map_cells(view)
    map_csv_button(
        c2, "CSV (one row per cell)", cells, view, "", key="dl_csv",
        help="Text that a spreadsheet would run as a formula is neutralised",
    )  # fmt: skip
    mermaid = map_mermaid.compute_mermaid(view)
    c3.download_button("Mermaid flowchart", mermaid.encode("utf-8"), f"{base}.mmd", "text/plain", key="dl_mermaid")
    with st.expander("Mermaid text"):
        st.code(mermaid, language="text")
    with st.expander(f"CSV preview ({len(cells)} rows)"):
        st.dataframe(cells.head(200), hide_index=True, width="stretch")
    st.download_button(
        "The grid (HTML page)",
        grid_page_html(view).encode("utf-8"),
        f"{base}-grid.html",
        "text/html",
        key="dl_grid_html",
        help="The whole grid as on the Grid tab, in one file that opens offline in any browser",
    )
    if st.toggle("Show the grid as a picture (PNG export)", key="grid_png"):
        fig = map_grid_figure(view, dark=is_dark())
        st.caption("Use the camera icon above the picture to save a PNG at full size.")
        render_wide_figure(fig, key="map_grid_png", filename=base)

    st.divider()
    st.markdown("**Import a map from JSON** (a new map, named as in the file)")
    if not can_edit():
        return
    ed.import_map_json(
        "JSON file exported by JourneyLens",
        "import_json",
        STUDIO_PAGE,
        "Open the imported map",
        key="do_import",
        type="primary",
    )


# The studio's tabs in order: the label and what draws it (pages/2_Map_studio.py lays them out).
STUDIO_TABS: tuple[tuple[str, Callable[[MapView], None]], ...] = (
    ("Grid", render_grid_tab),
    ("Stages & touchpoints", render_structure_tab),
    ("Lanes", render_lanes_tab),
    ("Pain points & opportunities", render_pains_tab),
    ("Action plan", render_actions_tab),
    ("Personas", render_personas_tab),
    ("Versions", render_versions_tab),
    ("Export", render_export_tab),
)
# What a viewer (who may not edit the map) sees.
READ_ONLY_TABS = frozenset({"Grid", "Versions", "Export"})
