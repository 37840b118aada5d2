"""JourneyLens from a terminal: the same services as the app, on the same data directory.

python cli.py --help

The commands live in ``commands/`` (one module per group); this module builds the parser and turns
the faults a deployment meets into one line and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from collections.abc import Sequence

from commands import admin, analyze, conversion, external, maps, reading, report
from commands.common import Parser, start_up_done
from core.start_up import pause_gc


def build_parser() -> argparse.ArgumentParser:
    # Parser: a wrong value is refused in one line with the nearest real one (every sub-command's parser too).
    parser = Parser(prog="python cli.py", description="JourneyLens: B2B customer journey studio.")
    sub = parser.add_subparsers(dest="command", required=True)
    maps.add(sub)
    reading.add(sub)
    analyze.add(sub)
    report.add(sub)
    conversion.add(sub)
    admin.add_backup(sub)
    external.add(sub)
    admin.add_check(sub)
    admin.add_upgrade(sub)
    return parser


_ERRNO_ADVICE = {
    errno.ENOSPC: "the disk is full: nothing was saved; free some space and try again",
    errno.EROFS: "the file system is read-only: make the data directory writable or set JOURNEYLENS_DATA_DIR",
    errno.EACCES: "permission denied: make the data directory writable or set JOURNEYLENS_DATA_DIR",
    errno.EPERM: "permission denied: make the data directory writable or set JOURNEYLENS_DATA_DIR",
    errno.ENOENT: "not found: check the path (and JOURNEYLENS_DATA_DIR)",
    errno.EDQUOT: "the disk quota is exceeded: nothing was saved; free some space and try again",
}


def fault_message(exc: BaseException) -> str | None:
    """One line saying what went wrong and what to do, for the faults a deployment meets; None for a bug."""
    from core.errors import JourneyLensError
    from db.engine import storage_error

    if isinstance(exc, JourneyLensError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        advice = _ERRNO_ADVICE.get(exc.errno or -1, exc.strerror or str(exc))
        return f"{advice}{where}."
    typed = storage_error(exc)
    if typed is not None:
        return str(typed)
    return None


def main(argv: Sequence[str] | None = None, *, quick_start: bool = False) -> int:
    """Run a command. ``quick_start`` (``python cli.py``, a process of its own): the garbage
    collector waits while ``analyze`` imports what it needs (``commands.common.start_up_done``);
    every other command runs with it as usual."""
    if quick_start:
        pause_gc()
        # A command's process ends before a copy of its dataset in memory would pay back (the app
        # keeps datasets hot; analytics.engine): off unless JOURNEYLENS_HOT_MB asks for it.
        os.environ.setdefault("JOURNEYLENS_HOT_MB", "0")
    try:
        return _main(argv)
    finally:
        start_up_done(freeze=False)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if not getattr(args, "quick_start", False):
        start_up_done(freeze=False)
    try:
        return args.handler(args)
    except BrokenPipeError:  # the reader went away (`| head`): nothing to say
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
        return 0
    except Exception as exc:
        from sqlalchemy.exc import DBAPIError  # here, not at start-up: --help imports no database layer

        if not isinstance(exc, OSError | DBAPIError) and fault_message(exc) is None:
            raise
        message = fault_message(exc)
        if message is None:  # a database error that is not a storage fault: still no traceback
            message = f"the database refused the operation ({str(getattr(exc, 'orig', exc)).splitlines()[0]})"
        print(f"error: {' '.join(message.split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main(quick_start=True))
