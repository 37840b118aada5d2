"""``report``: a self-contained HTML report of one map, and its tables as CSV."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from commands.common import goals_lost

if TYPE_CHECKING:
    from core.map_report import MapReport

# The measures of services.overlay.MEASURES (listed here so building the parser imports no analytics).
REPORT_MEASURES = (
    "journeys",
    "conversion",
    "drop-off",
    "friction",
    "nps",
    "csat",
    "median time",
    "attributed conversions",
    "removal effect",
)
DEFAULT_MEASURE = "friction"


def write_map_report(
    map_id: int,
    out: str | Path,
    *,
    dataset_id: int | None = None,
    csv_dir: str | Path | None = None,
    measure: str = DEFAULT_MEASURE,
    goals: Sequence[str] = (),
    lost: Sequence[str] = (),
) -> MapReport:
    """Write the HTML report to ``out`` and, with ``csv_dir``, one CSV per table there."""
    from charts.map_report_html import render_map_report
    from services.map_report import build_map_report_data, write_report_csvs

    data = build_map_report_data(
        map_id, dataset_id=dataset_id, measure=measure, goals=goals, lost=lost, refuse_undefined=True
    )
    report = render_map_report(data)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.html, encoding="utf-8")
    if csv_dir is not None:
        write_report_csvs(data, csv_dir)
    return report


def cmd_report(args: argparse.Namespace) -> int:
    from services.maps import check_map_exists

    check_map_exists(args.map_id)  # before any work: an unknown id is refused with the maps there are
    goals, lost = goals_lost(args)
    if args.measure is not None and args.dataset is None:
        from core.errors import BadInputError
        from services.overview import map_log

        if map_log(args.map_id) is None:  # never dropped without a word
            raise BadInputError(
                f"--measure lays a measure of an event log over the map, and map {args.map_id} has none linked",
                expected="--dataset ID, or a dataset linked to the map",
            )
    report = write_map_report(
        args.map_id,
        args.out,
        dataset_id=args.dataset,
        csv_dir=args.csv_dir,
        measure=args.measure or DEFAULT_MEASURE,
        goals=goals,
        lost=lost,
    )
    if args.dataset is not None:
        from services.linking import foreign_map_note

        note = foreign_map_note(args.dataset, args.map_id)
        if note:
            print(f"note: {note}", file=sys.stderr)
    print(f"Wrote {args.out} ({len(report.html) // 1024} KiB, {len(report.tables)} tables).")
    if args.csv_dir:
        print(f"Wrote {len(report.tables)} CSV files to {args.csv_dir}.")
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report of one map (and its tables as CSV)")
    p.add_argument("map_id", type=int, metavar="MAP_ID")
    p.add_argument("--out", required=True, metavar="FILE.html")
    p.add_argument("--dataset", type=int, metavar="ID", help="event log to report on (default: the map's linked one)")
    p.add_argument("--csv-dir", metavar="DIR", help="also write every table of the report as CSV into DIR")
    p.add_argument(
        "--measure", choices=REPORT_MEASURES, help=f"measure laid over the map grid (default: {DEFAULT_MEASURE})"
    )
    p.add_argument(
        "--goal",
        metavar='"A,B"',
        help="converts on reaching these nodes, for this report only; the saved lost rule is kept unless "
        "--lost is given (default: the dataset's saved definition)",
    )
    p.add_argument(
        "--lost", action="append", metavar='"X,Y"', help="for this report only, lost on reaching any of these nodes"
    )
    p.set_defaults(handler=cmd_report)
