"""Catch the core's typed errors once and show their message (never a traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from components.text import escape_markup
from core.errors import JourneyLensError


@contextmanager
def user_errors() -> Iterator[None]:
    """Show JourneyLens errors (bad input, conflicts, missing items) as ``st.error`` with their text.

    Only the one root's errors: any other exception (a ``ValueError`` or ``KeyError`` from a bug) is
    not turned into a friendly message, so it shows as the bug it is."""
    try:
        yield
    except JourneyLensError as exc:
        show_error(exc)


def show_error(exc: Exception) -> None:
    """Show a caught JourneyLens error's text; it quotes what the user typed, so it is shown as text,
    never as links, images or HTML."""
    st.error(escape_markup(str(exc)), icon=":material/error:")
