"""Map commands: templates, the demo, and maps (list, new, export, import, snapshot, diff)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING

from commands.common import emit_json

if TYPE_CHECKING:
    from core.journey_map import MapView


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
    from services.templates import get_template

    if args.template is not None:
        get_template(args.template)  # an unknown key: refused with the nearest real one, before anything else
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


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _csv_left_out(view: MapView) -> list[str]:
    """What the map holds that its CSV (one row per cell: ``services.map_io.compute_map_cells``) does not
    carry, in words; only what this map has (nothing to leave out is not named)."""
    out = []
    kept = []  # personas and metrics: only their names reach the CSV, on the rows that point at them
    if view.personas:
        kept.append(_plural(len(view.personas), "persona"))
    if view.metrics:
        values = sum(len(m.values) for m in view.metrics)
        metrics = _plural(len(view.metrics), "metric")
        kept.append(f"{metrics} with their {_plural(values, 'value')}" if values else metrics)
    if kept:
        out.append(f"its {' and '.join(kept)} (only their names, on the cells and actions naming them)")
    details = [
        word
        for word, value in (
            ("description", view.description),
            ("scenario", view.scenario),
            ("owner", view.owner),
            ("review date", view.review_by),
        )
        if value
    ]
    if details:
        out.append("the map's " + ", ".join(details))
    if any(s.outcomes for s in view.stages):
        out.append("the stages' outcomes")
    if any(t.activity_names for t in view.touchpoints):
        out.append("the touchpoints' activity names")
    return out


def cmd_maps_export(args: argparse.Namespace) -> int:
    from services import map_io
    from services.map_view import get_map_view
    from services.maps import check_map_exists

    check_map_exists(args.map_id)
    if args.format == "json":
        data = map_io.export_map_json(args.map_id).encode("utf-8")
    elif args.format == "csv":
        data = map_io.export_map_csv(args.map_id)
        left_out = _csv_left_out(get_map_view(args.map_id))
        if left_out:
            print(
                f"note: the CSV of map {args.map_id} leaves out {', '.join(left_out)}; --format json has everything",
                file=sys.stderr,
            )
    else:
        from services.map_mermaid import export_map_mermaid

        data = export_map_mermaid(args.map_id).encode("utf-8")
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
    imported = map_io.import_map_file(data, name=args.name)
    print(imported.id)
    if note := imported.note():
        print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_maps_snapshot(args: argparse.Namespace) -> int:
    from services import snapshots

    print(snapshots.create_snapshot(args.map_id, args.name))
    return 0


def cmd_maps_diff(args: argparse.Namespace) -> int:
    from services import snapshots

    diff = snapshots.diff_since_snapshot(args.snapshot_id)
    if diff.empty:  # an empty answer says why: the map is as it was at the snapshot
        snapshot = snapshots.get_snapshot_summary(args.snapshot_id)
        why = f"No changes to map {snapshot.map_id} since snapshot {snapshot.id} ({snapshot.name})."
        if args.format == "json":
            print(f"note: {why}", file=sys.stderr)
        else:
            print(why)
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

    p = maps.add_parser(
        "export",
        help="export a map as JSON (complete), CSV (one row per cell) or Mermaid flowchart (stages, touchpoints, pain points, personas)",
    )
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


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("templates", help="list map templates, one a line, key first")
    p.set_defaults(handler=cmd_templates)

    p = sub.add_parser("demo", help="load the demo (maps, personas, event logs)")
    p.add_argument("--reset", action="store_true", help="delete the demo's maps and datasets and load them again")
    p.set_defaults(handler=cmd_demo)
    _add_maps(sub)
