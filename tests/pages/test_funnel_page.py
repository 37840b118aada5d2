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


def test_funnel_page_refuses_a_link_step_that_does_not_exist(engine):
    """A step in the link that is not a node is refused naming it and the nearest real one, and no funnel
    is drawn (before: the funnel of the other steps, or of the default steps, was drawn under a warning)."""
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    steps = ["Awareness", "Decisoin", "Onboarding"]
    at = run_page("pages/6_Funnel.py", query={"dataset": str(dataset_id), "by": "stage", "steps": steps})
    errors = [e.value for e in at.error]
    assert any("steps=Decisoin" in e and "is refused" in e and "Decision" in e for e in errors), errors
    assert at.session_state["steps"] == ["Awareness", "Onboarding"]  # what the widget could keep

    def drawn() -> bool:
        return any("Conversion from start" in d.value.columns for d in at.dataframe)

    assert not drawn() and not [m.value for m in at.markdown if "journeys** that reach" in m.value]
    # Still refused at the next run (a download, any click): nothing drawn.
    at.run()
    assert any("steps=Decisoin" in e.value and "Nothing is drawn" in e.value for e in at.error) and not drawn()
    # A choice made since is the user's own: the funnel of that choice, no word of the old link.
    at.multiselect(key="steps").select("Decision").run()
    assert not [e.value for e in at.error if "steps=" in e.value] and drawn()


def test_funnel_page_goes_on_with_the_choice_shown_when_asked(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    query = {"dataset": str(dataset_id), "by": "stage", "steps": ["Awareness", "Decision"], "exclude": "Onbaording"}
    at = run_page("pages/6_Funnel.py", query=query)
    assert any("exclude=Onbaording" in e.value and "Onboarding" in e.value for e in at.error)
    assert not any("Conversion from start" in d.value.columns for d in at.dataframe)
    at.button(key="exclude__go_on").click().run()
    assert not [e.value for e in at.error if "exclude=" in e.value]
    funnel = [d.value for d in at.dataframe if "Conversion from start" in d.value.columns][0]
    assert funnel["Step"].tolist() == ["Awareness", "Decision"]


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


def test_the_funnels_csv_says_what_funnel_it_is(engine, monkeypatch):
    """The funnel's download carries its mode, window, per-step windows and exclusions on every row, as
    the CLI's does; before, a saved file did not say it was a 30-day strict funnel."""
    import components.data_table as data_table

    saved = []
    real = data_table.to_safe_csv
    monkeypatch.setattr(data_table, "to_safe_csv", lambda frame: saved.append(frame.copy()) or real(frame))
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    query = {"dataset": str(dataset_id), "by": "stage", "mode": "strict", "window": "30", "step_windows": "7,,14"}
    at = run_page("pages/6_Funnel.py", query=query)
    assert not at.exception and not at.error
    funnel = next(f for f in saved if "conversion_from_start" in f.columns or "journeys" in f.columns)
    assert set(funnel["mode"]) == {"strict"} and set(funnel["window_days"]) == {30.0}, funnel
    assert set(funnel["step_windows_days"]) == {"7,,14"} and set(funnel["exclusions"]) == {""}
