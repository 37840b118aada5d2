"""AppTest of the Friction page: hot spots, adjustable weights kept in the URL, validation."""

from __future__ import annotations

from tests.factories_metrics import create_dataset, planted_log
from tests.pages.conftest import run_page
from tests.pages.page_checks import no_demo  # noqa: F401 - no_demo is autouse


def _dataset(engine) -> tuple[int, int]:
    from services.maps import create_map_from_template

    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    return map_id, create_dataset(planted_log(journeys=150), name="planted", map_id=map_id)


def test_friction_page_puts_the_planted_hot_spot_first(engine):
    map_id, dataset_id = _dataset(engine)
    at = run_page("pages/9_Friction.py", query={"dataset": str(dataset_id)})
    assert at.title[0].value == "Friction"
    hot = [m.value for m in at.markdown if m.value.startswith("**1.")]
    assert hot and hot[0].startswith("**1. Pricing page**")
    assert "end there unconverted" in hot[0]
    # The map defaults to the dataset's own link (the map it is linked to).
    assert at.selectbox(key="_pick_map").value is None
    assert at.dataframe[0].value.iloc[0]["Stage"] == "Conversion"
    assert at.dataframe[0].value.iloc[0]["Touchpoint"] == "Pricing page"
    # What the hot spots and the chart leave out is said.
    captions = [c.value for c in at.caption]
    assert any(c.startswith("The 5 touchpoints with the most friction, each reached by at least 5") for c in captions)
    touchpoints = len(at.dataframe[0].value)
    cut = [c for c in captions if c.startswith("The chart shows the 15 touchpoints with the most friction")]
    assert cut == (
        [f"The chart shows the 15 touchpoints with the most friction of {touchpoints}; the table lists every one."]
        if touchpoints > 15
        else []
    )


def test_friction_weights_from_the_link_and_the_inputs_change_the_index(engine):
    _map_id, dataset_id = _dataset(engine)
    at = run_page("pages/9_Friction.py", query={"dataset": str(dataset_id), "w_exit": "0", "w_feedback": "0"})
    assert at.number_input(key="w_exit").value == 0.0
    table = at.dataframe[0].value
    assert set(table["Exit contribution"]) <= {"0", "–"}
    at.number_input(key="w_repeat").set_value(2.0).run()
    assert not at.exception and not at.warning
    reweighted = at.dataframe[0].value
    assert not reweighted["Friction"].equals(table["Friction"])  # the new weight is used
    # The browser test (tests/e2e/test_links_e2e.py) sees the weight written to the link.


def test_friction_page_without_datasets(engine):
    at = run_page("pages/9_Friction.py")
    assert any("No dataset yet" in i.value for i in at.info)


def test_link_weights_that_cannot_be_used_are_named(engine):
    _map_id, dataset_id = _dataset(engine)
    query = {"dataset": str(dataset_id), "w_exit": "abc", "w_backtrack": "-1", "w_repeat": "20", "w_delay": "0.5"}
    at = run_page("pages/9_Friction.py", query=query)
    assert [w.value for w in at.warning] == [
        "The link's w_exit=abc is not a number from 0 to 10; showing 0.3 instead.",
        "The link's w_backtrack=-1 is not a number from 0 to 10; showing 0.2 instead.",
        "The link's w_repeat=20 is not a number from 0 to 10; showing 0.15 instead.",
    ]
    weights = {k: at.number_input(key=f"w_{k}").value for k in ("exit", "backtrack", "repeat", "delay")}
    assert weights == {"exit": 0.3, "backtrack": 0.2, "repeat": 0.15, "delay": 0.5}  # the usable one is kept
    assert [e for e in at.expander if e.label.startswith("Weights")][0].proto.expanded
    zeros = {f"w_{k}": "0" for k in ("exit", "backtrack", "repeat", "delay", "feedback")}
    at = run_page("pages/9_Friction.py", query={"dataset": str(dataset_id), **zeros})
    assert [w.value for w in at.warning] == ["The weights are all 0; the default weights are used instead."]


def test_the_friction_view_lives_in_the_link_and_the_survey_check_downloads(engine):
    _map_id, dataset_id = _dataset(engine)
    at = run_page("pages/9_Friction.py", query={"dataset": str(dataset_id), "view": "By stage"})
    assert at.query_params["view"] == "By stage"
    assert not [w.value for w in at.warning if w.value.startswith("The link's")]
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("Download CSV") >= 3  # touchpoints, stages and the survey check


def test_the_pages_that_read_the_whole_log_say_a_links_filters_are_not_used(engine):
    # Before: a link from Flows with from/to/channel opened Friction, Attribution, Outlook and Overlay on
    # the whole log without a word (their numbers were the whole log's, the link's were not).
    map_id, dataset_id = _dataset(engine)
    query = {"dataset": str(dataset_id), "map": str(map_id), "from": "2026-01-01", "channel": "web"}
    said = "The link's from=2026-01-01&channel=web is not used: this page reads the whole log"
    for page in ("pages/9_Friction.py", "pages/10_Attribution.py", "pages/11_Outlook.py", "pages/12_Overlay.py"):
        at = run_page(page, query=query)
        assert [w.value for w in at.warning if w.value.startswith(said)], (page, [w.value for w in at.warning])
        at = run_page(page, query={"dataset": str(dataset_id), "map": str(map_id)})
        assert not [w.value for w in at.warning if "is not used" in w.value], page
