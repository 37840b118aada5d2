"""AppTest of the Paths page: variants, loops, outcomes and time from a dataset."""

from __future__ import annotations

import json

from tests.factories import b2b_log, create_dataset
from tests.pages.conftest import run_page
from tests.pages.page_checks import assert_says_no_dataset, no_demo  # noqa: F401 - no_demo is autouse


def test_paths_page_without_dataset(engine):
    assert_says_no_dataset("pages/7_Paths.py", "Paths")


def test_paths_page_shows_every_view_at_stage_level(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id), "goal": "Decision"})
    assert [s.value for s in at.subheader] == ["Top paths", "Loops back to an earlier stage", "Outcomes", "Time"]
    assert at.session_state["by"] == "stage"
    frames = [d.value for d in at.dataframe]
    paths = [f for f in frames if "Path" in f.columns][0]
    assert paths["Journeys"].astype(int).sum() == 60  # top paths plus "Other paths"
    # The totals are said once, in the caption, not repeated on every row of the table.
    assert "Distinct paths" not in paths.columns and "Total journeys" not in paths.columns
    assert any(c.value.endswith("among 60 journeys, at stage level.") for c in at.caption)
    assert paths["Conversion"].str.fullmatch(r"\d+\.\d %").all()
    outcomes = [f for f in frames if "Outcome" in f.columns][0]
    assert outcomes["Journeys"].astype(int).sum() == 60
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Converted"].endswith("of 60")
    reached = b2b_log().groupby("journey_id")["stage"].apply(lambda s: "Decision" in set(s)).sum()
    assert metrics["Converted"] == f"{reached:,} of 60"


def test_paths_page_stage_order_from_the_url(engine):
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id), "stage_order": ["Onboarding", "Decision"]})
    assert any("Stage order used (your order): Onboarding → Decision" in c.value for c in at.caption)


def test_a_stage_in_the_link_s_order_that_the_log_lacks_is_refused(engine):
    # Before: the order was drawn without it under a warning; the CLI refuses --stage-order with it.
    dataset_id = create_dataset(b2b_log(), name="Pipeline")
    query = {"dataset": str(dataset_id), "stage_order": ["Onboarding", "Decisoin"]}
    at = run_page("pages/7_Paths.py", query=query)
    errors = [e.value for e in at.error if "stage_order=" in e.value]
    assert len(errors) == 1 and "stage_order=Decisoin" in errors[0] and "is refused" in errors[0], errors
    assert "nearest: stage_order=Decision" in errors[0] and "The loops and the time per visit" in errors[0]

    def drawn() -> tuple[bool, bool]:
        frames = [d.value for d in at.dataframe]
        return any("From stage" in f.columns for f in frames), any("Visits" in f.columns for f in frames)

    assert drawn() == (False, False) and not [c.value for c in at.caption if c.value.startswith("Stage order used")]
    assert [c.value for c in at.caption if c.value.startswith("Time per visit: not drawn")]
    assert any("Path" in d.value.columns for d in at.dataframe)  # the top paths do not follow the order
    at.run()  # still refused at the next run
    assert [e.value for e in at.error if "stage_order=" in e.value] and drawn() == (False, False)
    at.button(key="stage_order__go_on").click().run()
    assert not [e.value for e in at.error if "stage_order=" in e.value] and drawn() == (True, True)
    assert any("Stage order used (your order): Onboarding" in c.value for c in at.caption)
    # At touchpoint level the time per visit does not follow the stage order: only the loops wait.
    at = run_page("pages/7_Paths.py", query={**query, "by": "touchpoint"})
    assert [e.value for e in at.error if "The loops are not drawn until" in e.value] and drawn() == (False, True)


def test_the_loops_chart_says_what_it_leaves_to_the_table(engine):
    # Six stages, and one journey per backward pair (15 loops): the chart draws 10, the table all 15.
    from tests.factories import log_frame

    stages = ["S1", "S2", "S3", "S4", "S5", "S6"]
    rows = []
    for n, (later, earlier) in enumerate((b, a) for i, a in enumerate(stages) for b in stages[i + 1 :]):
        for day, stage in enumerate(
            [*stages, earlier] if later == "S6" else [*stages[: stages.index(later) + 1], earlier]
        ):
            rows.append((f"j{n}", day, f"visit {stage}", stage))
    dataset_id = create_dataset(log_frame(rows, ("journey_id", "timestamp", "activity", "stage")), name="Loops")
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id), "stage_order": stages})
    loops = [d.value for d in at.dataframe if "Moves" in d.value.columns and "From stage" in d.value.columns][0]
    assert len(loops) == 15
    said = [c.value for c in at.caption if c.value.startswith("The chart shows the 10 most common of 15 loops")]
    assert said == [
        "The chart shows the 10 most common of 15 loops (10 of 15 backward moves); every one is in the data below."
    ]


def test_time_in_stage_is_drawn_and_tabled_in_the_linked_maps_stage_order(engine):
    from services.maps import create_map_from_template
    from tests.factories_metrics import B2B_ORDER, planted_log
    from tests.factories_metrics import create_dataset as create_planted

    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    dataset_id = create_planted(planted_log(journeys=150), name="planted", map_id=map_id)
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id)})
    table = [d.value for d in at.dataframe if "Timed visits" in d.value.columns][0]
    stages = table["Stage or touchpoint"].tolist()
    assert stages == [s for s in B2B_ORDER if s in stages] and len(stages) >= 4, stages
    assert any("in the stage order above" in c.value for c in at.caption)
    chart = [c for c in at.get("plotly_chart") if '"median"' in c.proto.spec][0]
    timed = table.loc[table["Timed visits"].astype(int) > 0, "Stage or touchpoint"].tolist()  # the chart's rows
    assert json.loads(chart.proto.spec)["data"][0]["x"] == timed  # the bars in the table's order


def test_time_at_touchpoint_level_follows_the_linked_maps_touchpoints(engine):
    from services.linking import map_touchpoints
    from services.maps import create_map_from_template
    from tests.factories_metrics import create_dataset as create_planted
    from tests.factories_metrics import planted_log

    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    dataset_id = create_planted(planted_log(journeys=150), name="planted", map_id=map_id)
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id), "by": "touchpoint"})
    assert at.session_state["by"] == "touchpoint"
    table = [d.value for d in at.dataframe if "Timed visits" in d.value.columns][0]
    rows = table["Stage or touchpoint"].tolist()
    in_map = [t.label for t in map_touchpoints(map_id)]
    mapped = [r for r in rows if r in in_map]
    assert len(mapped) >= 5 and rows[: len(mapped)] == mapped, rows  # the map's first, the rest after
    assert mapped == [t for t in in_map if t in mapped]  # in the map's order, stage by stage
    said = [c.value.replace("\\", "") for c in at.caption]
    assert any("in the linked map's touchpoint order (stage by stage)" in c for c in said), said


def test_a_stage_the_time_chart_cannot_draw_is_named_under_it(engine):
    from tests.factories import staged_frame

    frame = staged_frame(
        {
            "a": [(0, "x", "Aw"), (2, "y", "Co"), (3, "z", "Won")],
            "b": [(0, "x", "Aw"), (1, "z", "Won")],
        }
    )
    dataset_id = create_dataset(frame, name="ends")
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id)})
    table = [d.value for d in at.dataframe if "Timed visits" in d.value.columns][0]
    assert "Won" in set(table["Stage or touchpoint"])  # listed, with its visits
    chart = [c for c in at.get("plotly_chart") if '"median"' in c.proto.spec][0]
    assert "Won" not in json.loads(chart.proto.spec)["data"][0]["x"]  # no visit there has an end
    said = [c.value.replace("\\", "") for c in at.caption]  # markdown escapes undone
    assert any(c.startswith("Not drawn: Won: every visit there is a journey's last step") for c in said), said


def test_a_stage_order_in_the_link_of_a_log_with_a_map_is_said_to_be_unused(engine):
    from services.maps import create_map_from_template
    from tests.factories_metrics import create_dataset as create_planted
    from tests.factories_metrics import planted_log

    map_id = create_map_from_template(template_key="b2b-5-stage", name="B2B SaaS buyer journey")
    dataset_id = create_planted(planted_log(journeys=60), name="planted", map_id=map_id)
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id), "stage_order": ["Conversion", "Awarenes"]})
    said = [w.value for w in at.warning]
    assert any("stage_order=Conversion&stage_order=Awarenes is not used" in w and "linked map" in w for w in said), said


def test_a_channel_filter_says_beside_the_conversion_line_that_it_keeps_events_not_journeys(engine):
    # A conversion recorded on another channel's event is not counted under a channel filter: said, as the
    # line's figure changes with it (before: 3 of 7 became 0 of 6 without a word).
    import pandas as pd

    from tests.factories import log_frame

    rows = [
        (j, day, act, stage)
        for j in ("j1", "j2")
        for day, act, stage in ((0, "Blog", "Awareness"), (1, "Demo", "Decision"))
    ]
    frame = log_frame(rows, ("journey_id", "timestamp", "activity", "stage"))
    frame["channel"] = ["web", "sales"] * 2
    frame["outcome"] = pd.Series([None, "won", None, None], dtype="object")
    dataset_id = create_dataset(frame, name="Two channels")
    from analytics.conversion import Conversion
    from services.conversion import set_conversion

    set_conversion(dataset_id, Conversion(outcomes=("won",)))
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id), "channel": "web"})
    said = [c.value for c in at.caption if c.value.startswith("The channel filter keeps only the matching events")]
    assert len(said) == 1 and "is not counted here" in said[0]
    line = [m.value.replace("\\", "") for m in at.markdown if m.value.replace("\\", "").startswith("**Conversion:")]
    assert line and "0 of 2 journeys" in line[0], line
    at = run_page("pages/7_Paths.py", query={"dataset": str(dataset_id)})
    assert not [c.value for c in at.caption if c.value.startswith("The channel filter")]
