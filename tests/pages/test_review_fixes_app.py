"""AppTest of the review's fixes on the demo: the Outlook's as-of words and downloads, the Versions tab's
downloads and refusals, the Overlay's log following the map picker, and ids from a link refused."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.journeys import JourneyQuery
from analytics.outlook import compute_probability_bands
from services import analysis, snapshots
from services.context import open_context
from services.conversion import compute_conversion_line
from services.csv_safety import to_safe_csv
from services.datasets import list_dataset_summaries
from services.maps import list_map_summaries
from tests.pages.conftest import run_page

STUDIO = "pages/2_Map_studio.py"
OUTLOOK = "pages/11_Outlook.py"
OVERLAY = "pages/12_Overlay.py"


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every ``st.download_button`` the page draws: its label, file name and bytes (AppTest keeps only a
    media URL)."""
    import streamlit

    seen: list[dict] = []
    original = streamlit.download_button

    def record(label, data, file_name=None, mime=None, **kwargs):  # noqa: ANN001, ANN202 - st's own signature
        seen.append({"label": label, "file_name": file_name, "data": data})
        return original(label, data, file_name=file_name, mime=mime, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", record)
    return seen


def _ids() -> tuple[dict[str, int], dict[str, int]]:
    maps = {m.name: m.id for m in list_map_summaries()}
    logs = {d.name: d.id for d in list_dataset_summaries()}
    return maps, logs


# --------------------------------------------------------------------------- 1. Outlook as of a day


def test_outlook_as_of_a_day_says_the_conversion_line_covers_the_whole_log(demo_engine):
    _maps, logs = _ids()
    dataset_id = logs["Demo: B2B SaaS event log"]
    at = run_page(OUTLOOK, query={"dataset": str(dataset_id), "as_of": "2026-01-31"})
    ctx = open_context(dataset_id, query=JourneyQuery(level="contact"))
    line = compute_conversion_line(ctx)
    counts = analysis.run("outlook", ctx, as_of=date(2026, 1, 31)).counts
    total = sum(counts.values())
    assert total < line.journeys  # the day cuts the log: the two sets of numbers differ
    said = [i.value for i in at.info if "Conversion line above covers the whole log" in i.value]
    assert len(said) == 1 and "up to 2026-01-31" in said[0], [i.value for i in at.info]
    caption = next(c.value for c in at.caption if c.value.startswith("As of 2026-01-31"))
    # The caption's numbers are the as-of counts, and it no longer says the Conversion line counts the open ones.
    assert f"{total:,} of the log's {line.journeys:,} contacts had begun by that day" in caption, caption
    assert f"{counts['converted']:,} of them converted by then" in caption
    closed = counts["converted"] + counts["lost"] + counts["stale"]
    assert f"learned from the {closed:,} closed contacts, so it leaves out the {counts['open']:,} open ones" in caption
    assert "counts too" not in caption

    # Without a day the counts are the Conversion line's, and the caption says so.
    at = run_page(OUTLOOK, query={"dataset": str(dataset_id)})
    assert not [i for i in at.info if "covers the whole log" in i.value]
    caption = next(c.value for c in at.caption if c.value.startswith("As of "))
    assert f"the {line.journeys:,} contacts of the Conversion line above" in caption, caption
    # A day before the last event is said as such even where its counts happen to equal the line's
    # (every account had begun and converted by then): never "the day of the last event".
    at = run_page(OUTLOOK, query={"dataset": str(dataset_id), "as_of": "2026-10-30", "level": "account"})
    assert [i for i in at.info if "up to 2026-10-30" in i.value]
    caption = next(c.value for c in at.caption if c.value.startswith("As of 2026-10-30"))
    assert "the day of the last event" not in caption, caption


# --------------------------------------------------------------------------- 2. Outlook downloads


@pytest.mark.parametrize("level", ["contact", "account"])
def test_outlook_downloads_the_bands_it_draws_named_by_level_without_python_reprs(demo_engine, downloads, level):
    _maps, logs = _ids()
    dataset_id = logs["Demo: B2B SaaS event log"]
    run_page(OUTLOOK, query={"dataset": str(dataset_id), "level": level})
    result = analysis.run("outlook", open_context(dataset_id, query=JourneyQuery(level=level)))
    chart = [d for d in downloads if d["label"] == "Download the chart's data"]
    assert len(chart) == 2
    bands, actions = chart
    # The probability chart's data: one row per band, as drawn; not one row per journey.
    assert bands["data"] == to_safe_csv(compute_probability_bands(result.table))
    assert bands["file_name"] == f"outlook_bands_{level}_{dataset_id}.csv"
    assert actions["file_name"] == f"next_best_actions_{level}_{dataset_id}.csv"
    for d in downloads:
        if str(d["file_name"]).endswith(".csv"):
            text = d["data"].decode("utf-8-sig")
            assert "[(" not in text and "[{" not in text and "{'" not in text, (d["file_name"], text[:300])
            assert level in d["file_name"], d["file_name"]  # the two levels' files never collide


# --------------------------------------------------------------------------- 3. Versions tab downloads


def test_versions_tab_labels_each_download_and_names_the_diff_from_to(demo_engine, downloads):
    from components.studio_files import slug

    maps, _logs = _ids()
    b2b, advisory = maps["B2B SaaS buyer journey"], maps["Advisory client lifecycle"]
    snapshots.create_snapshot(b2b, "Before the workshop")
    from services.map_edits import update_map_details

    update_map_details(b2b, expected_version=None, description="Changed after the snapshot")
    at = run_page(STUDIO, query={"map": str(b2b), "tab": "Versions", "compare": str(advisory)})
    heading = next(m.value for m in at.markdown if m.value.startswith("**From “"))
    assert heading == "**From “B2B SaaS buyer journey” to “Advisory client lifecycle”**"
    csvs = {d["label"]: d["file_name"] for d in downloads if str(d["file_name"]).endswith(".csv")}
    labels = [d["label"] for d in downloads if str(d["file_name"]).endswith(".csv")]
    assert len(labels) == len(set(labels)), labels  # no two buttons say the same and hold different things
    assert csvs["Download the change log (CSV)"] == "b2b-saas-buyer-journey-change-log.csv"
    assert csvs["Download the differences between the two maps (CSV)"] == (
        f"{slug('B2B SaaS buyer journey')}-to-{slug('Advisory client lifecycle')}.csv"
    )
    # The map changed since the snapshot, so its changes download too.
    assert csvs["Download the changes since this snapshot (CSV)"].startswith("b2b-saas-buyer-journey-since-")


# --------------------------------------------------------------------------- 4. Overlay: the log follows the map


def test_overlay_switches_to_the_picked_maps_own_log_and_keeps_a_log_picked_after(demo_engine):
    maps, logs = _ids()
    at = run_page(OVERLAY)
    first_map = int(at.query_params["map"])
    first_log = int(at.query_params["dataset"])
    b2b, b2b_log = maps["B2B SaaS buyer journey"], logs["Demo: B2B SaaS event log"]
    assert first_map != b2b and first_log != b2b_log
    at.selectbox(key="_pick_map").set_value(b2b).run()
    assert not at.exception
    # As a fresh ?map= link opens it: that map's own log, no "not linked" warning.
    assert at.query_params["map"] == str(b2b) and at.query_params["dataset"] == str(b2b_log)
    assert at.selectbox(key="_pick_dataset").value == b2b_log
    assert not [w.value for w in at.warning if "not to “B2B SaaS buyer journey”" in w.value]
    assert any("the event log is now" in c.value for c in at.caption)
    fresh = run_page(OVERLAY, query={"map": str(b2b)})
    assert fresh.query_params["dataset"] == at.query_params["dataset"]
    # A log the user picks afterwards is kept, over reruns.
    at.selectbox(key="_pick_dataset").set_value(first_log).run()
    at.run()
    assert at.query_params["dataset"] == str(first_log) and at.query_params["map"] == str(b2b)
    assert [w.value for w in at.warning if "not to “B2B SaaS buyer journey”" in w.value]
    # A link naming both is opened as it says.
    at = run_page(OVERLAY, query={"map": str(b2b), "dataset": str(first_log)})
    assert at.selectbox(key="_pick_dataset").value == first_log


def test_overlay_keeps_the_log_where_the_picked_map_has_none_or_the_link_map_was_refused(demo_engine):
    maps, logs = _ids()
    b2b_log, advisory = logs["Demo: B2B SaaS event log"], maps["Advisory client lifecycle"]
    committee = maps["Enterprise buying committee"]  # no log of its own
    at = run_page(OVERLAY, query={"map": str(advisory), "dataset": str(b2b_log)})
    at.selectbox(key="_pick_map").set_value(committee).run()
    # Before: forced to another log, "now" said of a log that was already shown.
    assert at.query_params["dataset"] == str(b2b_log)
    assert not [c.value for c in at.caption if "the event log is now" in c.value]
    at = run_page(OVERLAY, query={"map": "999", "dataset": str(b2b_log)})
    at.selectbox(key="_pick_map_fix").set_value(advisory).run()
    assert at.query_params["dataset"] == str(b2b_log)  # the log the link named explicitly is kept


# --------------------------------------------------------------------------- 5. ids from a link refused


def test_a_snapshot_the_link_names_that_does_not_exist_is_refused_with_the_real_ones(demo_engine):
    maps, _logs = _ids()
    b2b = maps["B2B SaaS buyer journey"]
    real_id = snapshots.create_snapshot(b2b, "Before the workshop")
    for _reload in range(2):  # and again on a reload: the link is left as it was
        at = run_page(STUDIO, query={"map": str(b2b), "tab": "Versions", "snapshot": "999"})
        said = [w.value for w in at.warning if w.value.startswith("There is no snapshot 999")]
        assert len(said) == 1 and f"{real_id} (Before the workshop" in said[0], [w.value for w in at.warning]
        assert at.query_params["snapshot"] == "999"
        assert at.selectbox(key=f"snapshot::{b2b}").value is None
        assert "Restore" not in [b.label for b in at.button]  # nothing to restore until one is picked
        assert not [m.value for m in at.markdown if m.value.startswith("**What changed since")]
    at.selectbox(key=f"snapshot::{b2b}").set_value(real_id).run()
    assert at.query_params["snapshot"] == str(real_id) and "Restore" in [b.label for b in at.button]


def test_a_compare_map_the_link_names_that_does_not_exist_is_refused(demo_engine):
    maps, _logs = _ids()
    b2b = maps["B2B SaaS buyer journey"]
    for raw, said in (("999", "There is no map 999"), (str(b2b), f"The link's compare={b2b} is this map itself")):
        at = run_page(STUDIO, query={"map": str(b2b), "tab": "Versions", "compare": raw})
        warned = [w.value for w in at.warning if w.value.startswith(said)]
        assert len(warned) == 1, [w.value for w in at.warning]
        assert at.query_params["compare"] == raw
        assert at.selectbox(key=f"compare::{b2b}").value is None
        assert not [m.value for m in at.markdown if m.value.startswith("**From “")]
        if raw == "999":  # the real ones are named
            assert f"{maps['Advisory client lifecycle']} (Advisory client lifecycle)" in warned[0]


def test_a_persona_the_link_names_that_does_not_exist_is_refused_on_the_personas_page(demo_engine):
    """Held already by pages/3_Personas.py (query_pick); kept here beside the other refusals."""
    at = run_page("pages/3_Personas.py", query={"persona": "99"})
    said = [w.value for w in at.warning if w.value.startswith("There is no persona 99")]
    assert len(said) == 1
    assert at.selectbox(key="qp_persona").value is None and at.query_params["persona"] == "99"


def test_a_persona_the_link_names_that_the_map_lacks_is_refused_in_the_map_studio(demo_engine):
    # Before: "Everyone" was shown with a warning and the link rewritten to persona=0, so a reload said nothing.
    maps, _logs = _ids()
    b2b = maps["B2B SaaS buyer journey"]
    for _reload in range(2):
        at = run_page(STUDIO, query={"map": str(b2b), "persona": "99"})
        said = [w.value for w in at.warning if w.value.startswith("There is no persona 99 on this map")]
        assert len(said) == 1 and "everyone's view until you pick one" in said[0], [w.value for w in at.warning]
        assert at.query_params["persona"] == "99"
        assert at.selectbox(key=f"grid_persona::{b2b}").value is None


def test_a_compare_map_the_link_names_is_refused_where_the_map_is_the_only_one(engine, monkeypatch):
    from services.maps import create_map_from_template

    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")  # no demo maps: this one is the only map

    only = create_map_from_template(template_key="b2b-4-stage", name="Only map")
    at = run_page(STUDIO, query={"map": str(only), "tab": "Versions", "compare": "999"})
    assert [w.value for w in at.warning if w.value.startswith("There is no map 999 to compare with")]
