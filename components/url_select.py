"""The one way to tie a select box (or a horizontal radio) to the URL: :func:`query_select`.

The choice lives in the URL as ``?<param>=<option>`` (an option ``None`` stands for no parameter),
so a link reproduces the view, and the URL always names what is shown. A value in the link that is
not one of the options is never replaced silently: either a warning names the option shown instead,
or (with ``refuse``) the page says so and nothing is chosen until the user picks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import streamlit as st

from analytics.conversion import nearest_names
from components.text import escape_markup

_T = TypeVar("_T")


def link_value(param: str) -> str | None:
    """The raw ``?<param>=`` of the link (None when absent or empty)."""
    value = st.query_params.get(param)
    return None if value in (None, "") else value


def link_index(param: str, options: Sequence[object]) -> int | None:
    """Where ``?<param>=`` is among ``options`` (None: absent, or not one of them)."""
    value = link_value(param)
    return next((i for i, o in enumerate(options) if o is not None and str(o) == value), None)


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

    Without a value in the link, ``default`` (else the first option) is shown. A value that is not
    an option: with ``refuse``, ``refuse(value)`` says so, nothing is chosen (None) and the link is
    left as it was; without, a warning names the option shown instead.
    """
    options = list(options)
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
            if current is not None:  # never replaced silently
                st.warning(
                    escape_markup(
                        f"The link's {param}={current} is not one of the choices here; showing "
                        f"{format_func(options[index])} instead."
                    )
                )
    key = key or f"qp_{param}"
    if widget == "radio":
        value = st.radio(label, options, index=index, format_func=format_func, key=key, horizontal=True, **kwargs)
    else:
        value = st.selectbox(label, options, index=index, format_func=format_func, key=key, **kwargs)
    if value is not None:
        if st.query_params.get(param) != str(value):
            st.query_params[param] = str(value)
    elif index is not None:  # the option None: no parameter
        st.query_params.pop(param, None)
    return value


def query_choice(where: Any, label: str, options: Sequence[Any], *, default: Any, key: str, **kwargs: Any) -> Any:
    """A segmented control that always holds one of ``options`` (``default`` first), bound to the URL's
    query parameters under ``key``; ``where`` is ``st`` or a column."""
    return where.segmented_control(
        label, options, default=default, required=True, key=key, bind="query-params", **kwargs
    )


def query_toggle(where: Any, label: str, *, value: bool, key: str, help: str) -> bool:
    """A toggle bound to the URL's query parameters under ``key``; ``where`` is ``st`` or a column."""
    return where.toggle(label, value=value, key=key, bind="query-params", help=help)


def warn_link_values_left_out(key: str, options: Sequence[object]) -> None:
    """Name, in a warning, each ``?<key>=`` value of the link that is not one of ``options`` (a widget
    bound to the URL leaves it out), with the nearest real options: never dropped silently."""
    names = [str(o) for o in options if o is not None]
    unknown = [v for v in st.query_params.get_all(key) if v not in names]
    if unknown:
        st.warning(
            escape_markup(
                " ".join(
                    f"The link's {key}={value} is not one of the choices here and was left out"
                    + (f" (nearest: {', '.join(nearest_names(value, names))})." if names else ".")
                    for value in unknown
                )
            )
        )


def query_multiselect(container: Any, label: str, options: Sequence[str], *, key: str, **kwargs: Any) -> list[str]:
    """A multiselect whose choices live in the URL as ``?<key>=<option>&<key>=...``; a link value that
    is not an option is named (:func:`warn_link_values_left_out`)."""
    options = list(options)
    warn_link_values_left_out(key, options)
    return list(container.multiselect(label, options, key=key, bind="query-params", **kwargs))
