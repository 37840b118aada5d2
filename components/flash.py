"""One-shot success messages that survive a rerun: set with :func:`flash` before ``st.rerun()``,
shown (once) by :func:`show_flash` at the top of the page's next run."""

from __future__ import annotations

import streamlit as st

FLASH_KEY = "flash"


def flash(message: str) -> None:
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message, icon=":material/check_circle:")
