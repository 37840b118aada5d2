"""The Data page's pieces: the import form (file → preview → column roles → options → import),
the list of datasets with their details, and the link between a dataset and a map.

Everything here is widgets and layout; the work is done by ``services.importer``,
``services.linking`` and ``services.datasets``.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from analytics.numbers import DASH
from analytics.schema import OPTIONAL_ROLES, REQUIRED_ROLES, ColumnMapping, Role
from charts.labels import for_people
from components.access import ADMIN_ONLY, can_admin, can_edit
from components.bootstrap import ROOT
from components.errors import user_errors
from components.loaders import (
    clear_caches,
    load_coverage,
    load_dataset_options,
    load_dataset_summaries,
    load_facts_status,
    load_links,
    load_map_summaries,
    load_preview,
    load_rejected,
    load_touchpoint_labels,
)
from components.text import escape_markdown, escape_markup
from components.url_select import query_select, say_no_such
from core.errors import BadInputError
from services import datasets as dataset_service
from services import importer, linking
from services.csv_safety import to_safe_csv
from services.overview import map_log

DEMO_DIR = ROOT / "sample_data"
NONE = "—"
NO_FILTER = "(no filter)"
NO_MAP = "(do not link)"
NO_TOUCHPOINT = "(no touchpoint)"
ENCODING_CHOICES = ["Detect", "utf-8", "utf-8-sig", "utf-16", "cp1252", "cp1258", "cp874", "latin-1"]
DELIMITER_CHOICES = {"Detect": None, "Comma ,": ",", "Semicolon ;": ";", "Tab": "\t", "Pipe |": "|"}
DAY_ORDER_CHOICES = {"Detect": None, "Day first (25/03/2024)": True, "Month first (03/25/2024)": False}
COMMON_ZONES = ["UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
                "America/Los_Angeles", "Asia/Tokyo", "Asia/Singapore", "Asia/Bangkok", "Asia/Ho_Chi_Minh",
                "Australia/Sydney"]  # fmt: skip
MAX_LINK_ROWS = 500
ROWS_KEYS = ("rows_read", "events", "identical_rows", "identical_rows_dropped", "rejected_rows", "rows_filtered_out")


def demo_files() -> list[Path]:
    """The demo logs shipped in sample_data/ (whatever is there)."""
    return sorted(DEMO_DIR.glob("*.csv")) if DEMO_DIR.is_dir() else []


def _zones() -> list[str]:
    rest = sorted(z for z in zoneinfo.available_timezones() if z not in COMMON_ZONES and "/" in z)
    return COMMON_ZONES + rest


# --------------------------------------------------------------------------- import


def _choose_source() -> tuple[str, bytes | str, str] | None:
    """(cache key, bytes or path, file name) of the chosen file, or None."""
    files = demo_files()
    kinds = ["Upload a file"] + (["A demo log"] if files else [])
    kind = st.radio("Source", kinds, horizontal=True, key="imp_source", label_visibility="collapsed")
    if kind == "A demo log":
        name = st.selectbox("Demo log", [f.name for f in files], key="imp_demo_file")
        path = DEMO_DIR / name
        return f"demo:{path}:{path.stat().st_mtime_ns}", str(path), name
    upload = st.file_uploader(
        "Event log (CSV, .csv.gz, Excel .xlsx or Parquet)",
        type=["csv", "gz", "tsv", "txt", "xlsx", "parquet"],
        key="imp_upload",
        help="One row per event. CSV: comma, semicolon or tab separated; UTF-8, UTF-16 or a Windows code page. "
        "Excel: a sheet of an .xlsx workbook (an old .xls: save it as .xlsx or CSV first). "
        "Larger files than the upload limit import from a terminal: `python cli.py import FILE ...`",
    )
    if upload is None:
        return None
    return f"upload:{upload.file_id}:{upload.size}", upload.getvalue(), upload.name


def _role_widgets(headers: list[str], suggested: ColumnMapping) -> ColumnMapping:
    """The column-role pickers, opening on ``suggested`` for each new file or sheet."""
    options = [NONE, *headers]
    if st.session_state.get("imp_role_headers") != headers:
        # Another file or sheet: its columns get their own suggestion, not the last file's choices. Set
        # through the session state: a picker only cleared keeps the value the browser still shows.
        for role in (*REQUIRED_ROLES, *OPTIONAL_ROLES):
            default = suggested.source(role)
            st.session_state[f"imp_role_{role.value}"] = default if default in options else NONE
        st.session_state["imp_segments"] = [s for s in suggested.segments if s in headers]
        st.session_state["imp_role_headers"] = list(headers)
    chosen: dict[str, str | None] = {}
    st.markdown("**Required**")
    cols = st.columns(3)
    for i, role in enumerate(REQUIRED_ROLES):
        chosen[role.value] = cols[i].selectbox(importer.ROLE_LABELS[role], options, key=f"imp_role_{role.value}")
    st.markdown("**Optional**")
    cols = st.columns(4)
    for i, role in enumerate(OPTIONAL_ROLES):
        chosen[role.value] = cols[i % 4].selectbox(importer.ROLE_LABELS[role], options, key=f"imp_role_{role.value}")
    segments = st.multiselect("Segment columns (kept for filters and breakdowns)", headers, key="imp_segments")
    return ColumnMapping.of(segments=segments, **{k: (v if v != NONE else None) for k, v in chosen.items()})


def _reading_options(headers: list[str], frame: pd.DataFrame, mapping: ColumnMapping, preset) -> dict[str, Any]:
    """Timestamp, filter and row options; returns ImportOptions fields."""
    st.markdown("**Timestamps**")
    c1, c2, c3 = st.columns([2, 2, 1])
    preset_dayfirst = preset.options.dayfirst if preset else None
    labels = list(DAY_ORDER_CHOICES)
    day_label = c1.radio(
        "Dates like 03/04/2024 are",
        labels,
        index=labels.index(next(k for k, v in DAY_ORDER_CHOICES.items() if v == preset_dayfirst)),
        key="imp_dayorder",
    )
    dayfirst = DAY_ORDER_CHOICES[day_label]
    ts_col = mapping.source(Role.TIMESTAMP)
    if ts_col and ts_col in frame.columns:
        order = importer.detect_day_order(frame[ts_col].dropna().astype(str).tolist(), dayfirst=dayfirst)
        if order.note:
            c1.caption(f"In the preview: {escape_markdown(order.note)}.")
        sample = frame[ts_col].dropna().astype(str).head(3).tolist()
        if sample:
            c1.caption("Examples: " + ", ".join(f"`{s.replace('`', chr(39))}`" for s in sample))
    zones = _zones()
    default_zone = preset.options.timezone if preset and preset.options.timezone in zones else "UTC"
    timezone = c2.selectbox(
        "Time zone of timestamps without an offset",
        zones,
        index=zones.index(default_zone),
        key="imp_tz",
        help="Timestamps with an offset (Z, +01:00) keep theirs. Everything is stored in UTC.",
    )
    date_only = c3.checkbox("Dates only", key="imp_date_only", help="Keep the date and drop any time of day.")

    st.markdown("**Rows**")
    suggested_where = (
        preset.options.where if preset and preset.options.where else importer.suggest_where(headers, frame)
    )
    f1, f2 = st.columns(2)
    where_options = [NO_FILTER, *headers]
    where_col = f1.selectbox(
        "Keep only rows where the column",
        where_options,
        index=where_options.index(suggested_where[0][0]) if suggested_where else 0,
        key="imp_where_col",
    )
    where_value = f2.text_input(
        "equals",
        value=suggested_where[0][1] if suggested_where else "",
        key="imp_where_value",
        disabled=where_col == NO_FILTER,
        help="Process-mining exports repeat each activity per lifecycle step: keep COMPLETE.",
    )
    g1, g2 = st.columns(2)
    allow = g1.checkbox(
        "Import without the bad rows",
        key="imp_allow_bad",
        help="Rows that cannot be read are left out and listed in a downloadable report. "
        "Unticked, the first problem stops the import and nothing is stored.",
    )
    drop_identical = g2.checkbox(
        "Drop rows identical in every column",
        key="imp_drop_identical",
        help="By default every row of the file is an event, and rows that repeat an earlier row in every "
        "column are counted and kept. Ticked, those repeats are dropped (the first stays). Rows that "
        "differ in any column are always kept.",
    )
    where = ((where_col, where_value),) if where_col != NO_FILTER else ()
    return {
        "dayfirst": dayfirst,
        "timezone": timezone,
        "date_only": date_only,
        "where": where,
        "allow_bad_rows": allow,
        "drop_identical_rows": drop_identical,
    }


def render_import_result(result: dict[str, Any]) -> None:
    """Metrics, notes and the rejected-rows report of the last import."""
    verb = "Imported" if result["created"] else "Already imported: nothing was added"
    st.success(f"{verb}: **{escape_markdown(result['name'])}** (dataset {result['dataset_id']}).")
    c = st.columns(4)
    c[0].metric("Events", f"{result['events']:,}")
    c[1].metric("Journeys", f"{result['journeys']:,}")
    c[2].metric("Accounts", f"{result['accounts']:,}")
    c[3].metric("Activities", f"{result['activities']:,}")
    c = st.columns(4)
    first, last = result["first_timestamp"], result["last_timestamp"]
    c[0].metric("From", f"{first:%Y-%m-%d}" if first else "—", help="UTC")
    c[1].metric("To", f"{last:%Y-%m-%d}" if last else "—", help="UTC")
    c[2].metric(
        "Identical rows",
        f"{result['identical_rows']:,}",
        help="Rows identical in every column to an earlier row: "
        + (f"{result['identical_rows_dropped']:,} dropped." if result["identical_rows_dropped"] else "kept."),
    )
    c[3].metric(
        "Ties",
        f"{result['ties']:,}",
        help="Events that share a timestamp with an earlier event of their journey (kept in file order).",
    )
    st.markdown(escape_markdown(importer.describe_rows(**{k: result[k] for k in ROWS_KEYS})))
    _offer_next_steps(int(result["dataset_id"]))
    for note in result["notes"]:
        st.caption(escape_markdown(note))
    rejected: pd.DataFrame = result["rejected"]
    if result["rejected_rows"]:
        st.warning(
            f"{importer.plural(result['rejected_rows'], 'row')} left out. The report lists each one with the reason."
        )
        st.dataframe(for_people(rejected.head(200)), hide_index=True, width="stretch")
        if len(rejected) > 200:
            st.caption(f"Showing the first 200 of {len(rejected):,} rows left out; the report has them all.")
        st.download_button(
            "Download the rejected-rows report (CSV)",
            to_safe_csv(rejected),
            file_name=f"rejected_rows_dataset_{result['dataset_id']}.csv",
            mime="text/csv",
            key="imp_rejected_download",
        )


def _offer_next_steps(dataset_id: int) -> None:
    """After an import: explore the dataset (Flows, with it chosen) or link it to a map."""
    c1, c2 = st.columns(2)
    c1.page_link(
        "pages/5_Flows.py",
        label="Explore this dataset",
        icon=":material/arrow_forward:",
        query_params={"dataset": str(dataset_id)},
    )
    maps = load_map_summaries()
    with c2.popover("Link it to a map", icon=":material/link:"):
        if not maps:
            st.write("No journey maps yet: draft one from this dataset in **Datasets and links**.")
            return
        names = {m["id"]: f"{m['name']} (#{m['id']})" for m in maps}
        map_id = st.selectbox("Map", list(names), format_func=names.get, key=f"imp_link_map_{dataset_id}")
        st.caption("Activities are matched to touchpoints by name; edit the links in **Datasets and links**.")
        if st.button("Link", key=f"imp_link_{dataset_id}", type="primary"):
            with user_errors():
                linking.link_dataset_to_map(dataset_id, int(map_id))
                clear_caches()
                st.success(f"Linked to {escape_markdown(names[map_id])}.")


def render_import_form() -> None:
    """Upload or pick a file, preview it, map its columns, set the options and import it."""
    chosen = _choose_source()
    if chosen is None:
        st.info(
            "Upload a CSV export from your CRM, marketing automation, help desk or process-mining tool: "
            "one row per event with at least a journey id (case, ticket, opportunity …), a timestamp and "
            "an activity." + (" Or pick **A demo log** above to try it." if demo_files() else "")
        )
        last = st.session_state.get("imp_last_result")
        if last:
            render_import_result(last)
        return
    key, source, file_name = chosen
    with st.expander("Reading options (CSV)", expanded=False):
        r1, r2 = st.columns(2)
        enc = r1.selectbox("Encoding", ENCODING_CHOICES, key="imp_encoding")
        delim_label = r2.selectbox("Delimiter", list(DELIMITER_CHOICES), key="imp_delimiter")
    encoding = None if enc == "Detect" else enc
    delimiter = DELIMITER_CHOICES[delim_label]
    preview = None
    with user_errors():
        preview = load_preview(key, source, encoding, delimiter)
        if preview["kind"] == "xlsx" and len(preview["sheets"]) > 1:
            sheet = st.selectbox("Sheet", list(preview["sheets"]), key="imp_sheet")
            if sheet != preview["sheet"]:
                preview = None
                preview = load_preview(key, source, encoding, delimiter, sheet)
    if preview is None:
        return
    headers: list[str] = preview["headers"]
    frame: pd.DataFrame = preview["frame"]

    st.subheader("Preview")
    if preview["kind"] == "xlsx":
        how = f"Excel workbook · sheet {escape_markdown(str(preview['sheet']))}"
    elif preview["kind"] == "parquet":
        how = "Parquet file"
    else:
        how = (
            f"encoding {escape_markdown(preview['encoding_label'])}{' (detected)' if encoding is None else ''}"
            f" · delimiter {preview['delimiter_label']}{' (detected)' if delimiter is None else ''}"
            f"{' · gzip' if preview['is_gzip'] else ''}"
        )
    n_shown = len(frame)
    shown = (
        f"whole file, {n_shown:,} row{'s' if n_shown != 1 else ''}"
        if preview["complete"]
        else f"first {n_shown:,} rows"
    )
    st.caption(f"{escape_markdown(file_name)} · {how} · {len(headers)} columns · {shown}")
    renamed = importer.generated_names(headers)
    if renamed:
        st.caption(
            "Repeated or empty header names are kept under distinct names: "
            + ", ".join(f"`{h}`" for h in renamed[:8])
            + "."
        )
    st.dataframe(frame, hide_index=True, width="stretch", height=260)
    problems: pd.DataFrame = preview["problems"]
    if len(problems):
        n = len(problems)
        which = f"{n} row{'s' if n != 1 else ''} of the file" if preview["complete"] else f"{n} of the first rows"
        st.warning(f"{which} cannot be read; the import will stop at them unless told to skip bad rows.")
        st.dataframe(for_people(problems), hide_index=True, width="stretch")

    preset = importer.find_mapping_preset(headers)
    suggested = preset.mapping if preset else importer.suggest_mapping(headers)
    st.subheader("Columns")
    if preset:
        st.info(f"Using your saved mapping **{escape_markdown(preset.name)}** for files with these columns.")
    else:
        st.caption("Suggested from the column names; change any that are wrong.")
    mapping = _role_widgets(headers, suggested)
    st.subheader("Options")
    fields = _reading_options(headers, frame, mapping, preset)
    options = importer.ImportOptions(
        encoding=encoding, delimiter=delimiter, sheet=preview["sheet"] if preview["kind"] == "xlsx" else None, **fields
    )

    st.subheader("Import")
    maps = load_map_summaries()
    map_names = {f"{m['name']} (#{m['id']})": m["id"] for m in maps}
    n1, n2 = st.columns(2)
    default_name = file_name.removesuffix(".gz").rsplit(".", 1)[0] or file_name
    name = n1.text_input("Dataset name", value=default_name, key="imp_name", max_chars=200)
    map_label = n2.selectbox("Link to a map", [NO_MAP, *map_names], key="imp_map")
    s1, s2 = st.columns([1, 2])
    save_preset = s1.checkbox("Save this mapping for files with these columns", key="imp_save_preset")
    preset_name = s2.text_input(
        "Mapping name", value=preset.name if preset else default_name, key="imp_preset_name", disabled=not save_preset
    )
    missing = mapping.missing_required()
    if missing:
        st.warning("Choose a column for: " + ", ".join(importer.ROLE_LABELS[r] for r in missing) + ".")
    retry = st.session_state.pop("imp_skip_bad_rows_of", None) == key
    if retry:
        options = replace(options, allow_bad_rows=True)
    if st.button("Import", type="primary", key="imp_go", disabled=bool(missing)) or retry:
        _run_import(key, source, file_name, name, mapping, options, map_names.get(map_label), headers,
                    preset_name if save_preset else None)  # fmt: skip
    elif st.session_state.get("imp_failed", {}).get("source_key") == key:
        render_import_failure(st.session_state["imp_failed"])
    elif st.session_state.get("imp_last_result", {}).get("source_key") == key:
        render_import_result(st.session_state["imp_last_result"])


def _run_import(
    key: str,
    source: bytes | str,
    file_name: str,
    name: str,
    mapping: ColumnMapping,
    options: importer.ImportOptions,
    map_id: int | None,
    headers: list[str],
    preset_name: str | None,
) -> None:
    st.session_state.pop("imp_failed", None)
    with st.status("Importing…", expanded=True) as status:
        bar = st.empty()
        bar.progress(0.0, text="Starting…")

        def progress(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

        result = None
        failure: BadInputError | None = None
        with user_errors():
            try:
                if preset_name:
                    importer.save_mapping_preset(preset_name, headers, mapping, options)
                result = importer.import_event_log(
                    source,
                    name=name,
                    mapping=mapping,
                    options=options,
                    source_name=file_name,
                    map_id=map_id,
                    progress=progress,
                )
            except BadInputError as exc:
                failure = exc
        bar.empty()  # a failed import leaves no bar behind; a finished one needs it no more
        if result is None:
            # Our own message goes below the collapsed status; another error stays shown inside it.
            status.update(label="Import failed: nothing was stored", state="error", expanded=failure is None)
            if failure is not None:
                st.session_state["imp_failed"] = {
                    "source_key": key,
                    "message": str(failure),
                    # A problem in a row (not in the file as a whole) can be set aside.
                    "row_level": failure.row is not None and not options.allow_bad_rows,
                }
            else:
                st.session_state["imp_failed"] = {"source_key": key, "message": "", "row_level": False}
        else:
            status.update(
                label=f"Imported {result.events:,} events in {result.seconds:.1f} s"
                if result.created
                else "Already imported",
                state="complete",
                expanded=False,
            )
    if result is None:
        render_import_failure(st.session_state["imp_failed"], shown=failure is None)
        return
    clear_caches()
    summary = {k: v for k, v in asdict(result).items()}
    summary["name"] = name
    summary["source_key"] = key
    st.session_state["imp_last_result"] = summary
    st.query_params["dataset"] = str(result.dataset_id)
    render_import_result(summary)


def render_import_failure(failed: dict[str, Any], *, shown: bool = False) -> None:
    """What failed and the next step: for a bad row, importing without the bad rows (their report
    comes with the result); otherwise, what to change."""
    if failed.get("message") and not shown:
        st.error(escape_markup(failed["message"]), icon=":material/error:")
    if failed.get("row_level"):
        st.info(
            "Nothing was stored. Fix the file and import it again, or import the good rows now: every "
            "row left out is listed, with the reason, in a report you can download.",
            icon=":material/rule:",
        )
        if st.button("Import without the bad rows", key="imp_retry_skip", type="primary"):
            st.session_state["imp_skip_bad_rows_of"] = failed["source_key"]
            st.rerun()
    else:
        st.info(
            "Nothing was stored. Change what the message names (the file, its column mapping or the options "
            "above) and import again.",
            icon=":material/info:",
        )


# --------------------------------------------------------------------------- datasets


def _dataset_label(d: dict[str, Any]) -> str:
    return f"{d['name']} (#{d['id']})"


def render_dataset_list() -> int | None:
    """The table of datasets and the one chosen (kept in the URL as ?dataset=ID)."""
    datasets = load_dataset_summaries()
    if not datasets:
        st.info("No event logs yet. Import a CSV in the **Import** tab, or load the demo with `python cli.py demo`.")
        return None
    map_names = {m["id"]: m["name"] for m in load_map_summaries()}
    table = pd.DataFrame(datasets)
    table["map"] = table["map_id"].map(lambda i: map_names.get(i, "—") if pd.notna(i) else "—")
    shown = table[["id", "name", "source_name", "events", "journeys", "accounts", "activities",
                   "first_timestamp", "last_timestamp", "map", "created_at", "status"]]  # fmt: skip
    st.dataframe(
        for_people(
            shown,
            labels={
                "id": "#",
                "name": "Dataset",
                "source_name": "File",
                "first_timestamp": "From (UTC)",
                "last_timestamp": "To (UTC)",
                "map": "Linked map",
                "created_at": "Imported",
                "status": "Events file",
            },
            kinds={"id": "text", "events": "count", "journeys": "count", "accounts": "count", "activities": "count"},
        ),
        hide_index=True,
        width="stretch",
        column_config={"Events file": st.column_config.TextColumn(help="ok, external, missing or damaged")},
    )
    ids = [d["id"] for d in datasets]
    labels = {d["id"]: _dataset_label(d) for d in datasets}
    chosen = query_select(
        "Dataset",
        ids,
        param="dataset",
        format_func=labels.get,
        key="ds_choice",  # the first, as on every analysis page (an import opens on the new one)
        refuse=lambda raw: say_no_such("dataset", raw, [f"{d['id']} ({d['name']})" for d in datasets]),
        placeholder="Choose a dataset",
    )
    return None if chosen is None else int(chosen)


def render_dataset_details(dataset_id: int) -> None:
    """How a dataset was read, its rejected-rows report, and deleting it."""
    summary = next((d for d in load_dataset_summaries() if d["id"] == dataset_id), None)
    if summary is None:
        st.warning("This dataset no longer exists.")
        return
    info = load_dataset_options(dataset_id)
    c = st.columns(4)
    c[0].metric("Events", f"{summary['events']:,}")
    c[1].metric("Journeys", f"{summary['journeys']:,}")
    c[2].metric("Accounts", f"{summary['accounts']:,}")
    c[3].metric("Activities", f"{summary['activities']:,}")
    if info.get("kind") == "xlsx":  # how the file was read: a workbook's sheet, a CSV's encoding and delimiter
        read_as = [f"Excel workbook, sheet {escape_markdown(str(info.get('sheet') or 'the first'))}"]
    elif info.get("kind") == "parquet":
        read_as = ["Parquet file"]
    else:
        read_as = [
            f"encoding {escape_markdown(info.get('encoding_label', '—'))}",
            f"delimiter {escape_markdown(info.get('delimiter_label', '—'))}",
        ]
    facts = [
        f"File: {escape_markdown(summary['source_name'] or '—')}",
        *read_as,
        f"time zone {escape_markdown(info.get('timezone', 'UTC'))}",
    ]
    if info.get("day_order"):
        facts.append(f"dates {escape_markdown(info['day_order'])}")
    if info.get("where"):
        facts.append("filter " + escape_markdown(" and ".join(f"{c} = {v}" for c, v in info["where"])))
    facts.append(f"rows read {info.get('rows_read', 0):,}")
    if info.get("removed_by_mapped_columns"):
        facts.append(
            f"{info['removed_by_mapped_columns']:,} rows removed as equal in every mapped column "
            "(an earlier version's rule: import the file again to keep every row)"
        )
    else:
        facts.append(
            f"identical rows {info.get('identical_rows', 0):,} ({info.get('identical_rows_dropped', 0):,} dropped)"
        )
    facts.append(f"ties {info.get('ties', 0):,}")
    facts.append(f"rejected rows {info.get('rejected_rows', 0):,}")
    facts.append(f"analyses: {dataset_service.memory_status(dataset_id)}")  # not cached: it changes
    st.caption(" · ".join(facts))
    if not (info.get("mapping") or {}).get("account"):  # the count above would read as real accounts
        st.caption("Accounts: no account column was mapped, so each journey counts as its own account.")
    _offer_neighbour_facts(dataset_id, summary)
    if info.get("rejected_rows"):
        st.download_button(
            "Download the rejected-rows report (CSV)",
            to_safe_csv(load_rejected(dataset_id)),
            file_name=f"rejected_rows_dataset_{dataset_id}.csv",
            mime="text/csv",
            key=f"ds_rejected_{dataset_id}",
        )
    with st.popover("Delete this dataset", icon=":material/delete:", disabled=not can_admin(), help=ADMIN_ONLY):
        st.write(
            f"Delete **{escape_markdown(summary['name'])}**, its stored events and its links to maps? "
            "Maps are kept; metrics computed from it keep their values and are entered by hand from then "
            "on. This cannot be undone."
        )
        sure = st.checkbox("Yes, delete it", key=f"ds_confirm_{dataset_id}")
        if can_admin() and st.button("Delete dataset", type="primary", key=f"ds_delete_{dataset_id}"):
            if not sure:
                st.warning("Tick the box to confirm.")
            else:
                with user_errors():
                    dataset_service.delete_dataset(dataset_id)
                    clear_caches()
                    st.query_params.pop("dataset", None)
                    st.session_state.pop("imp_last_result", None)
                    st.toast(f"Deleted {summary['name']}.")
                    st.rerun()


def _offer_neighbour_facts(dataset_id: int, summary: dict[str, Any]) -> None:
    """A dataset imported before the stored neighbour facts: say so, and store them on request. One
    too large for the facts its import stores: say why its transitions take longer."""
    lacks, left_out = load_facts_status(dataset_id)  # one read of the file's footer
    if left_out:
        st.caption(
            escape_markdown(
                f"This log has {left_out}: too many to store with it, so its transitions are counted by a "
                "query each time instead of read from the file (the same results, slower)."
            )
        )
    if not lacks:
        return
    st.info(
        "This dataset was imported by an earlier version of JourneyLens. Its analyses give the right "
        "results, but friction, transitions and flows run slower on it. Updating it rewrites its stored "
        "events once (about 5 s per million events); no result changes.",
        icon=":material/speed:",
    )
    if can_edit() and st.button("Update it now", key=f"ds_neighbours_{dataset_id}"):
        with user_errors(), st.spinner(f"Rewriting {summary['events']:,} events…"):
            done = dataset_service.store_neighbour_facts(dataset_id)
            clear_caches()
            if done is not None:
                st.toast(f"{done.events:,} events rewritten in {done.seconds:.1f} s.")
            st.rerun()


# --------------------------------------------------------------------------- link to a map


def render_link_editor(dataset_id: int) -> None:
    """Match the dataset's activities to a map's touchpoints; show what is left over; draft a map."""
    summary = next((d for d in load_dataset_summaries() if d["id"] == dataset_id), None)
    if summary is None:
        return
    maps = load_map_summaries()
    if not maps:
        st.info("No journey maps yet. Draft one from this dataset below, or create one on the **Maps** page.")
    else:
        ids = [m["id"] for m in maps]
        names = {m["id"]: f"{m['name']} (#{m['id']})" for m in maps}
        # A map chosen for another dataset of this session does not follow the user to this one: the
        # dataset's own link is shown again (a shared link naming both keeps its map).
        if st.session_state.get("ln_map_for", dataset_id) != dataset_id:
            if summary["map_id"] in ids:  # set, not dropped: the browser shows the widget's state
                st.query_params["map"] = str(summary["map_id"])
                st.session_state["ln_map"] = summary["map_id"]
            else:
                st.query_params.pop("map", None)
                st.session_state.pop("ln_map", None)
        st.session_state["ln_map_for"] = dataset_id
        # ?map= chooses; a map the link names that does not exist is named, with the one shown instead.
        map_id = query_select(
            "Map",
            ids,
            param="map",
            format_func=lambda i: names[i],
            default=summary["map_id"] if summary["map_id"] in ids else None,
            key="ln_map",
        )
        linked = summary["map_id"] == map_id
        own = names.get(summary["map_id"]) if summary["map_id"] is not None else None
        st.caption(
            "This dataset is linked to this map."
            if linked
            else "Not linked to this map yet: the table shows suggestions."
            + (
                f" It is linked to {escape_markdown(own)}; saving links here links it to this map instead."
                if own
                else ""
            )
        )
        _render_links_table(dataset_id, int(map_id))
    st.markdown("**Draft a map from this dataset**")
    current = next((m["name"] for m in maps if m["id"] == summary["map_id"]), None)
    if current is not None:  # drafting moves the log: said before, not found out on the Overview after
        st.caption(
            f"This dataset is linked to {escape_markdown(current)} (#{summary['map_id']}): drafting links it to the "
            "new map instead, and that map keeps its content without this event log's figures."
        )
    d1, d2 = st.columns([3, 1])
    draft_name = d1.text_input(
        "Name of the new map", value=f"{summary['name']} (drafted)", key=f"ln_draft_name_{dataset_id}", max_chars=200
    )
    d2.write("")
    if d2.button(
        "Draft a map",
        key=f"ln_draft_{dataset_id}",
        help="Stages from the stage column, touchpoints from the activities; linked.",
    ):
        with user_errors():
            new_id = linking.draft_map_from_dataset(dataset_id, draft_name)
            clear_caches()
            # Show the new map at once: pick it in the "Map" box above (its old choice forgotten) and rerun.
            st.query_params["map"] = str(new_id)
            st.session_state.pop("ln_map", None)
            before = f" (it was linked to {escape_markdown(current)}, #{summary['map_id']})" if current else ""
            renamed = linking.renamed_in_draft(new_id)
            st.session_state[f"ln_drafted_{dataset_id}"] = (new_id, draft_name.strip(), before, renamed)
            st.rerun()
    drafted = st.session_state.get(f"ln_drafted_{dataset_id}")
    if drafted is not None and st.query_params.get("map") == str(drafted[0]):
        new_id, new_name, before, renamed = drafted
        st.success(f"Drafted map #{new_id}: **{escape_markdown(new_name)}**, linked to this dataset{before}.")
        if renamed:  # names changed to tell touchpoints apart (or cut to fit) are said, each with its activity
            shown = "; ".join(f"{a} → {n}" for a, n in renamed[:8])
            more = f"; and {len(renamed) - 8} more" if len(renamed) > 8 else ""
            st.caption(
                escape_markdown(
                    f"Touchpoints named apart from their activity (a name told apart by case, or too long): {shown}{more}."
                )
            )
        st.page_link("pages/2_Map_studio.py", label="Open it in the Map studio", icon=":material/view_kanban:",
                     query_params={"map": str(new_id)})  # fmt: skip


def _saved_key(dataset_id: int, map_id: int) -> str:
    return f"ln_saved_{dataset_id}_{map_id}"


def _render_links_table(dataset_id: int, map_id: int) -> None:
    links = load_links(dataset_id, map_id)
    labels = load_touchpoint_labels(map_id)
    if links.empty:
        st.info("This dataset has no activities.")
        return
    shown = links.head(MAX_LINK_ROWS).copy()
    shown["touchpoint"] = shown["touchpoint"].where(shown["touchpoint"].notna(), NO_TOUCHPOINT)
    shown["stage"] = shown["stage"].where(shown["stage"].notna(), DASH)  # an activity no touchpoint claims
    if len(links) > MAX_LINK_ROWS:
        st.caption(f"The {MAX_LINK_ROWS} activities with the most events are shown; the others keep their suggestion.")
    edited = st.data_editor(
        shown[["activity", "events", "touchpoint", "stage", "match"]],
        column_config={
            "activity": st.column_config.TextColumn("Activity", disabled=True),
            "events": st.column_config.NumberColumn("Events", disabled=True, format="localized"),
            "touchpoint": st.column_config.SelectboxColumn(
                "Touchpoint", options=[NO_TOUCHPOINT, *labels], required=True
            ),
            "stage": st.column_config.TextColumn("Stage", disabled=True),
            "match": st.column_config.TextColumn("Suggested by", disabled=True),
        },
        hide_index=True,
        width="stretch",
        key=f"ln_editor_{dataset_id}_{map_id}",
    )
    if st.button("Save links", type="primary", key=f"ln_save_{dataset_id}_{map_id}"):
        chosen = dict(zip(edited["activity"], edited["touchpoint"], strict=True))
        rest = links.iloc[MAX_LINK_ROWS:]
        payload = {a: (None if t == NO_TOUCHPOINT else labels[t]) for a, t in chosen.items()}
        payload.update(
            {a: (None if pd.isna(t) else int(t)) for a, t in zip(rest["activity"], rest["touchpoint_id"], strict=True)}
        )
        with user_errors():
            left = dataset_service.get_dataset_summary(dataset_id).map_id  # the map it was linked to, if another
            left = left if left != map_id else None
            before, left_before = map_log(map_id), map_log(left) if left is not None else None
            linking.save_links(dataset_id, map_id, payload)
            clear_caches()
            said = "Links saved: analyses of this dataset now use this map's touchpoints and stages."
            after = map_log(map_id)
            if after != before and after is not None:  # the map's own pages now read another log: said
                said += (
                    f" The map's Overview card, Metrics page and report read its newest linked event log: now "
                    f"{escape_markdown(after[1])}" + (f" (before: {escape_markdown(before[1])})." if before else ".")
                )
            if left is not None and map_log(left) != left_before:  # and the map it leaves reads another, or none
                now = map_log(left)
                name = next((m["name"] for m in load_map_summaries() if m["id"] == left), f"map {left}")
                said += f" {escape_markdown(name)} (#{left}) no longer reads it: " + (
                    f"its pages now read {escape_markdown(now[1])}." if now else "it has no event log linked now."
                )
            # Said after the rerun, so that the lines above (linked or not) are drawn from the saved links.
            st.session_state[_saved_key(dataset_id, map_id)] = said
            st.rerun()
    if said := st.session_state.pop(_saved_key(dataset_id, map_id), None):
        st.success(said, icon=":material/check_circle:")
    unmatched, unreached = load_coverage(dataset_id, map_id)
    c1, c2 = st.columns(2)
    for column, title, names, key, done in (
        (c1, "Activities no touchpoint claims", unmatched, "activity", "Every activity is linked."),
        (c2, "Touchpoints no activity reaches", unreached, "touchpoint", "Every touchpoint is reached."),
    ):
        with column:
            st.markdown(f"**{title}** ({len(names)})")
            if names:
                st.dataframe(for_people(pd.DataFrame({key: names})), hide_index=True, width="stretch", height=220)
            else:
                st.caption(done)
