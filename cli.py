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


# --------------------------------------------------------------------------- import


def _where_pair(text: str) -> tuple[str, str]:
    """``COL=VALUE`` (also ``COL==VALUE``) → (COL, VALUE); the column name may itself hold ':'."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected COL=VALUE, got {text!r}")
    column, value = text.replace("==", "=", 1).split("=", 1)
    if not column.strip():
        raise argparse.ArgumentTypeError(f"expected COL=VALUE, got {text!r}")
    return column.strip(), value


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from analytics.schema import ColumnMapping
    from services.importer import ImportOptions, import_event_log

    path = Path(args.file)
    mapping = ColumnMapping.of(
        segments=args.segment or [],
        journey=args.journey,
        timestamp=args.time,
        activity=args.activity,
        account=args.account,
        contact=args.contact,
        role=args.role,
        channel=args.channel,
        stage=args.stage,
        outcome=args.outcome,
        value=args.value,
        nps=args.nps,
        csat=args.csat,
        effort=args.effort,
        fcr=args.fcr,
    )
    options = ImportOptions(
        encoding=args.encoding,
        delimiter=args.delimiter,
        dayfirst=True if args.dayfirst else None,
        timezone=args.tz,
        date_only=args.date_only,
        where=tuple(args.where or ()),
        allow_bad_rows=args.allow_bad_rows,
        keep_duplicates=args.keep_duplicates,
    )

    def progress(fraction: float, message: str) -> None:
        if args.progress:
            print(f"{fraction:4.0%} {message}", file=sys.stderr)

    result = import_event_log(
        path,
        name=args.name or path.name.removesuffix(".gz").removesuffix(".csv"),
        mapping=mapping,
        options=options,
        source_name=path.name,
        map_id=args.map,
        progress=progress,
    )
    if args.format == "json":
        emit_json(result.summary())
        return 0
    verb = "Imported" if result.created else "Already imported (nothing added)"
    span = ""
    if result.first_timestamp and result.last_timestamp:
        span = f", {result.first_timestamp:%Y-%m-%d} to {result.last_timestamp:%Y-%m-%d} (UTC)"
    print(
        f"{verb}: dataset {result.dataset_id}: {result.events:,} events, {result.journeys:,} journeys, "
        f"{result.accounts:,} accounts, {result.activities:,} activities{span}."
    )
    print(
        f"Duplicates removed: {result.duplicates_removed:,}; ties: {result.ties:,}; "
        f"rejected rows: {result.rejected_rows:,}."
    )
    for note in result.notes:
        print(note)
    if result.rejected_rows:
        print("Rejected rows (first 20):")
        for row in result.rejected.head(20).itertuples(index=False):
            print(f"  row {row.row} (line {row.line}) {row.column}: {row.reason}: {row.value!r}")
    return 0


def _add_import(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="import an event log (CSV or .csv.gz) as a dataset",
        description="Import an event log. Encoding and delimiter are detected when not given. "
        "On bad input, exits with status 2 and the message the Data page would show.",
    )
    p.add_argument("file", help="CSV file (.csv or .csv.gz)")
    p.add_argument("--name", help="dataset name (default: the file name)")
    p.add_argument("--journey", required=True, metavar="COL", help="journey id column (required)")
    p.add_argument("--time", required=True, metavar="COL", help="timestamp column (required)")
    p.add_argument("--activity", required=True, metavar="COL", help="activity column (required)")
    for flag, what in (
        ("account", "account id"),
        ("contact", "contact id"),
        ("role", "contact role"),
        ("channel", "channel"),
        ("stage", "stage"),
        ("outcome", "outcome"),
        ("value", "value (a number)"),
        ("nps", "NPS score (0-10)"),
        ("csat", "CSAT score (1-5)"),
        ("effort", "effort score"),
        ("fcr", "resolved-on-first-contact flag"),
    ):
        p.add_argument(f"--{flag}", metavar="COL", help=f"{what} column")
    p.add_argument("--segment", action="append", metavar="COL", help="a segment column (repeatable)")
    p.add_argument("--dayfirst", action="store_true", help="dates like 03/04/2024 are day-first (default: detected)")
    p.add_argument(
        "--tz", default="UTC", metavar="ZONE", help="time zone of timestamps without an offset (default UTC)"
    )
    p.add_argument("--date-only", action="store_true", help="keep only the date of each timestamp")
    p.add_argument("--encoding", metavar="NAME", help="file encoding (default: detected)")
    p.add_argument("--delimiter", metavar="CHAR", help="delimiter: , ; tab or | (default: detected)")
    p.add_argument(
        "--where", action="append", type=_where_pair, metavar="COL=VALUE", help="keep rows where COL equals VALUE"
    )
    p.add_argument("--allow-bad-rows", action="store_true", help="import the good rows and report the bad ones")
    p.add_argument("--keep-duplicates", action="store_true", help="keep exact duplicate rows")
    p.add_argument("--map", type=int, metavar="MAP_ID", help="link the dataset to this map")
    p.add_argument("--progress", action="store_true", help="report progress on standard error")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=cmd_import)


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
    _add_import(sub)
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
