"""The one way to tie a select box (or a horizontal radio) to the URL: :func:`query_select`.

The choice lives in the URL as ``?<param>=<option>`` (an option ``None`` stands for no parameter
where it is the default, else for ``?<param>=none``),
so a link reproduces the view, and the URL always names what is shown. A value in the link that is
not one of the options is never replaced silently: either a warning names the option shown instead,
or (with ``refuse``) the page says so and nothing is chosen until the user picks.

The other widgets bound to the URL (segmented choices, toggles, numbers, days, tabs) go through
:func:`query_choice`, :func:`query_toggle`, :func:`query_number`, :func:`query_date` and
:func:`query_tabs`: Streamlit
drops a link value it cannot use (out of range, not a number, not a date, not a choice) and shows
the default; these helpers name the link's value and what is shown instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import streamlit as st

from components.text import escape_markup
from core.errors import is_close, nearest_names

_T = TypeVar("_T")


def link_value(param: str) -> str | None:
    """The raw ``?<param>=`` of the link (None when absent or empty)."""
    value = st.query_params.get(param)
    return None if value in (None, "") else value


NO_CHOICE = "none"  # the link's word for the option None where None is not the default


def link_index(param: str, options: Sequence[object]) -> int | None:
    """Where ``?<param>=`` is among ``options`` (None: absent, or not one of them); ``none``
    (:data:`NO_CHOICE`) names the option None."""
    value = link_value(param)
    if value == NO_CHOICE and None in options:
        return list(options).index(None)
    return next((i for i, o in enumerate(options) if o is not None and str(o) == value), None)


def _say_replaced(key: str, raw: str, allowed: str, shown: str) -> None:
    """The warning for a link value a bound widget could not use."""
    st.warning(escape_markup(f"The link's {key}={raw} is not {allowed}; showing {shown} instead."))


def say_unused(param: str, why: str) -> None:
    """The warning for a link value this page does not use here (``why``: what decides instead)."""
    given = st.query_params.get_all(param)
    if given:
        shown = "&".join(f"{param}={v}" for v in given)
        st.warning(escape_markup(f"The link's {shown} is not used: {why}."))


def say_no_such(what: str, raw: object, choices: list[str]) -> None:
    """The warning for a link naming a ``what`` (dataset, map, metric) that does not exist: the real
    ones (six, and how many more), and that nothing is shown until one is picked (``refuse`` of
    :func:`query_select`)."""
    listed = "; ".join(choices[:6]) + (f"; and {len(choices) - 6} more" if len(choices) > 6 else "") or "none yet"
    st.warning(
        escape_markup(f"There is no {what} {raw!s} (from the link). {what.capitalize()}s here: {listed}.")
        + " Pick one below; nothing else is shown meanwhile.",
    )


def query_pick(label: str, names: Mapping[Any, str], *, param: str, what: str, **kwargs: Any) -> Any | None:
    """A select of things by id (metrics, personas, ...) bound to ``?<param>=<id>``, each shown by its
    name; an id the link names that does not exist is refused with the real ones (:func:`say_no_such`)
    and nothing is chosen (None) until the user picks."""
    return query_select(
        label,
        list(names),
        param=param,
        format_func=names.__getitem__,
        refuse=lambda raw: say_no_such(what, raw, [f"{i} ({n})" for i, n in names.items()]),
        placeholder=f"Choose a {what}",
        **kwargs,
    )


def near_words(raw: str, known: Sequence[str]) -> str:
    """The names of ``known`` nearest to ``raw``, said truly: "nearest: …" when one is near
    (:func:`core.errors.is_close`), else "nothing close; some: …" ("" when there are none)."""
    near = nearest_names(raw, list(known))
    if not near:
        return ""
    return ("nearest: " if any(is_close(raw, n) for n in near) else "nothing close; some: ") + ", ".join(near)


def _near_words(param: str, raw: str, options: Sequence[Any], format_func: Callable[[Any], str] = str) -> str:
    """The link values nearest to ``raw`` as a link writes them (``measure=friction``), each with the
    name shown where it differs (``for Friction (0–100)``): "nearest: …", or "nothing close; some: …"
    when none is near (:func:`core.errors.is_close`); "" without options."""
    by_value = {str(o): o for o in options if o is not None}
    near = nearest_names(raw, list(by_value))
    shown = {v: str(format_func(by_value[v])) for v in near}
    listed = ", ".join(f"{param}={v}" + ("" if shown[v] == v else f" for {shown[v]}") for v in near)
    if not near:
        return ""
    if raw.isdigit():  # an id has no near one: the ones there are
        return "existing: " + listed
    close = any(is_close(raw, v) or is_close(raw, shown[v]) for v in near)
    return ("nearest: " if close else "nothing close; some: ") + listed


def _choices_near(param: str, raw: str, options: Sequence[_T], format_func: Callable[[_T], str]) -> str:
    """The words of a link value that is not a choice, with the nearest: "one of the choices here (nearest: …)"."""
    words = _near_words(param, raw, options, format_func)
    return f"one of the choices here ({words})" if words else "one of the choices here"


def _told_apart(options: Sequence[_T], format_func: Callable[[_T], str]) -> Callable[[_T], str]:
    """``format_func``, with the option's own value added to a name two options share ("Q3 plan (#4)"):
    the browser tells options apart by what they show, so two maps of one name would pick the same."""
    shown = [str(format_func(o)) for o in options]
    shared = {name for name in shown if shown.count(name) > 1}
    if not shared:
        return format_func
    return lambda o: f"{format_func(o)} (#{o})" if str(format_func(o)) in shared else format_func(o)


def query_select(
    label: str,
    options: Sequence[_T],
    *,
    param: str,
    format_func: Callable[[_T], str] = str,
    default: _T | None = None,
    widget: str = "selectbox",
    key: str | None = None,
    refuse: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> _T | None:
    """A selectbox (or horizontal radio) whose choice lives in the URL as ``?<param>=<option>``.

    Without a value in the link, ``default`` (else the first option) is shown; the option None is
    no parameter where it is the default, else ``?<param>=none``, so the link keeps it. A value that is not
    an option: with ``refuse``, ``refuse(value)`` says so, nothing is chosen (None) and the link is
    left as it was; without, a warning names the option shown instead.
    """
    options = list(options)
    format_func = _told_apart(options, format_func)
    current = link_value(param)
    if not options:
        if current is not None and refuse is not None:
            refuse(current)
        return None
    index = link_index(param, options)
    if index is None:
        if current is not None and refuse is not None:
            refuse(current)
        else:
            index = options.index(default) if default in options else 0
            if current is not None:  # never replaced silently, and the nearest real choices named
                _say_replaced(
                    param, current, _choices_near(param, current, options, format_func), format_func(options[index])
                )
    key = key or f"qp_{param}"
    if widget == "radio":
        value = st.radio(label, options, index=index, format_func=format_func, key=key, horizontal=True, **kwargs)
    else:
        value = st.selectbox(label, options, index=index, format_func=format_func, key=key, **kwargs)
    if value is not None:
        if st.query_params.get(param) != str(value):
            st.query_params[param] = str(value)
    elif index is not None and default is None:  # the option None, the default: no parameter
        st.query_params.pop(param, None)
    elif index is not None and st.query_params.get(param) != NO_CHOICE:
        st.query_params[param] = NO_CHOICE
    return value


def query_choice(where: Any, label: str, options: Sequence[Any], *, default: Any, key: str, **kwargs: Any) -> Any:
    """A segmented control that always holds one of ``options`` (``default`` first), bound to the URL's
    query parameters under ``key`` (the link carries the option as shown, ``format_func`` applied);
    ``where`` is ``st`` or a column. A link value that is not a choice is named, with the nearest."""
    raw = link_value(key)
    fmt = kwargs.get("format_func", str)
    value = where.segmented_control(
        label, options, default=default, required=True, key=key, bind="query-params", **kwargs
    )
    shown = [str(fmt(o)) for o in options]
    if raw is not None and raw not in shown:
        _say_replaced(key, raw, f"one of the choices here ({near_words(raw, shown)})", str(fmt(value)))
    return value


def query_tabs(labels: Sequence[str], *, key: str, default: str | None = None) -> list[Any]:
    """Tabs bound to the URL under ``key`` (the link carries the open tab's label; only the open tab's
    ``open`` is true); ``default`` (else the first) opens when the link names none. A link naming no
    tab here is named, with the nearest and the tab shown."""
    raw = link_value(key)
    first = default if default in labels else labels[0]
    if raw is not None and raw not in labels:  # Streamlit opens the default tab
        _say_replaced(key, raw, f"a tab here ({near_words(raw, list(labels))})", str(first))
    return list(st.tabs(list(labels), default=first, key=key, bind="query-params"))


def query_toggle(where: Any, label: str, *, value: bool, key: str, help: str) -> bool:
    """A toggle bound to the URL's query parameters under ``key``; ``where`` is ``st`` or a column. A
    link value other than true or false is named."""
    raw = link_value(key)
    on = bool(where.toggle(label, value=value, key=key, bind="query-params", help=help))
    if raw is not None and raw.casefold() not in ("true", "false"):
        _say_replaced(key, raw, "true or false", "on" if on else "off")
    return on


def query_number(
    where: Any, widget: str, label: str, *, lo: float, hi: float, value: float, key: str, **kwargs: Any
) -> Any:
    """A number from ``lo`` to ``hi`` (``widget``: "slider" or "number_input"), bound to the URL
    under ``key``; ``where`` is ``st`` or a column. Whole numbers where ``lo``, ``hi`` and ``value``
    are all ``int`` (an ``int`` back), else any number (a ``float``). A link value that is not such a
    number is named, with the number shown instead."""
    whole = all(isinstance(v, int) for v in (lo, hi, value))
    raw = link_value(key)
    shown = getattr(where, widget)(
        label, min_value=lo, max_value=hi, value=value, key=key, bind="query-params", **kwargs
    )
    number = int(shown) if whole else float(shown)
    if raw is None or _link_number(raw, whole) == number:
        return number
    _say_replaced(key, raw, f"{'a whole number' if whole else 'a number'} from {lo:g} to {hi:g}", f"{number:g}")
    return number


def _link_number(raw: str, whole: bool) -> float | None:
    """A link's number as the widget reads it (None when it is not one)."""
    text = raw.strip()
    if whole:
        return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else None
    try:
        parsed = float(text)
    except ValueError:
        return None
    return parsed if math.isfinite(parsed) else None


def _link_date(raw: str) -> date | None:
    """A link's date as Streamlit reads it (YYYY-MM-DD, or YYYY/MM/DD), None when it is not one."""
    for fmt in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def query_date(
    where: Any, label: str, *, key: str, lo: date | None, hi: date | None, empty: str, **kwargs: Any
) -> date | None:
    """A day picker (empty by default) bound to the URL under ``key``, from ``lo`` to ``hi`` (the
    data's first and last day; None: Streamlit's ten years either side); ``where`` is ``st`` or a
    column. A link value that is not a day in that range is named, with what is shown instead
    (``empty`` says what no day means)."""
    raw = link_value(key)
    day = where.date_input(
        label, value=None, min_value=lo, max_value=hi, key=key, bind="query-params", format="YYYY-MM-DD", **kwargs
    )
    shown = day.isoformat() if isinstance(day, date) else empty
    parsed = _link_date(raw) if raw is not None else None
    if raw is None or (parsed is not None and parsed == day):
        return day if isinstance(day, date) else None
    if parsed is None:
        _say_replaced(key, raw, "a day (YYYY-MM-DD)", shown)
    else:
        span = f"{lo.isoformat() if lo else '…'} to {hi.isoformat() if hi else '…'}"
        _say_replaced(key, raw, f"a day from {span}, the days of this data", shown)
    return day if isinstance(day, date) else None


def warn_link_values_left_out(
    key: str, options: Sequence[object], format_func: Callable[[Any], str] = str, *, explained: Collection[str] = ()
) -> None:
    """Name, in a warning, each ``?<key>=`` value of the link that is not one of ``options`` (a widget
    bound to the URL leaves it out), with the nearest real options as a link writes them: never
    dropped silently. ``explained``: values the page has already said more of (not named twice)."""
    if text := _left_out_words(key, options, format_func, explained=explained):
        st.warning(escape_markup(text))


def _left_out_words(
    key: str, options: Sequence[object], format_func: Callable[[Any], str] = str, *, explained: Collection[str] = ()
) -> str:
    """What :func:`warn_link_values_left_out` says ("" when every ``?<key>=`` value is a choice)."""
    names = [str(o) for o in options if o is not None]
    unknown = [v for v in st.query_params.get_all(key) if v not in names and v not in explained]
    return " ".join(
        f"The link's {key}={value} is not one of the choices here and was left out"
        + (f" ({_near_words(key, value, options, format_func)})." if names else ".")
        for value in unknown
    )


def query_multiselect(
    container: Any,
    label: str,
    options: Sequence[str],
    *,
    key: str,
    explained: Collection[str] = (),
    refuse: bool = False,
    refused_means: str = "Nothing is drawn until the choice is changed.",
    **kwargs: Any,
) -> list[str]:
    """A multiselect whose choices live in the URL as ``?<key>=<option>&<key>=...``; a link value that
    is not an option is named (:func:`warn_link_values_left_out`), unless ``explained`` already.

    With ``refuse`` (names that make the analysis: funnel steps, exclusions, filters, ``through``), the
    link's values are refused rather than left out: an error names them with the nearest real ones, and
    :func:`link_refused` tells the caller to draw nothing until the choice changes (or the user goes on
    with the choice shown); ``refused_means`` says what the caller leaves undrawn."""
    options = list(options)
    said = st.empty()  # the warning goes above the widget, written once the widget's choice is known
    text = _left_out_words(key, options, explained=explained)
    chosen = list(container.multiselect(label, options, key=key, bind="query-params", **kwargs))
    # What is shown keeps leaving the link's values out until the choice changes, so the warning stays
    # beside it as long (a rerun, a download) and goes with the user's own choice.
    remembered = _remembered(key)
    if text:
        st.session_state[remembered] = (tuple(chosen), text)
    elif remembered in st.session_state:
        kept, text = st.session_state[remembered]
        if tuple(chosen) != kept:
            del st.session_state[remembered]
            text = ""
    if text and refuse:
        with said.container():
            st.error(
                escape_markup(text.replace("was left out", "is refused")) + " " + refused_means,
                icon=":material/block:",
            )
            if st.button("Go on without it", key=f"{key}__go_on", help="Draw with the choice as shown."):
                del st.session_state[remembered]
                st.rerun()
    elif text:
        said.warning(escape_markup(text + " What is shown leaves it out until the choice is changed."))
    return chosen


def _remembered(key: str) -> str:
    return f"_left_out::{_page_path()}::{key}"


def link_refused(*keys: str) -> bool:
    """Whether a refusing :func:`query_multiselect` of this page (one of ``keys``, drawn in this run)
    still refuses its link's values: the caller draws nothing then."""
    return any(_remembered(k) in st.session_state for k in keys)


def _page_path() -> str:
    """The path of the page running ("/Funnel"), so that what one page remembers of its link stays its own."""
    from urllib.parse import urlsplit

    return urlsplit(st.context.url or "").path
