"""AppTest of the Friction page: hot spots, adjustable weights kept in the URL, validation."""

from __future__ import annotations

from tests.factories_metrics import create_dataset, planted_log
from tests.pages.conftest import run_page


def _dataset(engine) -> tuple[int, int]:
    from services.maps import create_map_from_template

    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    return map_id, create_dataset(planted_log(journeys=150), name="planted", map_id=map_id)


def test_friction_page_puts_the_planted_hot_spot_first(engine, monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
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


def test_friction_weights_change_the_index_and_travel_in_the_url(engine, monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    _map_id, dataset_id = _dataset(engine)
    at = run_page("pages/9_Friction.py", query={"dataset": str(dataset_id), "w_exit": "0", "w_feedback": "0"})
    assert at.number_input(key="w_exit").value == 0.0
    table = at.dataframe[0].value
    assert set(table["Exit contribution"]) <= {"0", "–"}
    at.number_input(key="w_repeat").set_value(2.0).run()
    assert not at.exception
    assert at.query_params["w_repeat"] == "2"


def test_friction_page_without_datasets(engine, monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    at = run_page("pages/9_Friction.py")
    assert any("No dataset yet" in i.value for i in at.info)
