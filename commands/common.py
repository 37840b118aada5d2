"""What every command shares: JSON on standard output, comma lists and dates read from flags."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from typing import Any

from core.start_up import resume_gc


def start_up_done(*, freeze: bool = True) -> None:
    """The command has imported what it needs: the garbage collector runs again (``python cli.py``
    pauses it at start: ``core.start_up``; a no-op in a process that calls ``cli.main()`` itself)."""
    resume_gc(freeze=freeze)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def emit_json(payload: Any) -> None:
    """Write JSON to standard output (dates as ISO 8601)."""
    print(json.dumps(payload, default=_json_default, ensure_ascii=False, indent=2))


def csv_list(text: str | None) -> tuple[str, ...]:
    """``"A, B, C"`` → ``("A", "B", "C")``; None or blank → ``()``. An empty name between commas
    (``"A,,B"``, a trailing comma) is refused, never dropped: it is a slip, and the list would
    silently be shorter than written."""
    from core.errors import BadInputError

    if text is None or not text.strip():
        return ()
    parts = tuple(part.strip() for part in text.split(","))
    if not all(parts):
        raise BadInputError("a list of names has an empty one", value=text, expected='"A,B,C" with no empty name')
    return parts


def parse_date(text: str) -> date:
    """An argparse type: ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def goals_lost(args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names of ``--goal "A,B"`` and of every ``--lost "X,Y"`` (``analyze`` and ``report``)."""
    return csv_list(getattr(args, "goal", None)), csv_list(",".join(getattr(args, "lost", None) or ()))


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a count of rows, days or steps)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value
