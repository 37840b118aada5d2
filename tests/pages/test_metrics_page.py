"""AppTest of the Metrics page: scorecard with status, adding a metric, entering and computing values."""

from __future__ import annotations

from tests.factories_metrics import create_dataset, planted_log
from tests.pages.conftest import run_page
from tests.pages.page_checks import no_demo  # noqa: F401 - no_demo is autouse


def _map(engine, *, with_data: bool = True) -> tuple[int, int | None]:
    from services.maps import create_map_from_template

    map_id = create_map_from_template(template_key="professional-services", name="Advisory client lifecycle")
    dataset_id = None
    if with_data:
        log = planted_log(journeys=60)
        log["outcome"] = ["hired" if i % 3 == 0 else "not now" for i in range(len(log))]
        dataset_id = create_dataset(log, name="advisory", map_id=map_id)
    return map_id, dataset_id


def test_scorecard_shows_value_target_status_and_formula(engine):
    from services import metrics as metric_service

    map_id, _ = _map(engine, with_data=False)
    nps = metric_service.create_metric(map_id=map_id, kind="nps", target=40)
    metric_service.set_metric_value(nps, "2026-01", 30)
    metric_service.set_metric_value(nps, "2026-02", 37)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    assert at.title[0].value == "Metrics"
    assert at.metric[0].value == "37.0 points"
    assert "+7.0 since 2026-01" in at.metric[0].delta
    text = "\n".join(m.value for m in at.markdown)
    assert ":orange-badge[near target]" in text  # 3 below 40: within 10 %
    assert "Scope: whole map" in text and " · " not in at.metric[0].label  # the label is the name alone
    assert any(c.value.startswith("Entered by hand, not computed") and "promoters 9–10" in c.value for c in at.caption)
    # The Trends table says the status in the caption's words (before: "red", "amber").
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id), "tab": "Trends", "metric": str(nps)})
    trend = next(d.value for d in at.dataframe if "Status" in d.value.columns)
    assert list(trend["Status"]) == ["off target", "near target"]


def test_a_money_metrics_change_reads_like_its_value(engine):
    from services import metrics as metric_service

    map_id, _ = _map(engine, with_data=False)
    clv = metric_service.create_metric(map_id=map_id, kind="clv", unit="GBP")
    metric_service.set_metric_value(clv, "2026-Q1", 152000)
    metric_service.set_metric_value(clv, "2026-Q2", 158000)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    assert at.metric[0].value == "158,000.00 GBP"
    assert at.metric[0].delta == "+6,000.00 GBP since 2026-Q1"


def test_add_a_manual_metric_and_enter_a_value(engine):
    from services import metrics as metric_service

    map_id, _ = _map(engine, with_data=False)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    form_kind = [s for s in at.selectbox if s.label == "Metric"][0]
    form_kind.set_value("csat")
    [n for n in at.number_input if n.label == "Target"][0].set_value(80.0)
    [b for b in at.button if b.label == "Add metric"][0].click().run()
    assert not at.exception
    rows = metric_service.list_metrics(map_id)
    assert [(r.kind, r.target, r.source) for r in rows] == [("csat", 80.0, "manual")]

    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    [t for t in at.text_input if t.label == "Period"][0].set_value("2026-Q1")
    [n for n in at.number_input if n.label == "Value"][0].set_value(82.5)
    [b for b in at.button if b.label == "Save value"][0].click().run()
    assert not at.exception
    assert metric_service.list_metrics(map_id)[0].latest_value == 82.5
    # A bad period is refused with the reason, nothing stored.
    [t for t in at.text_input if t.label == "Period"][0].set_value("March")
    [n for n in at.number_input if n.label == "Value"][0].set_value(1.0)
    [b for b in at.button if b.label == "Save value"][0].click().run()
    assert any("2026-03" in e.value for e in at.error)
    assert [t for t in at.text_input if t.label == "Period"][0].value == "March"  # kept, to be mended


def test_a_metric_added_without_a_name_is_announced_by_the_name_it_is_stored_under(engine):
    # Before: "Added “First contact resolution (FCR)”." for a metric stored as "First contact resolution".
    from services import metrics as metric_service

    map_id, _ = _map(engine, with_data=False)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    [s for s in at.selectbox if s.label == "Metric"][0].set_value("fcr")
    [b for b in at.button if b.label == "Add metric"][0].click().run()
    stored = metric_service.list_metrics(map_id)[0].name
    assert stored == "First contact resolution (FCR)"
    assert [s.value.replace("\\", "") for s in at.success if s.value.startswith("Added")] == [f"Added “{stored}”."]


def test_computed_metric_and_outcomes_of_the_pre_client_stage(engine):
    from services import metrics as metric_service

    map_id, dataset_id = _map(engine)
    metric_service.create_metric(map_id=map_id, kind="nps", target=10, dataset_id=dataset_id)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    [b for b in at.button if b.label == "Compute every computed metric"][0].click().run()
    assert not at.exception
    assert any("Computed 1 metrics per month" in s.value for s in at.success)
    assert metric_service.list_metrics(map_id)[0].latest_value is not None
    text = "\n".join(m.value for m in at.markdown)
    assert "**Pre\\-client**: outcomes of the journeys that reached it" in text
    outcome_tables = [d.value for d in at.dataframe if "Outcome" in d.value.columns]
    assert outcome_tables and set(outcome_tables[0]["Outcome"]) >= {"hired", "not now", "no way"}


def test_a_computed_metric_says_the_options_it_was_computed_with(engine):
    from services import metrics as metric_service

    map_id, dataset_id = _map(engine)
    metric_service.create_metric(map_id=map_id, kind="clv", dataset_id=dataset_id)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    [r for r in at.radio if r.label == "Per"][0].set_value("quarter")
    [n for n in at.number_input if n.label == "Gross margin (CLV)"][0].set_value(0.6)
    [b for b in at.button if b.label == "Compute every computed metric"][0].click().run()
    assert not at.exception
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})  # a new session: read back, not remembered
    shown = [c.value.replace("\\", "") for c in at.caption]  # as drawn, markdown escapes read
    assert any("computed from data (per quarter · gross margin 0.6)" in c for c in shown), shown
    # The form opens with them, not with the defaults.
    assert [r for r in at.radio if r.label == "Per"][0].value == "quarter"
    assert [n for n in at.number_input if n.label == "Gross margin (CLV)"][0].value == 0.6
    # A metric added later is computed with them too (before: per month, and the form then reset).
    kinds = [s for s in at.selectbox if s.label == "Metric" and any("etention" in o for o in s.options)]
    kinds[0].set_value("retention")  # the add form's (the trend's picker is labelled "Metric" too)
    [s for s in at.selectbox if s.label == "Values"][0].set_value(dataset_id)
    [b for b in at.button if b.label == "Add metric"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    added = [r for r in metric_service.list_metrics(map_id) if r.kind == "retention"][0]
    assert added.computed_with == "per quarter" and all("-Q" in p for p, *_ in added.values)


def test_metrics_page_without_maps(engine):
    at = run_page("pages/8_Metrics.py")
    assert any("No journey maps yet" in i.value for i in at.info)


def test_money_shows_its_currency_or_says_none_is_set(engine):
    from services import metrics as metric_service

    map_id, _ = _map(engine, with_data=False)
    clv = metric_service.create_metric(map_id=map_id, kind="clv", target=15000)
    metric_service.set_metric_value(clv, "2026-01", 12345.6)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    assert at.metric[0].value == "12,345.60 (no currency set)"
    assert "target 15,000.00 (no currency set)" in "\n".join(m.value.replace("\\", "") for m in at.markdown)
    [t for t in at.text_input if t.label == "Currency"][0].set_value("EUR")
    [b for b in at.button if b.label == "Set the currency"][0].click().run()
    assert not at.exception
    assert metric_service.list_metrics(map_id)[0].unit == "EUR"
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    assert at.metric[0].value == "12,345.60 EUR"
    assert not [t for t in at.text_input if t.label == "Currency"]
    # The scorecard's table (and so the report's) carries the currency beside the value.
    table = metric_service.compute_metric_table(metric_service.list_metrics(map_id))
    assert table.loc[0, "unit"] == "EUR"


def test_a_new_metric_takes_its_currency_from_the_form(engine):
    from services import metrics as metric_service

    map_id, _ = _map(engine, with_data=False)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    [s for s in at.selectbox if s.label == "Metric"][0].set_value("clv")
    [t for t in at.text_input if t.label == "Unit or currency"][0].set_value("USD")
    [b for b in at.button if b.label == "Add metric"][0].click().run()
    assert not at.exception
    assert [(r.kind, r.unit) for r in metric_service.list_metrics(map_id)] == [("clv", "USD")]


def test_the_newest_linked_log_gives_the_conversion_and_is_named(engine):
    # A monthly export re-imported and linked to the same map: the Metrics page reads the newest, as
    # the Overview and the map's report do, and names it.
    map_id, _older = _map(engine)
    create_dataset(planted_log(journeys=80), name="advisory, December", map_id=map_id)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id)})
    said = [c.value for c in at.caption if c.value.startswith("From the event log")]
    assert said == ["From the event log advisory, December (the newest of the 2 linked to this map)"]


def test_a_log_the_link_names_that_the_page_does_not_read_is_said_unused(engine):
    # Before: /Metrics?map=1&dataset=2 read the map's newest log without a word of dataset=2.
    map_id, older = _map(engine)
    newest = create_dataset(planted_log(journeys=80), name="advisory, December", map_id=map_id)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id), "dataset": str(older)})
    said = [w.value for w in at.warning if w.value.startswith("The link's dataset=")]
    assert said == [
        f"The link's dataset={older} is not used: this page reads the newest event log linked to the map "
        f"(advisory, December, dataset {newest}); open the analysis pages for another log."
    ]
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id), "dataset": str(newest)})
    assert not [w.value for w in at.warning if w.value.startswith("The link's dataset=")]
    from services.maps import create_map_from_template

    bare = create_map_from_template(template_key="professional-services", name="A map without a log")
    at = run_page("pages/8_Metrics.py", query={"map": str(bare), "dataset": str(newest)})
    said = [w.value for w in at.warning if w.value.startswith("The link's dataset=")]
    assert said == [
        f"The link's dataset={newest} is not used: no event log is linked to this map (link one on the Data page)."
    ]


def test_the_tab_lives_in_the_link(engine):
    map_id, _ = _map(engine)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id), "tab": "Outcomes"})
    assert not [w.value for w in at.warning if w.value.startswith("The link's")]
    assert at.query_params["tab"] == "Outcomes"
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id), "tab": "Outcome"})
    assert "The link's tab=Outcome is not a tab here (nearest: Outcomes); showing Scorecard instead." in [
        w.value for w in at.warning
    ]


def test_a_metric_the_link_names_that_does_not_exist_is_refused(engine):
    from services import metrics as metric_service

    map_id, _ = _map(engine, with_data=False)
    nps = metric_service.create_metric(map_id=map_id, kind="nps", target=40)
    metric_service.set_metric_value(nps, "2026-01", 30)
    at = run_page("pages/8_Metrics.py", query={"map": str(map_id), "metric": "999", "tab": "Trends"})
    said = [w.value for w in at.warning if w.value.startswith("There is no metric 999")]
    assert len(said) == 1 and f"{nps} (NPS (whole map))" in said[0], [w.value for w in at.warning]
    assert at.query_params["metric"] == "999" and not at.get("plotly_chart")  # no other metric shown instead
