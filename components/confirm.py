"""The tick-box confirmation every destructive form uses: a box to tick and a button to press."""

from __future__ import annotations

from typing import Any

import streamlit as st


def confirmed(checkbox: str, button: str, warning: str = "Tick the box to confirm.", **button_kwargs: Any) -> bool:
    """Inside an ``st.form``: a tick box and the submit button. True when the button is pressed with the
    box ticked; pressed without it, warns (``warning``) and returns False."""
    sure = st.checkbox(checkbox)
    if not st.form_submit_button(button, **button_kwargs):
        return False
    if not sure:
        st.warning(warning)
        return False
    return True
