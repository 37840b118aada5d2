"""The one URL-binding helper: the choice lives in the URL, and a link's unknown value is never
replaced silently (a warning names what is shown instead, or the page refuses and chooses nothing)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script(refusing: bool, with_none: bool) -> None:
    import streamlit as st

    from components.url_select import query_select

    options = [None, 1, 2, 3] if with_none else [1, 2, 3]
    refuse = (lambda raw: st.error(f"refused {raw}")) if refusing else None
    label = str if with_none else (lambda o: f"option {o}")  # AppTest's select_index formats twice
    value = query_select("Pick", options, param="n", refuse=refuse, format_func=label)
    st.write(f"chose {value}")


def _run(query: dict[str, str], *, refusing: bool = False, with_none: bool = False) -> AppTest:
    at = AppTest.from_function(_script, kwargs={"refusing": refusing, "with_none": with_none})
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _chose(at: AppTest) -> str:
    return [m.value for m in at.markdown if m.value.startswith("chose")][0]


def test_the_link_chooses_and_the_url_names_what_is_shown():
    at = _run({})
    assert _chose(at) == "chose 1" and at.query_params["n"] == "1" and not at.warning
    at = _run({"n": "2"})
    assert _chose(at) == "chose 2" and at.query_params["n"] == "2"
    at.selectbox(key="qp_n").set_value(3).run()
    assert _chose(at) == "chose 3" and at.query_params["n"] == "3"


def test_an_unknown_value_is_named_never_replaced_silently():
    at = _run({"n": "9"})
    assert _chose(at) == "chose 1"
    said = "n=9 is not one of the choices here (existing: n=1 for option 1, n=2 for option 2, n=3 for option 3); showing option 1"
    assert said in at.warning[0].value


def test_refused_value_chooses_nothing_and_keeps_the_link():
    at = _run({"n": "9"}, refusing=True)
    assert _chose(at) == "chose None" and at.error[0].value == "refused 9"
    assert at.query_params["n"] == "9"  # the link is left as it was
    at.selectbox(key="qp_n").set_value(2).run()
    assert _chose(at) == "chose 2" and at.query_params["n"] == "2"


def test_the_option_none_is_no_parameter():
    at = _run({}, with_none=True)
    assert _chose(at) == "chose None" and "n" not in at.query_params
    at = _run({"n": "2"}, with_none=True)
    at.selectbox(key="qp_n").select_index(0).run()
    assert _chose(at) == "chose None" and "n" not in at.query_params


def _same_names() -> None:
    import streamlit as st

    from components.url_select import query_select

    value = query_select("Map", [1, 2, 3], param="map", format_func=lambda o: "Plan" if o < 3 else "Other")
    st.write(f"chose {value}")


def test_options_of_one_name_are_told_apart_by_their_value():
    # The browser picks an option by what it shows: two maps named alike would both pick the first.
    at = AppTest.from_function(_same_names)
    at.query_params["map"] = "2"
    at.run()
    assert list(at.selectbox(key="qp_map").options) == ["Plan (#1)", "Plan (#2)", "Other"]
    assert _chose(at) == "chose 2"


def _words_script() -> None:
    import streamlit as st

    from components.url_select import query_select

    value = query_select("Pick", ["friction", "journeys"], param="measure")
    st.write(f"chose {value}")


def test_a_name_is_called_nearest_only_when_it_is_near():
    at = AppTest.from_function(_words_script)
    at.query_params["measure"] = "frictoin"
    at.run()
    assert "(nearest: measure=friction)" in at.warning[0].value
    at = AppTest.from_function(_words_script)
    at.query_params["measure"] = "zzz"
    at.run()  # before: "nearest: measure=friction, measure=journeys" for a value like neither
    assert "(nothing close; some: measure=friction, measure=journeys)" in at.warning[0].value


def _tabs_script() -> None:
    from components.url_select import query_tabs

    query_tabs(["Grid", "Versions"], key="tab")


def test_a_tab_is_called_nearest_only_when_it_is_near():
    for raw, said in (("Grdi", "(nearest: Grid)"), ("zzz", "(nothing close; some: Grid, Versions)")):
        at = AppTest.from_function(_tabs_script)
        at.query_params["tab"] = raw
        at.run()
        assert said in at.warning[0].value, at.warning[0].value
