"""Numbers and column names written for people: the one home of how a table or report shows a value.

Tables keep machine names and raw values (the CSV downloads, the data twins, the CLI); what a person
reads goes through :func:`for_people`, which renames the columns and writes every cell as text:

- column labels: ``backtrack_rate_pct`` → "Backtrack rate", ``from_touchpoint`` → "From touchpoint",
  ``median_seconds_from_previous`` → "Median time from previous" (an override in ``LABELS``, else the
  name's words, with units dropped from the name because the cell carries them);
- percentages with one decimal: ``*_pct`` columns hold 0–100, fraction columns (``share``,
  ``share_*``, ``*_share``, ``*_rate``, ``conversion_*``) hold 0–1 and are multiplied by 100;
- durations in seconds (``*seconds*``), hours (``*_hours``) or days (``*_days``) as "40 s", "12 min",
  "4.5 h", "3.2 days";
- whole counts (integer columns, and ``COUNT_NAMES`` even when stored as floats) without decimals and
  with thousands separators;
- other numbers with up to two decimals, trailing zeros dropped ("29", "0.45", "48.3"); a score
  (``SCORE_NAMES``: the friction index, 0–100) with one decimal always ("48.3", "19.0");
- differences of two fractions (``kinds={"lift": "points"}``) in percentage points, signed
  ("+12.4 points", "+0.03 points" below a tenth);
- a dash ("–") for a missing value (None, NaN, NaT); paths (tuples) joined with " › ".

No Streamlit: the pages, the report and the tests use the same functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

# Single values are written by analytics.numbers (the friction reasons and the services' labels use them
# too; analytics may not import charts); this module writes whole tables with them.
from analytics.numbers import DASH, SECONDS_PER_DAY, format_count, format_duration, format_percent, is_missing

LABELS: dict[str, str] = {
    "nps": "NPS",
    "csat": "CSAT",
    "exit_rate_pct": "Exit rate",
    "base_exit_rate_pct": "Base exit rate",
    "negative_rate_pct": "Negative feedback rate",
    "median_gap_hours": "Median time to next event",
    "reference_gap_hours": "Typical time to next event (stage)",
    "median_gap_seconds": "Median time to next event",
    "reference_gap_seconds": "Typical time to next event (stage)",
    "path_label": "Path",
    "journey_key": "Journey",
    "touchpoint_id": "Touchpoint id",
    "conversion_rate": "Conversion",
    "share_of_journeys": "Share of journeys",
    "source_step": "From step",
    "target_step": "To step",
    "count": "Moves",
    "node": "Stage or touchpoint",
    "rho": "ρ (Spearman)",
    "p90_seconds": "P90 time",
    "p90_seconds_from_previous": "P90 time from previous",
}
# Counts that may arrive as floats (after a join or a missing value) but are never fractional.
COUNT_NAMES = frozenset(
    {"journeys", "events", "count", "moves", "visits", "transitions", "dropped", "respondents", "responses"}
)
_FRACTION = re.compile(r"^(share|share_.*|.*_share|.*_rate|conversion_.*|conversion)$")
_UNIT_WORDS = {"seconds", "hours", "days", "pct"}
_WORDS = {"nps": "NPS", "csat": "CSAT", "id": "id", "p90": "90th percentile", "p50": "median", "raci": "RACI"}


def column_label(name: object) -> str:
    """A column's name as a person reads it (rules in the module docstring)."""
    key = str(name)
    if key in LABELS:
        return LABELS[key]
    if key.startswith("contrib_"):
        return f"{key.removeprefix('contrib_').replace('_', ' ').capitalize()} contribution"
    words = [w for w in key.split("_") if w]
    has_unit = any(w in ("seconds", "hours", "days") for w in words)
    words = [_WORDS.get(w, w) for w in words if w not in _UNIT_WORDS]
    if has_unit and "time" not in words:
        # "median_seconds_from_previous" → "median time from previous"
        at = 1 if words and words[0] in ("median", "mean", "90th percentile", "total", "average") else len(words)
        words.insert(at, "time")
    text = " ".join(words) or key
    return text[:1].upper() + text[1:]


def format_number(value: Any) -> str:
    """Any other number: up to two decimals, trailing zeros dropped (``29``, ``0.45``, ``48.3``)."""
    if is_missing(value):
        return DASH
    number = float(value)
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    text = f"{number:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_points(value: Any) -> str:
    """A difference of two 0–1 fractions in percentage points: ``+12.4 points``; two decimals below a
    tenth of a point (``+0.03 points``), so a small rise never reads as none. A dash when missing."""
    if is_missing(value):
        return DASH
    points = float(value) * 100.0
    return f"{points:+.1f} points" if abs(points) >= 0.1 or points == 0 else f"{points:+.2f} points"


def format_days(seconds: Any) -> str:
    """A duration in seconds as days with one decimal (``12.3``), for a figure labelled in days; a dash
    when missing."""
    return DASH if is_missing(seconds) else f"{float(seconds) / SECONDS_PER_DAY:.1f}"


def format_value(value: Any) -> str:
    """A cell of no known kind: numbers as :func:`format_number`, dates, paths, booleans, text; a dash when
    missing."""
    if isinstance(value, tuple | list):
        return " › ".join(str(v) for v in value)
    if is_missing(value):
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) or (hasattr(value, "dtype") and pd.api.types.is_number(value)):
        return format_number(value)
    return str(value)


SCORE_NAMES = frozenset({"friction"})


def column_kind(name: object, series: pd.Series) -> str:
    """How a column's cells are written: ``percent``, ``fraction``, ``duration``, ``score``, ``count``,
    ``number`` or ``text`` (rules in the module docstring)."""
    key = str(name)
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if not numeric:
        return "text"
    if key.endswith("_pct"):
        return "percent"
    if _FRACTION.match(key):
        return "fraction"
    if "seconds" in key.split("_") or key.endswith(("_hours", "_days")):
        return "duration"
    if key in SCORE_NAMES:
        return "score"
    if key in COUNT_NAMES or pd.api.types.is_integer_dtype(series):
        return "count"
    return "number"


def _to_seconds(key: str) -> float:
    return 3600.0 if key.endswith("_hours") else SECONDS_PER_DAY if key.endswith("_days") else 1.0


def for_people(
    frame: pd.DataFrame | list[dict[str, Any]],
    *,
    labels: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """``frame`` as a person reads it: human column labels and every cell written as text (see the module
    docstring). ``labels`` and ``kinds`` override the label or the kind of named columns."""
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)  # rows as dicts (e.g. a list of summaries)
    out = {}
    names: list[str] = []
    for column in frame.columns:
        key = str(column)
        series = frame[column]
        kind = (kinds or {}).get(key) or column_kind(key, series)
        if kind == "percent":
            cells = [format_percent(v) for v in series]
        elif kind == "fraction":
            cells = [format_percent(v, fraction=True) for v in series]
        elif kind == "duration":
            factor = _to_seconds(key)
            cells = [format_duration(None if is_missing(v) else float(v) * factor) for v in series]
        elif kind == "count":
            cells = [format_count(v) for v in series]
        elif kind == "points":
            cells = [format_points(v) for v in series]
        elif kind == "score":
            cells = [DASH if is_missing(v) else f"{float(v):,.1f}" for v in series]
        else:
            cells = [format_value(v) for v in series]
        label = (labels or {}).get(key) or column_label(key)
        while label in names:  # two machine names with one label stay two columns
            label += " "
        names.append(label)
        out[label] = cells
    return pd.DataFrame(out, columns=names, index=range(len(frame)))


def cut_note(drawn: int, total: int, which: str, rest: str) -> str | None:
    """For a caption under a chart that draws only some rows: "The chart shows the 15 largest of
    40; <rest>." (``which`` names the rows drawn, ``rest`` where the others are); None when it draws
    them all."""
    if total <= drawn:
        return None
    return f"The chart shows the {drawn:,} {which} of {total:,}; {rest}."
