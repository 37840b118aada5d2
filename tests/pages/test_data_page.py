"""AppTest of the Data page: upload → preview → mapping → import; errors; datasets; links."""

from __future__ import annotations

import pytest
import streamlit as st

from analytics.schema import ColumnMapping
from services.datasets import list_dataset_summaries
from services.importer import import_event_log
from services.maps import create_map_from_template, list_map_summaries
from tests.pages.conftest import run_page

CSV = (
    "Ticket ID;Event time;Activity;Channel;Stage\n"
    "T1;25/03/2024 09:00;Réunion;web;Awareness\n"
    "T1;26/03/2024 10:30;Pricing page;web;Conversion\n"
    "T2;27/03/2024 11:00;Blog;email;Awareness\n"
).encode("cp1252")


@pytest.fixture(autouse=True)
def _no_demo(monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")


def _upload(at, name: str, data: bytes):
    at.get("file_uploader")[0].set_value((name, data, "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_empty_state(engine):
    at = run_page("pages/4_Data.py")
    assert at.title[0].value == "Event logs"
    texts = [i.value for i in at.info]
    assert any("Upload a CSV export" in t for t in texts)
    assert any("No event logs yet" in t for t in texts)


def test_upload_preview_mapping_and_import(engine):
    at = _upload(run_page("pages/4_Data.py"), "tickets.csv", CSV)
    caption = " ".join(c.value for c in at.caption)
    assert "Windows\\-1252" in caption and "semicolon" in caption
    assert list(at.dataframe[0].value.columns) == ["Ticket ID", "Event time", "Activity", "Channel", "Stage"]
    # Suggested roles.
    assert at.selectbox(key="imp_role_journey").value == "Ticket ID"
    assert at.selectbox(key="imp_role_timestamp").value == "Event time"
    assert at.selectbox(key="imp_role_activity").value == "Activity"
    assert at.selectbox(key="imp_role_stage").value == "Stage"
    assert any("can only be day\\-first" in c.value for c in at.caption)
    at.text_input(key="imp_name").set_value("Tickets")
    at.button(key="imp_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Imported" in s.value for s in at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Events"] == "3" and metrics["Journeys"] == "2" and metrics["Activities"] == "3"
    assert metrics["From"] == "2024-03-25"
    (dataset,) = list_dataset_summaries()
    assert (dataset.name, dataset.events) == ("Tickets", 3)
    assert at.query_params["dataset"] == str(dataset.id)


def test_the_preview_says_whether_it_shows_the_whole_file(engine):
    short = b"case,when,step\nc1,2024-03-01,Visit\nc1,2024-03-02,Demo,extra\n"
    at = _upload(run_page("pages/4_Data.py"), "short.csv", short)
    captions = [c.value for c in at.caption]
    assert any("3 columns · whole file, 1 row" in c for c in captions), captions
    assert any(w.value.startswith("1 row of the file cannot be read") for w in at.warning), [
        w.value for w in at.warning
    ]
    long = b"case,when,step\n" + b"".join(b"c%d,2024-03-01,Visit\n" % i for i in range(30))
    at = _upload(run_page("pages/4_Data.py"), "long.csv", long)
    assert any("3 columns · first 20 rows" in c.value for c in at.caption), [c.value for c in at.caption]


def test_bad_file_shows_the_message_and_stores_nothing(engine):
    bad = b"case,when,step\nc1,2024-03-01,Visit\nc1,not a date,Demo\n"
    at = _upload(run_page("pages/4_Data.py"), "bad.csv", bad)
    at.button(key="imp_go").click().run()
    errors = [e.value for e in at.error]
    assert any("Unreadable timestamp" in e and "row 2" in e and "'when'" in e and "'not a date'" in e for e in errors)
    assert list_dataset_summaries() == []
    # The failure names the next step; its bar is gone.
    assert not at.get("progress")
    assert any("Import failed" in s.label for s in at.status)
    assert any("import the good rows now" in i.value for i in at.info)
    # Next run (any widget): the failure is still shown with its offer.
    at.run()
    assert any("Unreadable timestamp" in e.value for e in at.error)
    # Taking the offer: imported without the bad row, with the report offered for download.
    at.button(key="imp_retry_skip").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("1 row left out" in w.value for w in at.warning)
    assert at.get("download_button")
    assert list_dataset_summaries()[0].events == 1
    assert any("2 rows read, 1 event stored" in m.value for m in at.markdown)


def test_a_file_level_failure_says_what_to_change(engine):
    at = _upload(run_page("pages/4_Data.py"), "empty.csv", b"case,when,step\n")
    at.button(key="imp_go").click().run()
    assert any("header row but no events" in e.value for e in at.error)
    assert not at.get("progress")
    assert not _has_button(at, "imp_retry_skip")
    assert any("Change what the message names" in i.value for i in at.info)


def _has_button(at, key: str) -> bool:
    return any(b.key == key for b in at.button)


def test_xlsx_upload_with_a_sheet_to_choose(engine):
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    wb.active.append(["About this export"])
    ws = wb.create_sheet("Events")
    for row in (
        ["Ticket ID", "Event time", "Activity"],
        ["T1", "2024-03-01 09:00", "Open"],
        ["T1", "2024-03-02", "Close"],
    ):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    at = _upload(run_page("pages/4_Data.py"), "export.xlsx", buf.getvalue())
    assert at.selectbox(key="imp_sheet").value == "Cover"
    at.selectbox(key="imp_sheet").set_value("Events").run()
    assert any("Excel workbook · sheet Events" in c.value for c in at.caption)
    assert list(at.dataframe[0].value.columns) == ["Ticket ID", "Event time", "Activity"]
    at.button(key="imp_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("2 rows read, 2 events stored" in m.value for m in at.markdown)
    assert list_dataset_summaries()[0].name == "export"
    # Its details say how it was read (the sheet, not a CSV's encoding) and that accounts are journeys.
    at = run_page("pages/4_Data.py", query={"dataset": str(list_dataset_summaries()[0].id)})
    captions = [c.value for c in at.caption]
    assert any("Excel workbook, sheet Events" in c and "delimiter" not in c for c in captions), captions
    assert "Accounts: no account column was mapped, so each journey counts as its own account." in captions


def test_repeated_headers_identical_rows_and_next_steps(engine):
    data = b"case,when,step,step,\nc1,2024-03-01,A,x,\nc1,2024-03-01,A,x,\nc1,2024-03-02,B,y,z\n"
    map_id = create_map_from_template(template_key="b2b-5-stage", name="Map A")
    at = _upload(run_page("pages/4_Data.py"), "export.csv", data)
    assert list(at.dataframe[0].value.columns) == ["case", "when", "step", "step (2)", "column 5"]
    assert any("step \\(2\\)" in c.value or "step (2)" in c.value for c in at.caption)
    at.selectbox(key="imp_role_activity").set_value("step (2)").run()
    at.button(key="imp_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert {m.label: m.value for m in at.metric}["Identical rows"] == "1"
    assert any("3 rows read, 3 events stored; 1 row repeats an earlier row" in m.value for m in at.markdown)
    (dataset,) = list_dataset_summaries()
    explore = [pl.proto for pl in at.get("page_link") if pl.proto.label == "Explore this dataset"]
    assert len(explore) == 1 and explore[0].page == "Flows", explore
    assert explore[0].query_string == f"dataset={dataset.id}"
    # Linking it to a map from the result.
    at.button(key=f"imp_link_{dataset.id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert list_dataset_summaries()[0].map_id == map_id
    # Dropping identical rows, on request.
    at.checkbox(key="imp_drop_identical").check().run()
    at.button(key="imp_go").click().run()
    assert any("3 rows read, 2 events stored" in m.value for m in at.markdown)
    assert sorted(d.events for d in list_dataset_summaries()) == [2, 3]
    assert dataset.events == 3


def test_row_filter_and_preset(engine):
    raw = b"case:concept:name,concept:name,time:timestamp,lifecycle:transition\nc1,A,2024-01-01T00:00:00Z,START\nc1,A,2024-01-01T01:00:00Z,COMPLETE\n"
    at = _upload(run_page("pages/4_Data.py"), "raw.csv", raw)
    assert at.selectbox(key="imp_where_col").value == "lifecycle:transition"
    assert at.text_input(key="imp_where_value").value == "COMPLETE"
    at.checkbox(key="imp_save_preset").check().run()
    at.text_input(key="imp_preset_name").set_value("XES export").run()
    at.button(key="imp_go").click().run()
    assert {m.label: m.value for m in at.metric}["Events"] == "1"
    # The next file of the same shape uses the saved mapping.
    again = _upload(run_page("pages/4_Data.py"), "raw2.csv", raw.replace(b"c1", b"c2"))
    assert any("XES export" in i.value for i in again.info)


def test_datasets_tab_links_and_drafts(engine):
    map_id = create_map_from_template(template_key="b2b-5-stage", name="Funnel")
    dataset_id = import_event_log(
        CSV, name="Tickets", mapping=ColumnMapping.of(journey="Ticket ID", timestamp="Event time", activity="Activity")
    ).dataset_id
    at = run_page("pages/4_Data.py", query={"dataset": str(dataset_id), "map": str(map_id)})
    assert at.selectbox(key="ds_choice").value == dataset_id
    editor = next(d.value for d in at.dataframe if "touchpoint" in d.value.columns)
    assert editor.set_index("activity").loc["Pricing page", "touchpoint"] == "Pricing page"
    assert editor.set_index("activity").loc["Réunion", "touchpoint"] == "(no touchpoint)"
    assert editor.set_index("activity").loc["Réunion", "stage"] == "–"  # before: None, shown as "None"
    assert [c.value for c in at.caption if c.value.startswith("Not linked to this map yet")]
    at.button(key=f"ln_save_{dataset_id}_{map_id}").click().run()
    said = [s.value for s in at.success if "Links saved" in s.value]
    # The map read no log before: its Overview, Metrics and report now read this one, and it is said.
    assert said == [
        "Links saved: analyses of this dataset now use this map's touchpoints and stages. The map's Overview "
        "card, Metrics page and report read its newest linked event log: now Tickets."
    ]
    # The line above the table is drawn from the saved links (before: "Not linked to this map yet" beside it).
    assert [c.value for c in at.caption if c.value == "This dataset is linked to this map."]
    assert not [c.value for c in at.caption if c.value.startswith("Not linked to this map yet")]
    assert list_dataset_summaries()[0].map_id == map_id
    at.button(key=f"ln_save_{dataset_id}_{map_id}").click().run()  # saved again: the map reads the same log
    assert [s.value for s in at.success if "Links saved" in s.value] == [
        "Links saved: analyses of this dataset now use this map's touchpoints and stages."
    ]
    # Coverage: the activity left unlinked, and the map's touchpoints the log never reaches.
    unlinked = next(d.value for d in at.dataframe if list(d.value.columns) == ["Activity"])
    assert "Réunion" in set(unlinked["Activity"])
    unreached = next(d.value for d in at.dataframe if list(d.value.columns) == ["Touchpoint"])
    assert "Pricing page" not in set(unreached["Touchpoint"]) and len(unreached) > 0
    # Where its analyses read the log from, in words (before: "questions read from Parquet (…)").
    facts = [c.value for c in at.caption if "rows read" in c.value]
    assert len(facts) == 1 and facts[0].endswith(" · analyses: read from Parquet (not in use yet)"), facts
    # The dataset list is written for people: labels, whole counts with separators, dates.
    listed = next(d.value for d in at.dataframe if "Dataset" in d.value.columns)
    summary = list_dataset_summaries()[0]
    assert list(listed.columns)[:4] == ["#", "Dataset", "File", "Events"]
    assert listed.loc[0, "Events"] == f"{summary.events:,}"
    assert any(m.value.startswith("**Activities no touchpoint claims**") for m in at.markdown)
    # Drafting moves the log to the new map: said before the click and in the confirmation.
    at.run()  # the page as it reads after the links were saved
    assert any(f"(#{map_id}): drafting links it to the new map instead" in c.value for c in at.caption), [
        c.value for c in at.caption
    ]
    at.button(key=f"ln_draft_{dataset_id}").click().run()
    assert not at.exception
    drafted = next(m for m in list_map_summaries() if m.name == "Tickets (drafted)")
    assert any(f"Drafted map #{drafted.id}" in s.value and f", #{map_id})" in s.value for s in at.success)
    # The page shows the new map straight away: picked in the "Map" box, its links table, a link to the studio.
    assert at.selectbox(key="ln_map").value == drafted.id
    assert at.query_params["map"] == str(drafted.id)
    assert at.button(key=f"ln_save_{dataset_id}_{drafted.id}")
    links = [e for e in at.get("page_link") if "Open it in the Map studio" in e.proto.label]
    assert len(links) == 1 and links[0].proto.query_string == f"map={drafted.id}"
    # A newer log linked to the first map: the map's own pages move to it, and the log they read before is named.
    newer = import_event_log(
        CSV.replace(b"T2;", b"T3;"),
        name="Tickets, May",
        mapping=ColumnMapping.of(journey="Ticket ID", timestamp="Event time", activity="Activity"),
    ).dataset_id
    st.cache_data.clear()  # imported outside the page, which reads the logs through a cached loader
    at = run_page("pages/4_Data.py", query={"dataset": str(newer), "map": str(drafted.id)})
    at.button(key=f"ln_save_{newer}_{drafted.id}").click().run()
    said = [s.value for s in at.success if "Links saved" in s.value]
    assert said and said[0].endswith("read its newest linked event log: now Tickets, May (before: Tickets)."), said
    # The newer log moved on to the first map: the map it leaves is said too, with the log it reads now.
    st.cache_data.clear()
    at = run_page("pages/4_Data.py", query={"dataset": str(newer), "map": str(map_id)})
    at.button(key=f"ln_save_{newer}_{map_id}").click().run()
    said = [s.value.replace("\\", "") for s in at.success if "Links saved" in s.value]
    assert said and said[0].endswith(
        f"now Tickets, May. Tickets (drafted) (#{drafted.id}) no longer reads it: its pages now read Tickets."
    ), said


def test_delete_needs_confirmation(engine):
    dataset_id = import_event_log(
        CSV, name="Tickets", mapping=ColumnMapping.of(journey="Ticket ID", timestamp="Event time", activity="Activity")
    ).dataset_id
    at = run_page("pages/4_Data.py", query={"dataset": str(dataset_id)})
    assert any("metrics computed from it keep their values" in m.value for m in at.markdown)  # said before
    at.button(key=f"ds_delete_{dataset_id}").click().run()
    assert any("Tick the box" in w.value for w in at.warning)
    assert len(list_dataset_summaries()) == 1
    at.checkbox(key=f"ds_confirm_{dataset_id}").check().run()
    at.button(key=f"ds_delete_{dataset_id}").click().run()
    assert not at.exception
    assert list_dataset_summaries() == []


def test_a_dataset_imported_before_the_neighbour_facts_offers_to_store_them(engine):
    import pyarrow.parquet as pq

    from analytics.schema import NEIGHBOUR_COLUMNS
    from services.datasets import get_event_source, lacks_neighbour_facts

    dataset_id = import_event_log(
        CSV, name="Tickets", mapping=ColumnMapping.of(journey="Ticket ID", timestamp="Event time", activity="Activity")
    ).dataset_id
    at = run_page("pages/4_Data.py", query={"dataset": str(dataset_id)})
    assert not any("earlier version" in i.value for i in at.info)  # a new import has them

    source, _ = get_event_source(dataset_id)
    older = pq.read_table(source.parquet_path).drop_columns(list(NEIGHBOUR_COLUMNS))
    pq.write_table(older, source.parquet_path)
    st.cache_data.clear()  # the page reads it through a cached loader: as after a restart
    at = run_page("pages/4_Data.py", query={"dataset": str(dataset_id)})
    assert any("earlier version" in i.value for i in at.info)
    at.button(key=f"ds_neighbours_{dataset_id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not lacks_neighbour_facts(dataset_id)
    assert not any("earlier version" in i.value for i in at.info)


def test_a_link_to_a_map_that_does_not_exist_is_named(engine):
    map_id = create_map_from_template(template_key="b2b-5-stage", name="Funnel")
    dataset_id = import_event_log(
        CSV, name="Tickets", mapping=ColumnMapping.of(journey="Ticket ID", timestamp="Event time", activity="Activity")
    ).dataset_id
    at = run_page("pages/4_Data.py", query={"dataset": str(dataset_id), "map": "99"})
    assert (
        f"The link's map=99 is not one of the choices here (existing: map={map_id} for Funnel (#{map_id})); showing Funnel (#{map_id}) instead."
        in [w.value for w in at.warning]
    )
    assert at.selectbox(key="ln_map").value == map_id


def test_the_open_tab_is_in_the_link_and_a_bad_one_is_named(engine):
    at = run_page("pages/4_Data.py", query={"data_tab": "Imprt"})
    assert "The link's data_tab=Imprt is not a tab here (nearest: Import); showing Import instead." in [
        w.value for w in at.warning
    ]
    import_event_log(
        CSV, name="Tickets", mapping=ColumnMapping.of(journey="Ticket ID", timestamp="Event time", activity="Activity")
    )
    st.cache_data.clear()
    at = run_page("pages/4_Data.py", query={"data_tab": "Imprt"})  # with event logs, the page opens on them
    said = [w.value for w in at.warning]
    assert "The link's data_tab=Imprt is not a tab here (nearest: Import); showing Datasets and links instead." in said
    assert not [w for w in run_page("pages/4_Data.py", query={"data_tab": "Import"}).warning if "link" in w.value]


def test_a_log_too_large_for_stored_facts_says_why_its_transitions_take_longer(engine, monkeypatch):
    from analytics import file_facts

    mapping = ColumnMapping.of(journey="Ticket ID", timestamp="Event time", activity="Activity")
    kept = import_event_log(CSV, name="Kept", mapping=mapping).dataset_id
    monkeypatch.setattr(file_facts, "MAX_PAIRS", 1)  # the 3 pairs of this log are too many
    left_out = import_event_log(CSV.replace(b"T2", b"T3"), name="Left out", mapping=mapping).dataset_id
    said = "3 pairs of activities (more than 1): too many to store with it"
    at = run_page("pages/4_Data.py", query={"dataset": str(left_out)})
    assert any(said in c.value.replace("\\", "") for c in at.caption), [c.value for c in at.caption]
    at = run_page("pages/4_Data.py", query={"dataset": str(kept)})
    assert not any("too many to store" in c.value for c in at.caption)


def test_a_dataset_the_link_names_that_does_not_exist_is_refused(engine):
    dataset_id = import_event_log(
        CSV, name="Tickets", mapping=ColumnMapping.of(journey="Ticket ID", timestamp="Event time", activity="Activity")
    ).dataset_id
    at = run_page("pages/4_Data.py", query={"dataset": "999"})
    said = [w.value for w in at.warning if w.value.startswith("There is no dataset 999")]
    assert len(said) == 1 and f"{dataset_id} (Tickets)" in said[0], [w.value for w in at.warning]
    assert at.query_params["dataset"] == "999"
    assert not [s for s in at.subheader if s.value == "Link to a map"]  # no other dataset's details instead


def test_another_dataset_shows_its_own_map_not_the_one_chosen_for_the_last(demo_engine):
    maps = {m.name: m.id for m in list_map_summaries()}
    logs = {d.name: (d.id, d.map_id) for d in list_dataset_summaries()}
    b2b, b2b_map = logs["Demo: B2B SaaS event log"]
    advisory, advisory_map = logs["Demo: advisory client log"]
    at = run_page("pages/4_Data.py", query={"dataset": str(b2b)})
    assert at.selectbox(key="ln_map").value == b2b_map == maps["B2B SaaS buyer journey"]
    at.selectbox(key="ds_choice").set_value(advisory).run()
    assert not at.exception, [e.value for e in at.exception]
    # Before: the B2B map stayed, shown as "not linked yet", and saving links would have moved the log to it.
    assert at.selectbox(key="ln_map").value == advisory_map and at.query_params["map"] == str(advisory_map)
    assert any(c.value == "This dataset is linked to this map." for c in at.caption)
    # Another map picked on purpose says what saving would do.
    at.selectbox(key="ln_map").set_value(b2b_map).run()
    said = [c.value for c in at.caption if c.value.startswith("Not linked to this map yet")]
    assert said and "It is linked to Advisory client lifecycle" in said[0] and "links it to this map instead" in said[0]


def test_a_draft_says_which_touchpoints_it_named_apart_from_their_activity(engine):
    log = "case,when,step\nj1,2024-01-01,Demo\nj1,2024-01-02,DEMO\nj2,2024-01-01,Demo\n"
    dataset_id = import_event_log(
        log.encode(), name="Cases", mapping=ColumnMapping.of(journey="case", timestamp="when", activity="step")
    ).dataset_id
    at = run_page("pages/4_Data.py", query={"dataset": str(dataset_id), "tab": "Datasets and links"})
    at.button(key=f"ln_draft_{dataset_id}").click().run()
    assert not at.exception
    said = [c.value.replace("\\", "") for c in at.caption]  # markdown escapes undone
    assert any("Touchpoints named apart from their activity" in c and "DEMO → DEMO (2)" in c for c in said), said
