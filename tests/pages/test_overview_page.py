"""AppTest of the Overview (managers' page): every map with its health, heat map, trends."""

from __future__ import annotations

from tests.factories_metrics import create_dataset, planted_log
from tests.pages.conftest import run_page


def _text(at) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def _maps_with_data(monkeypatch) -> int:
    """Three maps (no demo); the B2B one has a planted log and an NPS metric with two months."""
    from services import metrics as metric_service
    from services.maps import create_map_from_template

    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    b2b = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    create_map_from_template(template_key="buying-committee", name="Enterprise buying committee")
    create_map_from_template(template_key="professional-services", name="Advisory client lifecycle")
    dataset_id = create_dataset(planted_log(journeys=150), name="planted b2b", map_id=b2b)
    nps = metric_service.create_metric(map_id=b2b, kind="nps", target=30)
    metric_service.set_metric_value(nps, "2026-01", 12)
    metric_service.set_metric_value(nps, "2026-02", 18)
    metric_service.create_metric(map_id=b2b, kind="conversion", target=25, dataset_id=dataset_id)
    return b2b


def test_overview_shows_every_map_with_its_health(engine, monkeypatch):
    b2b = _maps_with_data(monkeypatch)
    at = run_page("app.py")
    assert at.title[0].value == "Overview"
    text = _text(at)
    for name in ("B2B SaaS buyer journey", "Enterprise buying committee", "Advisory client lifecycle"):
        assert name in text
    assert "Worst hot spot: **Pricing page**" in text
    assert "NPS **18.0** vs target 30 :red-badge[off target] ▲ +6.0 since 2026\\-01 · entered by hand" in text
    assert "Actions: 0 open" in text
    assert [m.label for m in at.metric][:2] == ["Journey maps", "Off target"]
    # Each map's card offers its report where the manager is.
    assert [b.label for b in at.get("download_button")].count("Report") == 3
    assert at.metric[1].value == "1"
    # The trends chart's metric picker keeps its choice in the URL.
    assert at.radio(key="qp_trend").value == "nps"
    assert at.query_params["trend"] == "nps"
    assert b2b


def test_overview_without_maps(engine, monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    at = run_page("app.py")
    assert any("No journey maps yet" in i.value for i in at.info)


def test_health_is_computed_once_per_change_of_the_data(engine, monkeypatch):
    """A new session reuses the health; a change (here a new NPS value, as another process would
    write it, with no cache cleared) is shown at the next run."""
    from services import metrics as metric_service
    from services import overview as overview_service

    b2b = _maps_with_data(monkeypatch)
    computed = []
    real = overview_service.compute_portfolio

    def counting(**kwargs):
        computed.append(1)
        return real(**kwargs)

    monkeypatch.setattr(overview_service, "compute_portfolio", counting)
    before = overview_service.data_version()
    run_page("app.py")
    run_page("app.py")  # a fresh session, nothing changed
    assert len(computed) == 1
    (nps,) = [m for m in metric_service.list_metrics(b2b) if m.kind == "nps"]
    metric_service.set_metric_value(nps.id, "2026-03", 41)
    assert overview_service.data_version() != before
    at = run_page("app.py")
    assert len(computed) == 2
    assert "NPS **41.0**" in _text(at)


def test_a_hand_entered_conversion_on_a_card_has_the_logs_rate_beside_it(engine, monkeypatch):
    import re

    from analytics.conversion import Conversion
    from services import metrics as metric_service
    from services.conversion import save_conversion
    from services.maps import create_map_from_template

    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    b2b = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    dataset_id = create_dataset(planted_log(journeys=150), name="planted b2b", map_id=b2b)
    save_conversion(dataset_id, Conversion(goals=("Sales rep",)))
    win = metric_service.create_metric(map_id=b2b, kind="conversion", name="Win rate", target=35)
    metric_service.set_metric_value(win, "2026-01", 40)
    text = _text(run_page("app.py"))
    # The card's Conversion line counts the log (its caption escapes the markup); the hand-entered rate says it.
    line = re.search(r"reaching Sales rep · (\d+) of (\d+) journeys", text)
    assert line, text
    log = f"{100 * int(line[1]) / int(line[2]):.1f}"
    assert (
        f"Win rate **40.0%** vs target 35% :green-badge[on target] · entered by hand (the log: {log}% of all its journeys, whole log)"
        in text
    )
    # The card's badge is the worst of conversion, NPS and CSAT: a CSAT off target shows on the card too.
    csat = metric_service.create_metric(map_id=b2b, kind="csat", name="Buyer CSAT", target=75)
    metric_service.set_metric_value(csat, "2026-01", 60)
    text = _text(run_page("app.py"))
    assert "Buyer CSAT **60.0%** vs target 75% :red-badge[off target]" in text, text
