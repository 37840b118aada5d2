"""Streamlit pieces of the Attribution page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st


def formula_list(formulas: dict[str, str], labels: dict[str, str], render: Callable[[str], Any] = st.markdown) -> None:
    """Show each model's formula, one line each."""
    render("\n".join(f"- **{labels[k]}**: {v}" for k, v in formulas.items()))
