"""Catch the core's typed errors once and show their message (never a traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from analytics.errors import AnalyticsError
from components.text import escape_markup
from db.errors import JourneyLensError


@contextmanager
def user_errors() -> Iterator[None]:
    """Show JourneyLens errors (bad input, conflicts, missing items) as ``st.error`` with their text."""
    try:
        yield
    except (JourneyLensError, AnalyticsError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        # Messages quote what the user typed: shown as text, never as links, images or HTML.
        st.error(escape_markup(message), icon=":material/error:")
