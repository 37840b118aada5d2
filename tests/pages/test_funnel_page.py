"""AppTest of the Funnel page: empty states, the funnel from URL parameters, breakdown and dropped list."""

from __future__ import annotations

from tests.factories import b2b_log, create_dataset
from tests.pages.conftest import run_page
from tests.pages.page_checks import assert_says_no_dataset, no_demo  # noqa: F401 - no_demo is autouse


def test_funnel_page_without_dataset(engine):
    assert_says_no_dataset("pages/6_Funnel.py", "Funnel")


def test_funnel_page_asks_for_two_steps_at_touchpoint_level(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    at = run_page("pages/6_Funnel.py", query={"dataset": str(dataset_id)})
    assert any("at least two steps" in i.value for i in at.info)


def test_funnel_page_draws_the_stage_funnel_with_breakdown(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    at = run_page(
        "pages/6_Funnel.py",
        query={"dataset": str(dataset_id), "by": "stage", "breakdown": "channel", "mode": "strict", "window": "30"},
    )
    assert at.session_state["steps"] == ["Awareness", "Consideration", "Decision", "Onboarding"]
    assert at.session_state["mode"] == "strict"
    frames = [d.value for d in at.dataframe]
    funnel = [f for f in frames if "Conversion from start" in f.columns and "Breakdown" not in f.columns][0]
    assert funnel["Step"].tolist() == ["Awareness", "Consideration", "Decision", "Onboarding"]
    journeys = funnel["Journeys"].str.replace(",", "").astype(int)
    assert journeys.iloc[0] == 60
    assert journeys.is_monotonic_decreasing
    # Written for people: percentages with one decimal, durations with their unit, a dash for none.
    assert funnel["Conversion from start"].iloc[0] == "100.0 %"
    assert funnel["Median time from previous"].iloc[0] == "–"
    assert funnel["Median time from previous"].iloc[1:].str.fullmatch(r"[\d.,]+ (s|min|h|days?)").all()
    per = [f for f in frames if "Breakdown" in f.columns and "Position" in f.columns][0]
    assert per.loc[per.Position == "1", "Journeys"].astype(int).sum() == 60
    dropped = [f for f in frames if "Journey" in f.columns][0]
    assert len(dropped) == 60 - journeys.iloc[-1]


def test_funnel_page_shows_a_bad_step_window_as_an_error(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    at = run_page("pages/6_Funnel.py", query={"dataset": str(dataset_id), "by": "stage", "step_windows": "7,x"})
    assert any("per-step windows" in e.value for e in at.error)


def test_funnel_page_names_a_link_step_that_does_not_exist(engine):
    """A step in the link that is not a node is left out with a warning naming it and the nearest
    real one, never dropped silently."""
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    at = run_page("pages/6_Funnel.py", query={"dataset": str(dataset_id), "by": "stage", "steps": "Awarenes"})
    warnings = [w.value for w in at.warning]
    assert any("steps=Awarenes" in w and "Awareness" in w and "left out" in w for w in warnings), warnings
    assert "Awarenes" not in at.session_state["steps"]
    # The funnel keeps leaving it out at the next run (a download, any click): the warning stays beside it.
    at.run()
    assert any("steps=Awarenes" in w.value and "until the choice is changed" in w.value for w in at.warning)
    # A choice made since is the user's own: no word of the old link any more.
    at.multiselect(key="steps").unselect("Onboarding").run()
    assert not [w.value for w in at.warning if "steps=" in w.value], [w.value for w in at.warning]


def test_funnel_page_says_which_level_takes_the_link_steps_that_are_stages(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    query = {"dataset": str(dataset_id), "steps": ["Awareness", "Decision"]}  # the Nodes are touchpoints
    at = run_page("pages/6_Funnel.py", query=query)
    said = [i.value for i in at.info if "of this log" in i.value]
    assert said == ["Awareness, Decision: stages of this log. Choose “stage” under Nodes (by=stage in the link) to "
                    "count the funnel by stage."], said  # fmt: skip
    # Said once: no second, generic "left out" warning naming touchpoints as the nearest (before: both).
    assert not [w.value for w in at.warning if "steps=" in w.value], [w.value for w in at.warning]
    at = run_page("pages/6_Funnel.py", query={**query, "by": "stage"})
    assert not [i.value for i in at.info if "of this log" in i.value]


def test_funnel_page_says_nothing_when_the_link_steps_exist(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    at = run_page("pages/6_Funnel.py", query={"dataset": str(dataset_id), "by": "stage", "steps": "Awareness"})
    assert not [w.value for w in at.warning if "steps=" in w.value]
    assert at.session_state["steps"] == ["Awareness"]


def test_funnel_page_names_a_link_breakdown_that_is_not_a_column(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    at = run_page("pages/6_Funnel.py", query={"dataset": str(dataset_id), "by": "stage", "breakdown": "chanel"})
    warnings = [w.value for w in at.warning]
    assert any("breakdown=chanel" in w and "channel" in w for w in warnings), warnings


def test_a_filter_that_keeps_no_journey_at_the_steps_keeps_the_steps(engine):
    from tests.factories import log_frame

    rows = [("a", 0, "Blog", "web"), ("a", 1, "Demo", "web"), ("b", 0, "Webinar", "email")]
    dataset_id = create_dataset(log_frame(rows, ("journey_id", "timestamp", "activity", "channel")), name="Two")
    query = {"dataset": str(dataset_id), "steps": ["Blog", "Demo"], "channel": "email"}
    at = run_page("pages/6_Funnel.py", query=query)
    # Before: the steps were "not one of the choices here", dropped from the control and the link.
    assert not [w.value for w in at.warning if "steps=" in w.value], [w.value for w in at.warning]
    assert at.session_state["steps"] == ["Blog", "Demo"]
    assert at.query_params["steps"] == ["Blog", "Demo"]
    # The funnel says the filter keeps no journey at them (an empty funnel, not a failure).
    assert not at.exception
