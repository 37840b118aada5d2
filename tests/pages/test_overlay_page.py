"""AppTest of the Overlay page: measure picker in the URL, overlay data, designed vs observed."""

from __future__ import annotations

import pytest

from analytics.numbers import format_percent
from charts.palette import PAGE_DARK
from tests.factories_metrics import create_dataset, planted_log
from tests.pages.conftest import run_page
from tests.pages.page_checks import no_demo  # noqa: F401 - no_demo is autouse


def test_overlay_page_draws_each_measure_and_designed_vs_observed(engine):
    from services.maps import create_map_from_template

    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    create_dataset(planted_log(journeys=80, unknown_activity="Webinar"), name="planted", map_id=map_id)
    at = run_page("pages/12_Overlay.py", query={"map": str(map_id), "measure": "friction"})
    assert at.title[0].value == "Map overlay"
    assert at.radio(key="qp_measure").value == "friction"
    overlay = at.dataframe[0].value
    # Written for people: human headers (the measure by its name), no ids; the CSV keeps machine names.
    assert list(overlay.columns) == ["Touchpoint", "Stage", "Friction (0–100)", "Target", "Status"]
    scored = overlay[overlay["Friction (0–100)"].str.fullmatch(r"[\d.,]+")]
    top = scored.loc[scored["Friction (0–100)"].astype(float).idxmax()]
    assert top["Touchpoint"] == "Pricing page"
    assert "None" not in overlay.to_string() and "nan" not in overlay.to_string()
    # "Report" where the manager is looking.
    assert "Download the map's report (HTML)" in {b.label for b in at.get("download_button")}
    labels = {m.label: m.value for m in at.metric}
    assert labels["Activities the map does not know"] == "1"
    assert int(labels["Transitions against the stage order"].replace(",", "")) > 0
    at.radio(key="qp_measure").set_value("journeys").run()
    assert not at.exception
    assert at.query_params["measure"] == "journeys"
    assert at.dataframe[0].value.set_index("Touchpoint").loc["Pricing page", "Journeys"] == "80"


def test_overlay_page_without_an_event_log_draws_the_plain_map(engine):
    from services.maps import create_map_from_template

    create_map_from_template(template_key="professional-services", name="Advisory client lifecycle")
    at = run_page("pages/12_Overlay.py")
    assert any("No dataset yet" in i.value for i in at.info)
    # Said once, by the picker (before: a second box told to open Data as well); the map is drawn plain.
    assert [i.value for i in at.info if "Data" in i.value] == [
        "No dataset yet: import an event log on the **Data** page, then come back here."
    ]
    assert [c.value for c in at.caption if c.value.startswith("The map without a measure, until an event log")]
    assert [h for h in at.get("html") if "jl-" in h.proto.body] or at.get("plotly_chart")
    assert not at.exception
    # A measure the link misspells is named with the nearest one, as a link writes it.
    at = run_page("pages/12_Overlay.py", query={"measure": "frictoin"})
    said = "The link's measure=frictoin is not one of the choices here (nearest: measure=friction for Friction (0–100)"
    assert any(w.value.startswith(said) for w in at.warning), [w.value for w in at.warning]


def test_a_log_the_link_names_that_does_not_exist_leaves_the_overlay_empty_as_it_says(engine):
    # Before: "Pick one below; nothing else is shown meanwhile", then "Open Data to upload one" (logs
    # exist) and the whole map drawn.
    from services.maps import create_map_from_template

    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    create_dataset(planted_log(journeys=20), name="planted", map_id=map_id)
    at = run_page("pages/12_Overlay.py", query={"map": str(map_id), "dataset": "99"})
    assert [w.value for w in at.warning if w.value.startswith("There is no dataset 99 (from the link)")]
    assert not [i.value for i in at.info if "upload" in i.value]
    assert not at.dataframe and not at.get("plotly_chart") and not at.metric
    assert not [h for h in at.get("html") if "jl-" in h.proto.body]


def test_a_link_naming_only_a_log_opens_the_map_it_is_linked_to(engine):
    # Before: /Overlay?dataset=1 and /Metrics?dataset=1 opened the first map, another map's, and Metrics
    # then said dataset=1 was not used.
    from services.maps import create_map_from_template

    create_map_from_template(template_key="professional-services", name="Advisory client lifecycle")
    own = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    dataset_id = create_dataset(planted_log(journeys=20), name="planted", map_id=own)
    for page in ("pages/12_Overlay.py", "pages/8_Metrics.py"):
        at = run_page(page, query={"dataset": str(dataset_id)})
        assert at.selectbox(key="_pick_map").value == own, page
        assert not [w.value for w in at.warning if "dataset=" in w.value or "linked to" in w.value], page


def test_friction_page_without_a_map_scores_activities_as_they_are(engine):
    dataset_id = create_dataset(planted_log(journeys=60), name="unlinked")
    at = run_page("pages/9_Friction.py", query={"dataset": str(dataset_id)})
    assert not at.exception
    assert at.selectbox(key="_pick_map").value is None
    assert at.dataframe[0].value.iloc[0]["Touchpoint"] == "Pricing page"


def test_overlay_page_lays_attribution_over_the_map(engine):
    from analytics.conversion import goal
    from services.analysis import run
    from services.attribution import compute_touchpoint_attribution
    from services.context import open_context
    from services.maps import create_map_from_template
    from tests.pages.conftest import conversion_line

    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    dataset_id = create_dataset(planted_log(journeys=120), name="planted", map_id=map_id)
    at = run_page("pages/12_Overlay.py", query={"map": str(map_id), "measure": "removal effect", "goal": "Sales rep"})
    assert conversion_line(at).startswith("Conversion: reaching Sales rep · ")  # ?goal= for this view
    overlay = at.dataframe[0].value.set_index("Touchpoint")
    # Every journey that reaches a sales rep passes the pricing page: removing it loses every conversion.
    assert overlay.loc["Pricing page", "Removal effect %"] == "100.0 %"
    ctx = open_context(dataset_id, map_id, conversion=goal("Sales rep"))
    expected = compute_touchpoint_attribution(ctx, run("attribution", ctx)).set_index("touchpoint")
    reached = overlay[overlay["Removal effect %"].str.endswith(" %")]
    assert len(reached) >= 5
    for name, row in reached.iterrows():
        assert row["Removal effect %"] == format_percent(expected.loc[name, "removal_effect"] * 100)
    assert any("Markov" in c.value for c in at.caption)

    at.radio(key="qp_measure").set_value("attributed conversions").run()
    assert not at.exception
    credits = at.dataframe[0].value
    assert at.query_params["goal"] == "Sales rep"
    # Markov credits of the touchpoints before the goal sum to the conversions (each shown to one decimal).
    journeys = planted_log(journeys=120).groupby("journey_id")["activity"].apply(lambda s: "Sales rep" in set(s))
    shown = credits["Attributed conversions (Markov)"]
    values = shown[shown.str.fullmatch(r"[\d.,]+")].str.replace(",", "").astype(float)
    assert values.sum() == pytest.approx(int(journeys.sum()), abs=0.05 * len(values))


def test_overlay_grid_is_drawn_dark_when_the_app_theme_is_dark(engine):
    """The grid follows the theme: with the app's base theme dark, its row names sit on the dark background."""
    from streamlit import config

    from services.maps import create_map_from_template

    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    create_dataset(planted_log(journeys=40), name="planted", map_id=map_id)
    before = config.get_option("theme.base")
    config.set_option("theme.base", "dark")
    try:
        at = run_page("pages/12_Overlay.py", query={"map": str(map_id), "measure": "journeys"})
    finally:
        config.set_option("theme.base", before)
    grid = next(h.proto.body for h in at.get("html") if 'data-testid="jl-grid"' in h.proto.body)
    # The sticky row names sit on the dark page colour; the curve for everyone is drawn in light text.
    assert f"--jl-bg:{PAGE_DARK['background']}" in grid
    assert 'data-testid="jl-legend"' in grid
