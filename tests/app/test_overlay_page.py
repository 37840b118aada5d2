"""AppTest of the Overlay page: measure picker in the URL, overlay data, designed vs observed."""

from __future__ import annotations

from tests.app.conftest import run_page
from tests.factories_metrics import create_dataset, planted_log


def test_overlay_page_draws_each_measure_and_designed_vs_observed(engine, monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    from services.maps import create_map_from_template

    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    create_dataset(planted_log(journeys=80, unknown_activity="Webinar"), name="planted", map_id=map_id)
    at = run_page("pages/12_Overlay.py", query={"map": str(map_id), "measure": "friction"})
    assert at.title[0].value == "Map overlay"
    assert at.radio(key="qp_measure").value == "friction"
    overlay = at.dataframe[0].value
    assert list(overlay.columns[:3]) == ["touchpoint_id", "touchpoint", "stage"]
    top = overlay.sort_values("value", ascending=False).iloc[0]
    assert top["touchpoint"] == "Pricing page"
    labels = {m.label: m.value for m in at.metric}
    assert labels["Activities the map does not know"] == "1"
    assert int(labels["Transitions against the stage order"]) > 0
    at.radio(key="qp_measure").set_value("journeys").run()
    assert not at.exception
    assert at.query_params["measure"] == "journeys"
    assert at.dataframe[0].value.set_index("touchpoint").loc["Pricing page", "value"] == 80


def test_overlay_page_without_an_event_log_draws_the_plain_map(engine, monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    from services.maps import create_map_from_template

    create_map_from_template(template_key="professional-services", name="Advisory client lifecycle")
    at = run_page("pages/12_Overlay.py")
    assert any("No event log yet" in i.value for i in at.info)
    assert not at.exception


def test_friction_page_without_a_map_scores_activities_as_they_are(engine, monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    dataset_id = create_dataset(planted_log(journeys=60), name="unlinked")
    at = run_page("pages/9_Friction.py", query={"dataset": str(dataset_id)})
    assert not at.exception
    assert at.selectbox(key="qp_map").value is None
    assert at.dataframe[0].value.iloc[0]["touchpoint"] == "Pricing page"
