"""Importing an event log: ``import FILE``, and ``analyze FILE`` (which imports it first).

Both read the same flags (:func:`add_reading_flags`) into one column mapping and one set of
import options (:func:`import_file`), so a file reads the same whichever command imports it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from commands.common import emit_json

# The optional columns, in the order of the flags, with what they hold.
OPTIONAL_COLUMNS = (
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
)


def _where_pair(text: str) -> tuple[str, str]:
    """``COL=VALUE`` (also ``COL==VALUE``) → (COL, VALUE); the column name may itself hold ':'."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected COL=VALUE, got {text!r}")
    column, value = text.replace("==", "=", 1).split("=", 1)
    if not column.strip():
        raise argparse.ArgumentTypeError(f"expected COL=VALUE, got {text!r}")
    return column.strip(), value


def dataset_name(file_name: str) -> str:
    """The default dataset name: the file's name without its table suffix."""
    name = file_name.removesuffix(".gz")
    for suffix in (".csv", ".tsv", ".txt", ".xlsx", ".parquet"):
        name = name.removesuffix(suffix)
    return name


def add_reading_flags(p: argparse.ArgumentParser | argparse._ArgumentGroup, *, required: bool) -> None:
    """The column and reading flags (``required``: the three columns every event log has must be named)."""
    p.add_argument("--name", help="dataset name (default: the file name)")
    suffix = " (required)" if required else ""
    p.add_argument("--journey", required=required, metavar="COL", help=f"journey id column{suffix}")
    p.add_argument("--time", required=required, metavar="COL", help=f"timestamp column{suffix}")
    p.add_argument("--activity", required=required, metavar="COL", help=f"activity column{suffix}")
    for flag, what in OPTIONAL_COLUMNS:
        p.add_argument(f"--{flag}", metavar="COL", help=f"{what} column")
    p.add_argument("--segment", action="append", metavar="COL", help="a segment column (repeatable)")
    p.add_argument("--dayfirst", action="store_true", help="dates like 03/04/2024 are day-first (default: detected)")
    p.add_argument(
        "--tz", default="UTC", metavar="ZONE", help="time zone of timestamps without an offset (default UTC)"
    )
    p.add_argument("--date-only", action="store_true", help="keep only the date of each timestamp")
    p.add_argument("--encoding", metavar="NAME", help="file encoding (default: detected)")
    p.add_argument("--delimiter", metavar="CHAR", help="delimiter: , ; tab or | (default: detected)")
    p.add_argument("--sheet", metavar="NAME", help="the sheet of an Excel .xlsx workbook (default: the first)")
    p.add_argument(
        "--where", action="append", type=_where_pair, metavar="COL=VALUE", help="keep rows where COL equals VALUE"
    )
    p.add_argument("--allow-bad-rows", action="store_true", help="import the good rows and report the bad ones")
    p.add_argument(
        "--drop-identical-rows",
        action="store_true",
        help="drop rows identical in every column to an earlier row (default: every row is an event; they are counted)",
    )


def import_file(path: str, args: argparse.Namespace, *, progress: Any = None, announce: bool = True) -> Any:
    """Import ``path`` with the reading flags of ``args`` (re-importing the same file adds nothing);
    the ``services.importer.ImportResult``. With ``announce`` (``analyze FILE``, whose standard
    output is the report) standard error says which dataset holds the file, for later ``--dataset``
    runs, and what the reading chose or assumed (:func:`announce_import`); ``import`` says it all on
    standard output instead."""
    from pathlib import Path

    from analytics.schema import ColumnMapping
    from services.importer import ImportOptions, import_event_log

    mapping = ColumnMapping.of(
        segments=tuple(args.segment or ()),
        journey=args.journey,
        timestamp=args.time,
        activity=args.activity,
        **{flag: getattr(args, flag) for flag, _ in OPTIONAL_COLUMNS},
    )
    options = ImportOptions(
        encoding=args.encoding,
        delimiter=args.delimiter,
        dayfirst=True if args.dayfirst else None,
        timezone=args.tz,
        date_only=args.date_only,
        where=tuple(args.where or ()),
        allow_bad_rows=args.allow_bad_rows,
        drop_identical_rows=args.drop_identical_rows,
        sheet=args.sheet,
    )
    source = Path(path)
    result = import_event_log(
        source,
        name=args.name or dataset_name(source.name),
        mapping=mapping,
        options=options,
        source_name=source.name,
        map_id=args.map,
        progress=progress,
    )
    if announce:
        announce_import(result, source.name)
    return result


def announce_import(result: Any, file_name: str) -> None:
    """On standard error: the dataset that holds ``file_name`` (new, or found from an earlier import)
    and the import's notes."""
    from services.importer import ALREADY_IMPORTED

    dataset = result.dataset_id
    how = "imported as" if result.created else "already imported as"
    print(f"{file_name}: {how} dataset {dataset} (--dataset {dataset} reads it without the file).", file=sys.stderr)
    for note in result.notes:
        if note != ALREADY_IMPORTED:  # the line above says so
            print(note, file=sys.stderr)


def _write_rejected(path: str, rejected: Any) -> None:
    """All rejected rows with their reasons, as CSV (formulas neutralised, as the Data page's download)."""
    from services.csv_safety import to_safe_csv

    with open(path, "wb") as handle:
        handle.write(to_safe_csv(rejected))


def cmd_import(args: argparse.Namespace) -> int:
    from analytics.ingest.rejects import NoRowLeftError, rejects_frame
    from core.errors import BadInputError
    from services.importer import REJECTED_SHOWN, plural

    def progress(fraction: float, message: str) -> None:
        if args.progress:
            print(f"{fraction:4.0%} {message}", file=sys.stderr)

    if args.rejected_out and not args.allow_bad_rows:  # without it the first bad row stops the import
        raise BadInputError(
            "--rejected-out writes the rows an import with --allow-bad-rows leaves out; without that flag the "
            "import stops at the first bad row, names it and stores nothing",
            expected="--allow-bad-rows --rejected-out FILE",
        )
    try:
        result = import_file(args.file, args, progress=progress, announce=False)
    except NoRowLeftError as exc:  # nothing is stored: the reasons go to --rejected-out, or say how to get them
        if args.rejected_out:
            _write_rejected(args.rejected_out, rejects_frame(exc.rejects))
            raise BadInputError(f"{exc} Every rejected row with its reason: {args.rejected_out}.") from None
        raise BadInputError(f"{exc} --rejected-out FILE writes every rejected row with its reason.") from None
    rejected = result.rejected
    wrote = ""
    if args.rejected_out:
        _write_rejected(args.rejected_out, rejected)
        wrote = (
            f"Wrote {plural(len(rejected), 'rejected row')} with {'their reasons' if len(rejected) != 1 else 'its reason'}"
            f" to {args.rejected_out}."
            if len(rejected)
            else f"No row was rejected; {args.rejected_out} holds the header only."
        )
    if args.format == "json":
        if wrote:
            print(wrote, file=sys.stderr)  # standard output stays JSON
        emit_json(result.summary())
        return 0
    verb = "Imported" if result.created else "Already imported (nothing added)"
    span = ""
    if result.first_timestamp and result.last_timestamp:
        span = f", {result.first_timestamp:%Y-%m-%d} to {result.last_timestamp:%Y-%m-%d} (UTC)"
    counts = ", ".join(
        plural(n, word)
        for n, word in (
            (result.events, "event"),
            (result.journeys, "journey"),
            (result.accounts, "account"),
            (result.activities, "activity"),
        )
    )
    print(f"{verb}: dataset {result.dataset_id}: {counts}{span}.")
    print(f"{result.rows_line()} {result.ties_line()}")
    for note in result.notes:
        print(note)
    if len(rejected):
        # One line per problem (a row may have several): "of N" counts problems when they outnumber rows.
        total = f"{len(rejected):,}" + (" problems" if len(rejected) != result.rejected_rows else "")
        shown = min(len(rejected), REJECTED_SHOWN)
        print(f"Rejected rows (first {shown} of {total}):" if len(rejected) > shown else "Rejected rows:")
        for row in rejected.head(REJECTED_SHOWN).itertuples(index=False):
            print(f"  row {row.row} (line {row.line}) {row.column}: {row.reason}: {row.value!r}")
        if len(rejected) > shown:
            where = (
                f"all in {args.rejected_out}"
                if args.rejected_out
                else f"--rejected-out FILE writes all {len(rejected):,} with their reasons as CSV"
            )
            print(f"  … and {len(rejected) - shown:,} more ({where}).")
    if wrote:
        print(wrote)
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="import an event log (CSV, .csv.gz, Excel .xlsx or Parquet) as a dataset",
        description="Import an event log. Encoding and delimiter are detected when not given. "
        "On bad input, exits with status 2 and the message the Data page would show.",
    )
    p.add_argument("file", help="the event log: .csv, .csv.gz, .xlsx or .parquet (told by its content)")
    add_reading_flags(p, required=True)
    p.add_argument("--map", type=int, metavar="MAP_ID", help="link the dataset to this map")
    p.add_argument("--progress", action="store_true", help="report progress on standard error")
    p.add_argument(
        "--rejected-out",
        metavar="FILE",
        help="with --allow-bad-rows: write every rejected row with its reason to FILE as CSV (also when every "
        "row is rejected)",
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=cmd_import)
