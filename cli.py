"""JourneyLens from a terminal: the same services as the app, on the same data directory.

python cli.py --help
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def emit_json(payload: Any) -> None:
    """Write JSON to standard output (dates as ISO 8601)."""
    print(json.dumps(payload, default=_json_default, ensure_ascii=False, indent=2))


# --------------------------------------------------------------------------- templates, maps, demo


def cmd_templates(args: argparse.Namespace) -> int:
    from services.templates import list_templates

    for t in list_templates():
        print(f"{t.key}\t{t.name}\t{len(t.stages)} stages\t{t.description}")
    return 0


def cmd_maps_list(args: argparse.Namespace) -> int:
    from services.maps import list_map_summaries

    maps = list_map_summaries()
    if args.format == "json":
        emit_json([asdict(m) for m in maps])
    else:
        for m in maps:
            stale = " (stale)" if m.stale else ""
            print(f"{m.id}\t{m.name}\t{m.stages} stages\t{m.touchpoints} touchpoints\towner: {m.owner or '-'}{stale}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from services import demo

    if args.reset:
        ids = demo.reset_demo()
        print(f"Demo reset: {len(ids)} maps.")
    elif demo.ensure_demo():
        print("Demo loaded.")
    else:
        print("Demo already loaded (use --reset to restore it).")
    return 0


def _add_maps(sub: argparse._SubParsersAction) -> None:
    maps = sub.add_parser("maps", help="journey maps").add_subparsers(dest="maps_command", required=True)
    p = maps.add_parser("list", help="list journey maps")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=cmd_maps_list)


# --------------------------------------------------------------------------- backup and restore


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def cmd_backup(args: argparse.Namespace) -> int:
    from services.backup import create_backup

    report = create_backup(args.path)
    print(
        f"Backup written to {report.path}: {report.maps} maps, database {_megabytes(report.database_bytes)}, "
        f"{report.datasets} datasets ({report.dataset_files} files, {_megabytes(report.dataset_bytes)}), "
        f"schema {report.schema_revision}, {report.duration_seconds:.1f} s."
    )
    if report.skipped_datasets:
        ids = ", ".join(str(i) for i in report.skipped_datasets)
        print(f"Datasets deleted while the backup ran, not included: {ids}.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from services.backup import restore_backup

    report = restore_backup(args.path, force=args.force)
    print(
        f"Restored {report.maps} maps and {report.datasets} datasets into {report.target} "
        f"(schema {report.schema_revision}, {report.duration_seconds:.1f} s)."
    )
    if report.previous_data_backup:
        print(f"The data that was there before is kept in {report.previous_data_backup}.")
    print("Restart a running app (or wait five minutes for its caches) to see the restored data.")
    return 0


def _add_backup(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backup",
        help="back up the database (SQLite online backup) and the datasets into a new folder, while the app runs",
    )
    p.add_argument("path", help="a new or empty folder to write the backup to")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup folder into the data directory")
    p.add_argument("path", help="a folder written by `python cli.py backup`")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the maps and datasets already there (they are backed up first, under backups/)",
    )
    p.set_defaults(handler=cmd_restore)


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python cli.py", description="JourneyLens: B2B customer journey studio.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("templates", help="list map templates, one a line, key first")
    p.set_defaults(handler=cmd_templates)

    p = sub.add_parser("demo", help="load the demo (maps, personas, event logs)")
    p.add_argument("--reset", action="store_true", help="delete the demo's maps and datasets and load them again")
    p.set_defaults(handler=cmd_demo)

    _add_maps(sub)
    _add_backup(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from analytics.errors import AnalyticsError
    from db.errors import JourneyLensError

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (JourneyLensError, AnalyticsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
