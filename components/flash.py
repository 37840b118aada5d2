"""After a save: one-shot success messages that survive a rerun (set with :func:`flash` before
``st.rerun()``, shown once by :func:`show_flash` at the top of the page's next run), and forms drawn
empty again only once saved (:func:`form_key`, :func:`form_saved`)."""

from __future__ import annotations

import streamlit as st

FLASH_KEY = "flash"


def flash(message: str) -> None:
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message, icon=":material/check_circle:")


# A form that is refused keeps what the user typed (no ``clear_on_submit``); once saved it is drawn
# afresh, empty, under a key of its next generation.
_FORM_GENERATION = "_form_generation"


def form_key(name: str) -> str:
    """The key of the form ``name`` in its current generation (its widgets' keys end with it too)."""
    return f"{name}#{st.session_state.get(_FORM_GENERATION, {}).get(name, 0)}"


def form_saved(name: str) -> None:
    """The form ``name`` was saved: its next drawing is a new, empty one."""
    generations = st.session_state.setdefault(_FORM_GENERATION, {})
    generations[name] = generations.get(name, 0) + 1
