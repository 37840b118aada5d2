"""What every command shares: JSON on standard output, comma lists and dates read from flags."""

from __future__ import annotations

import argparse
import gc
import json
from datetime import date, datetime
from typing import Any

# Start-up of `python cli.py` as a process of its own: the cyclic garbage collector waits until the
# command has imported what it needs. Those imports make hundreds of thousands of objects, none of
# them garbage, and the collector's passes over them took about a sixth of an `analyze` process
# (bench/startup.py). Nothing changes in a process that calls cli.main() itself (the tests).
_gc_paused = False


def pause_gc_for_start_up() -> None:
    """Pause the cyclic garbage collector until :func:`start_up_done` (``python cli.py`` only)."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def start_up_done(*, freeze: bool = True) -> None:
    """The command has imported what it needs: the collector runs again, and with ``freeze`` it
    leaves the objects made so far (modules, classes, functions) out of its passes for good."""
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        if freeze:
            gc.freeze()
        gc.enable()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def emit_json(payload: Any) -> None:
    """Write JSON to standard output (dates as ISO 8601)."""
    print(json.dumps(payload, default=_json_default, ensure_ascii=False, indent=2))


def csv_list(text: str | None) -> tuple[str, ...]:
    """``"A, B,,C"`` → ``("A", "B", "C")``."""
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def parse_date(text: str) -> date:
    """An argparse type: ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc
