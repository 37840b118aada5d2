"""Numbers, days, segmented choices and toggles bound to the URL: Streamlit drops a link value it
cannot use and shows the default; the helpers name the link's value and what is shown instead."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest


def _script() -> None:
    from datetime import date

    import streamlit as st

    from components.url_select import query_choice, query_date, query_number, query_toggle

    steps = query_number(st, "slider", "Steps", lo=2, hi=10, value=5, key="steps")
    window = query_number(st, "number_input", "Window", lo=1, hi=3650, value=90, key="window")
    words = {"fast": "Fast", "exact": "Exact answer"}
    model = query_choice(st, "Mode", list(words), default="fast", key="mode", format_func=words.__getitem__)
    collapse = query_toggle(st, "Collapse", value=True, key="collapse", help="")
    day = query_date(st, "From", key="from", lo=date(2020, 1, 1), hi=date(2020, 12, 31), empty="no start day")
    st.write(f"values {steps} {window} {model} {collapse} {day}")


def _run(query: dict[str, str]) -> tuple[str, list[str]]:
    at = AppTest.from_function(_script)
    for key, value in query.items():
        at.query_params[key] = value
    at.run(timeout=30)
    assert not at.exception, [e.value for e in at.exception]
    values = [m.value for m in at.markdown if m.value.startswith("values")][0]
    return values, [w.value for w in at.warning]


def test_usable_link_values_are_taken_without_a_word():
    values, warnings = _run(
        {"steps": "7", "window": "30", "mode": "Exact answer", "collapse": "false", "from": "2020-03-04"}
    )
    assert values == "values 7 30 exact False 2020-03-04"
    assert warnings == []


def test_no_link_shows_the_defaults_without_a_word():
    assert _run({}) == ("values 5 90 fast True None", [])


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"steps": "50"}, "The link's steps=50 is not a whole number from 2 to 10; showing 5 instead."),
        ({"steps": "seven"}, "The link's steps=seven is not a whole number from 2 to 10; showing 5 instead."),
        ({"window": "0"}, "The link's window=0 is not a whole number from 1 to 3650; showing 90 instead."),
        ({"window": "12.5"}, "The link's window=12.5 is not a whole number from 1 to 3650; showing 12 instead."),
        (
            {"mode": "exact"},
            "The link's mode=exact is not one of the choices here (nearest: Exact answer); showing Fast instead.",
        ),
        ({"collapse": "maybe"}, "The link's collapse=maybe is not true or false; showing on instead."),
        (
            {"from": "2001-01-02"},
            "The link's from=2001-01-02 is not a day from 2020-01-01 to 2020-12-31, the days of this data; "
            "showing no start day instead.",
        ),
        ({"from": "garbage"}, "The link's from=garbage is not a day (YYYY-MM-DD); showing no start day instead."),
    ],
)
def test_a_link_value_that_cannot_be_used_is_named_with_what_is_shown(query, said):
    values, warnings = _run(query)
    assert warnings == [said]
    shown_window = "12" if query.get("window") == "12.5" else "90"  # Streamlit cuts 12.5 to 12
    assert values == f"values 5 {shown_window} fast True None"


def test_the_days_offered_follow_the_data_not_ten_years_around_today():
    # A log from 2012 (older than ten years before today): its days can be chosen, from a link too.
    def script() -> None:
        from datetime import date

        import streamlit as st

        from components.url_select import query_date

        day = query_date(st, "From", key="from", lo=date(2011, 10, 1), hi=date(2012, 3, 14), empty="no start day")
        st.write(f"day {day}")

    at = AppTest.from_function(script)
    at.query_params["from"] = "2011-12-24"
    at.run(timeout=30)
    assert [m.value for m in at.markdown] == ["day 2011-12-24"] and not at.warning
    assert at.date_input(key="from").value == date(2011, 12, 24)


@pytest.mark.parametrize("raw", ["+-5", "²", "-+3", "5.0"])
def test_odd_numbers_in_a_link_are_named_not_a_crash(raw):
    values, warnings = _run({"steps": raw})
    assert values == "values 5 90 fast True None"
    assert warnings == [f"The link's steps={raw} is not a whole number from 2 to 10; showing 5 instead."]
