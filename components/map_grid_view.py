"""The map grid on a page: the whole grid fitted to the width, a zoom control, the page's theme.

Used by the Map studio's Grid tab, its version comparison and the Overlay page, so the grid looks
and behaves the same everywhere (the HTML report draws the same fragment, ``charts.map_grid_html``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts.map_grid_html import ZOOM_COLUMN_PX, map_grid_html
from charts.palette import page_colours
from components.theme import is_dark
from components.url_select import query_choice
from core.journey_map import MapView


def page_background() -> str:
    """The page's background colour (behind the sticky row names): the configured one, else the theme's."""
    configured = st.get_option("theme.backgroundColor")
    if configured:
        return str(configured)
    return page_colours(is_dark())["background"]


def render_map_grid(
    view: MapView,
    overlay: pd.DataFrame | None = None,
    *,
    key: str,
    persona_id: int | None = None,
    overlay_name: str | None = None,
    edit_href: str | None = None,
    zoom_param: str | None = None,
) -> str:
    """Draw the grid with a zoom control above it ("Fit to width" by default); returns the zoom chosen.
    With ``edit_href`` (this page's address), touchpoints and pain points link to their editor; with
    ``zoom_param``, the zoom lives in the URL under that name (one grid on the page)."""
    zoom_help = (
        "Fit to width shows every stage and touchpoint at once; the larger sizes give each touchpoint "
        "column more room (the grid then scrolls sideways, the row names stay in view)."
    )
    if zoom_param:
        zoom = query_choice(st, "Zoom", list(ZOOM_COLUMN_PX), default="Fit to width", key=zoom_param, help=zoom_help)
    else:
        zoom = st.segmented_control(
            "Zoom", list(ZOOM_COLUMN_PX), default="Fit to width", key=f"{key}_zoom", help=zoom_help
        )
    zoom = zoom or "Fit to width"  # a segmented control can be cleared: fall back to the default
    st.html(
        map_grid_html(
            view,
            overlay,
            persona_id=persona_id,
            overlay_name=overlay_name,
            column_px=ZOOM_COLUMN_PX[zoom],
            background=page_background(),
            text_colour=page_colours(is_dark())["text"],
            edit_href=edit_href,
        )
    )
    return zoom
