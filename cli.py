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


def cmd_maps_new(args: argparse.Namespace) -> int:
    from services.maps import create_map_from_template
    from services.templates import TEMPLATES

    if args.template is not None and args.template not in TEMPLATES:
        print(f"error: unknown template {args.template!r}; known templates: {', '.join(TEMPLATES)}", file=sys.stderr)
        return 2
    review_by = None
    if args.review_by:
        try:
            review_by = date.fromisoformat(args.review_by)
        except ValueError:
            print(f"error: --review-by {args.review_by!r} is not a date as YYYY-MM-DD", file=sys.stderr)
            return 2
    map_id = create_map_from_template(
        template_key=args.template,
        name=args.name,
        owner=args.owner or "",
        description=args.description or "",
        review_by=review_by,
    )
    print(map_id)
    return 0


def cmd_maps_export(args: argparse.Namespace) -> int:
    from services import map_io

    if args.format == "json":
        data = map_io.export_map_json(args.map_id).encode("utf-8")
    elif args.format == "csv":
        data = map_io.export_map_csv(args.map_id)
    else:
        data = map_io.export_map_mermaid(args.map_id).encode("utf-8")
    if args.out:
        with open(args.out, "wb") as handle:
            handle.write(data)
        print(f"Wrote {len(data)} bytes to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def cmd_maps_import(args: argparse.Namespace) -> int:
    from services import map_io

    try:
        with open(args.file, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    map_id = map_io.import_map_document(data, name=args.name)
    print(map_id)
    return 0


def cmd_maps_snapshot(args: argparse.Namespace) -> int:
    from services import snapshots

    print(snapshots.create_snapshot(args.map_id, args.name))
    return 0


def cmd_maps_diff(args: argparse.Namespace) -> int:
    from services import snapshots

    diff = snapshots.diff_since_snapshot(args.snapshot_id)
    if args.format == "json":
        emit_json(diff.to_dict("records"))
    else:
        for row in diff.itertuples(index=False):
            detail = f" {row.field}: {row.before!r} → {row.after!r}" if row.field else ""
            print(f"{row.change}\t{row.area}\t{row.item}{detail}")
    return 0


def _add_maps(sub: argparse._SubParsersAction) -> None:
    maps = sub.add_parser("maps", help="journey maps").add_subparsers(dest="maps_command", required=True)
    p = maps.add_parser("list", help="list journey maps")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=cmd_maps_list)

    p = maps.add_parser("new", help="create a map from a template (or empty); prints its id")
    p.add_argument(
        "--template", metavar="KEY", help="template key (see: python cli.py templates); omit for an empty map"
    )
    p.add_argument("--name", required=True)
    p.add_argument("--owner", default="")
    p.add_argument("--description", default="")
    p.add_argument("--review-by", metavar="YYYY-MM-DD")
    p.set_defaults(handler=cmd_maps_new)

    p = maps.add_parser("export", help="export a map as JSON (complete), CSV (one row per cell) or Mermaid journey")
    p.add_argument("map_id", type=int, metavar="ID")
    p.add_argument("--format", choices=["json", "csv", "mermaid"], default="json")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(handler=cmd_maps_export)

    p = maps.add_parser(
        "import", help="import a map from a JSON export (a new map, named as in the file); prints its id"
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", help="name the new map this instead")
    p.set_defaults(handler=cmd_maps_import)

    p = maps.add_parser("snapshot", help="save a named snapshot of a map; prints its id")
    p.add_argument("map_id", type=int, metavar="ID")
    p.add_argument("--name", required=True)
    p.set_defaults(handler=cmd_maps_snapshot)

    p = maps.add_parser("diff", help="what changed in a map since a snapshot")
    p.add_argument("snapshot_id", type=int, metavar="SNAPSHOT_ID")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=cmd_maps_diff)


# --------------------------------------------------------------------------- external backends


def _parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        role, sep, column = pair.partition("=")
        if not sep or not role or not column:
            raise SystemExit(f"error: --map expects ROLE=COLUMN (e.g. journey=case_id), got {pair!r}")
        out[role.strip()] = column.strip()
    return out


def cmd_external_register(args: argparse.Namespace) -> int:
    from analytics.schema import ColumnMapping
    from services.external import register_external_dataset

    mapping = None
    if args.map:
        mapping = ColumnMapping.of(segments=tuple(args.segment or ()), **_parse_mapping(args.map))
    result = register_external_dataset(
        args.name,
        args.url,
        args.table,
        args.roles.split(",") if args.roles else None,
        segments=tuple(args.segment or ()) if mapping is None else (),
        mapping=mapping,
        order_column=args.order_column,
        layout_table=args.layout_table,
    )
    if args.format == "json":
        emit_json({**asdict(result), "schema": result.schema.to_dict()})
    else:
        verb = "Registered" if result.created else "Already registered"
        print(
            f"{verb} dataset {result.dataset_id} ({result.table_name}): {result.events:,} events, "
            f"{result.journeys:,} journeys, {result.accounts:,} accounts, {result.activities:,} activities"
        )
    return 0


def cmd_external_check(args: argparse.Namespace) -> int:
    from services.external import check_external_dataset

    print(f"{check_external_dataset(args.dataset):,} events on the backend")
    return 0


def _add_external(sub: argparse._SubParsersAction) -> None:
    ext = sub.add_parser(
        "external", help="datasets that are tables on another Ibis backend (Spark, Trino, BigQuery, ...)"
    ).add_subparsers(dest="external_command", required=True)
    p = ext.add_parser(
        "register",
        help="register a table on a backend as a dataset (analyses then run there)",
        description="Register TABLE on the Ibis backend at URL (e.g. pyspark://?spark.master=spark://host:7077, "
        "trino://user@host:8080/hive/web, bigquery://project/dataset; ${VAR} is read from the environment). "
        "Without --map the table must have JourneyLens's stored layout; with --map it is a raw event table "
        "and the layout is computed on the backend into a new table.",
    )
    p.add_argument("--name", required=True, help="dataset name shown in the app")
    p.add_argument("--url", required=True, help="Ibis connection URL")
    p.add_argument("--table", required=True, help="table name on the backend")
    p.add_argument("--roles", help="optional roles present, comma-separated (default: read off the table)")
    p.add_argument("--map", action="append", metavar="ROLE=COLUMN", help="raw table: the column of a role (repeat)")
    p.add_argument("--segment", action="append", metavar="COLUMN", help="a segment column (repeat)")
    p.add_argument("--order-column", help="raw table: column that breaks timestamp ties (e.g. an event id)")
    p.add_argument("--layout-table", help="raw table: where to write the stored layout (default <table>_journeylens)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=cmd_external_register)
    p = ext.add_parser("check", help="count an external dataset's events on its backend now")
    p.add_argument("dataset", type=int, help="dataset id")
    p.set_defaults(handler=cmd_external_check)


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
    _add_external(sub)
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
