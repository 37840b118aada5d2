"""The map studio's Versions tab: snapshots (save, compare, restore, delete), the future state and
its comparison with this map, and the audit trail of the map's changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import streamlit as st

from charts.labels import for_people
from charts.map_grid import compute_emotion_curve
from components import map_editor as ed
from components.access import can_admin, editing_allowed
from components.confirm import confirmed
from components.errors import user_errors
from components.flash import flash
from components.loaders import clear_caches, load_map_summaries
from components.map_grid_view import render_map_grid
from components.safe_table import csv_download_button
from components.studio_files import STUDIO_PAGE, map_csv_button, slug
from components.text import escape_markdown, escape_markup
from components.url_select import NO_CHOICE, link_value, query_pick, query_select, say_no_such
from core.journey_map import MapView
from services import map_view, snapshots
from services.audit import audit_table


def render_versions_tab(view: MapView) -> None:
    st.markdown("**Snapshots** — named versions of the whole map.")
    # A viewer browses every version and comparison (and their downloads); only saving, cloning,
    # restoring and deleting are held back (render_snapshot leaves restore and delete to admins).
    editor = editing_allowed("save, restore or delete versions")
    if editor:
        with st.form(f"snapshot::{view.id}", clear_on_submit=True):
            c1, c2 = st.columns([3, 1])
            name = c1.text_input("Snapshot name", max_chars=200, placeholder="e.g. Before the Q3 workshop")
            c2.markdown("&nbsp;")
            if c2.form_submit_button("Save snapshot"):
                with user_errors():
                    snapshots.create_snapshot(view.id, name)
                    flash(f"Snapshot “{name.strip()}” saved.")
                    st.rerun()
    items = snapshots.list_snapshots(view.id)
    if not items:
        st.info("No snapshots yet.")
        if (raw := link_value("snapshot")) is not None:  # refused, not dropped silently
            st.warning(escape_markup(f"There is no snapshot {raw} (from the link): this map has no snapshots yet."))
    else:
        st.dataframe(
            [
                {
                    "Snapshot": s.name,
                    "Saved": _saved_at(s.created_at),
                    "Map version": s.map_version,
                    "Stages": s.stages,
                    "Touchpoints": s.touchpoints,
                }
                for s in items
            ],
            hide_index=True,
            width="stretch",
        )
        by_id = {s.id: s for s in items}
        # A snapshot the link names that this map does not have is refused with the real ones: never
        # another snapshot instead (its Restore button would restore what the link did not name).
        chosen = query_pick(
            "Snapshot",
            {i: f"{s.name} ({_saved_at(s.created_at)})" for i, s in by_id.items()},
            param="snapshot",
            what="snapshot",
            key=f"snapshot::{view.id}",
        )
        if chosen is not None:
            render_snapshot(view, by_id, chosen)

    st.divider()
    st.markdown("**Future state** — clone this map into a future-state map and compare the two.")
    if editor:
        with st.form(f"clone::{view.id}", clear_on_submit=True):
            c1, c2 = st.columns([3, 1])
            name = c1.text_input("Future-state map name", value=f"{view.name} (future state)"[:200], max_chars=200)
            review_by = c2.date_input("Review by", value=date.today() + timedelta(days=90), format="YYYY-MM-DD")
            if st.form_submit_button("Clone into a future-state map"):
                with user_errors():
                    new_id = snapshots.clone_as_future_state(view.id, name, review_by=review_by)
                    clear_caches()
                    st.session_state["studio_cloned"] = new_id
    cloned = st.session_state.get("studio_cloned")
    if cloned:
        st.success(f"Future-state map created (id {cloned}).")
        st.page_link(
            STUDIO_PAGE,
            label="Open the future-state map",
            query_params={"map": str(cloned)},
            icon=":material/open_in_new:",
        )
    render_audit_trail(view)
    related = snapshots.list_related_maps(view.id)
    others = {m["id"]: m["name"] for m in load_map_summaries() if m["id"] != view.id}
    if not others:
        if (raw := link_value("compare")) is not None and raw != NO_CHOICE:  # refused, not dropped silently
            st.warning(escape_markup(f"There is no map {raw} to compare with (from the link): this is the only map."))
        return
    default = related[0][0] if related and related[0][0] in others else None

    def refuse(raw: str) -> None:  # a map the link names that is not another map here: nothing compared
        if raw == str(view.id):
            st.warning(
                f"The link's compare={raw} is this map itself. Pick another map below; nothing is compared meanwhile."
            )
        else:
            say_no_such("map", raw, [f"{i} ({n})" for i, n in others.items()])

    other = query_select(
        "Compare with",
        [None, *others],
        param="compare",
        default=default,
        format_func=lambda i: (
            "No comparison" if i is None else others[i] + next((f" ({rel})" for rid, _, rel in related if rid == i), "")
        ),
        key=f"compare::{view.id}",
        refuse=refuse,
        placeholder="Choose a map",
        help="Another map beside this one, often its future or current state (kept in the link as ?compare=).",
    )
    if other is not None:
        render_comparison(view, other)


def _saved_at(when: datetime) -> str:
    """A snapshot's time as the app's tables write times (the Maps page's "Last updated"):
    ``2026-12-08 02:27 UTC``. The database keeps UTC; a time read back without its zone is UTC."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return f"{when:%Y-%m-%d %H:%M} UTC"


def render_snapshot(view: MapView, by_id: dict[int, snapshots.SnapshotSummary], chosen: int) -> None:
    """What changed since the ``chosen`` snapshot of ``by_id``, with its CSV; for admins, restore and delete it."""
    snapshot = by_id[chosen]
    st.markdown(f"**What changed since “{escape_markdown(snapshot.name)}”**")
    render_diff(
        snapshots.diff_since_snapshot(chosen),
        empty="Nothing: the map is as it was in this snapshot.",
        label="Download the changes since this snapshot (CSV)",
        file_name=f"{slug(view.name)}-since-{slug(snapshot.name)}.csv",
        key="dl_snap_diff",
    )
    if not can_admin():  # restores and deletes need the admin role (db/access.py)
        return
    c1, c2 = st.columns(2)
    with c1, st.form(f"restore::{view.id}"):
        st.markdown("**Restore this snapshot**")
        st.caption("The map as it is now is saved first as a snapshot, so a restore can be undone.")
        if confirmed(
            "Yes, replace the map's content with this snapshot",
            "Restore",
            "Tick the box to confirm the restore.",
        ):
            ed.save(
                view.id,
                "restore",
                chosen,
                lambda p, v: snapshots.restore_snapshot(p, expected_version=v, keep_name=True),
                success=f"Restored “{snapshot.name}”.",
            )
    ed.render_conflict(
        view.id,
        "restore",
        lambda p, v: snapshots.restore_snapshot(p, expected_version=v, keep_name=True),
        lambda p: pd.DataFrame([{"restore snapshot": by_id[p].name if p in by_id else p}]),
    )
    with c2, st.form(f"delete_snapshot::{view.id}"):
        st.markdown("**Delete this snapshot**")
        if confirmed("Yes, delete the snapshot", "Delete snapshot"):
            with user_errors():
                snapshots.delete_snapshot(chosen)
                st.query_params.pop("snapshot", None)  # the link no longer names a deleted snapshot
                flash("Snapshot deleted.")
                st.rerun()


def render_audit_trail(view: MapView) -> None:
    """Who changed this map (and its datasets, links and definitions), when and what; with its CSV."""
    st.divider()
    st.markdown("**Changes** — who changed what and when (also `python cli.py audit --map ID`).")
    trail = audit_table(view.id)
    if trail.empty:
        st.info("No changes recorded for this map yet.")
        return
    st.dataframe(for_people(trail), hide_index=True, width="stretch", height=min(400, 40 + 35 * len(trail)))
    map_csv_button(st, "Download the change log (CSV)", trail, view, "-change-log", key=f"dl_audit::{view.id}")


def render_comparison(view: MapView, other_id: int) -> None:
    """Two maps side by side (stage and touchpoint outline with emotion), then their differences."""
    other = map_view.get_map_view(other_id)
    old, new = (other, view) if view.parent_map_id == other_id else (view, other)
    cols = st.columns(2)
    for col, side in zip(cols, (old, new), strict=True):
        with col:
            st.markdown(f"**{escape_markdown(side.name)}** · {side.state} state · version {side.version}")
            curve = compute_emotion_curve(side)
            everyone = (
                curve[curve["persona_id"].isna()].set_index("touchpoint_id")["emotion"] if not curve.empty else {}
            )
            rows = [
                {
                    "Stage": s.name,
                    "Touchpoint": ("★ " if t.moment_of_truth else "") + t.name,
                    "Owner": t.owner_team,
                    "Emotion": everyone.get(t.id) if hasattr(everyone, "get") else None,
                }
                for s in side.stages
                for t in (s.touchpoints or ())
            ]
            st.dataframe(
                pd.DataFrame(rows, columns=["Stage", "Touchpoint", "Owner", "Emotion"]),
                hide_index=True,
                width="stretch",
                height=320,
            )
    st.markdown(f"**From “{escape_markdown(old.name)}” to “{escape_markdown(new.name)}”**")
    render_diff(
        snapshots.compare_maps(old.id, new.id),
        empty="No differences in the journey.",
        label="Download the differences between the two maps (CSV)",
        file_name=f"{slug(old.name)}-to-{slug(new.name)}.csv",  # from → to, as the heading reads
        key="dl_cmp_diff",
    )
    if st.toggle("Show both grids", key=f"both_grids::{old.id}::{new.id}"):
        for side in (old, new):
            if side.stages:
                st.markdown(f"**{escape_markdown(side.name)}**")
                render_map_grid(side, key=f"cmp_grid_{int(side.id)}")


def render_diff(diff: pd.DataFrame, *, empty: str, label: str, file_name: str, key: str) -> None:
    """A map difference: a summary per area, every change, and the changes as CSV under ``label``
    (``empty`` when none). The tables are written for people (``for_people``: "Area", "Added" …); the
    CSV keeps the machine names (``area``, ``change`` …), as the change log's does."""
    if diff.empty:
        st.success(empty)
        return
    st.dataframe(for_people(snapshots.summarise_diff(diff)), hide_index=True)
    st.dataframe(for_people(diff), hide_index=True, width="stretch")
    csv_download_button(diff, file_name=file_name, label=label, key=key)
