"""What the map studio's modules share: its page, and downloads named after the map."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from core.journey_map import MapView
from services.csv_safety import to_safe_csv

STUDIO_PAGE = "pages/2_Map_studio.py"


def slug(text: str) -> str:
    """A file-name-safe form of a map's name ("Q3 plan!" → "q3-plan")."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "map"


def map_csv_button(where: Any, label: str, frame: pd.DataFrame, view: MapView, suffix: str, **kwargs: Any) -> None:
    """Download ``frame`` as spreadsheet-safe CSV named after the map (``<map><suffix>.csv``), in ``where``."""
    where.download_button(label, to_safe_csv(frame), f"{slug(view.name)}{suffix}.csv", "text/csv", **kwargs)
