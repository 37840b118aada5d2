"""Which theme the viewer sees, for the figures that draw their own colours (map grid, graph)."""

from __future__ import annotations

import streamlit as st


def is_dark() -> bool:
    """Whether the viewer sees a dark theme.

    ``st.context.theme.type`` follows the viewer's theme menu, but on 1.67 it reports "light" for an
    app whose configured base theme is dark (``theme.base`` / ``STREAMLIT_THEME_BASE``), so either
    saying dark counts.
    """
    try:
        if getattr(st.context.theme, "type", None) == "dark":
            return True
    except Exception:  # noqa: BLE001  (no browser context, e.g. in AppTest)
        pass
    return st.get_option("theme.base") == "dark"
