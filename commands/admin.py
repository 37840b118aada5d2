"""Looking after the data directory: backup, restore, upgrade-datasets, check and audit."""

from __future__ import annotations

import argparse
from typing import Any

from commands.common import emit_json, positive_int


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


def add_backup(sub: argparse._SubParsersAction) -> None:
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


def cmd_upgrade_datasets(args: argparse.Namespace) -> int:
    from services.datasets import upgrade_datasets

    done = upgrade_datasets()
    if not done:
        print("Every stored dataset is up to date.")
    for d in done:
        print(f"Dataset {d.id} ({d.name}): {d.events:,} events rewritten with their stored facts in {d.seconds:.1f} s.")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from services.check import check_data_dir

    report = check_data_dir(repair=args.repair, deep=args.deep)
    if args.format == "json":
        emit_json(report.as_dict())
    else:
        for f in report.findings:
            state = "repaired" if f.repaired else "fix"
            print(f"[{f.check}] {f.subject}: {f.problem}. {state.capitalize()}: {f.fix}.")
        remaining = sum(not f.repaired for f in report.findings)
        print(
            f"{report.data_dir}: {len(report.findings)} findings, {remaining} left"
            f" ({report.datasets_checked} datasets checked, {report.seconds:.2f} s)."
            if report.findings
            else f"{report.data_dir}: healthy ({report.datasets_checked} datasets checked, {report.seconds:.2f} s)."
        )
    return 0 if report.healthy else 1


def cmd_audit(args: argparse.Namespace) -> int:
    from services.audit import audit_table

    table = audit_table(args.map, limit=args.limit)
    if args.format == "json":
        emit_json(table.to_dict(orient="records"))
    elif table.empty:
        print("No changes recorded" + (f" for map {args.map}." if args.map is not None else "."))
    else:
        for r in table.itertuples(index=False):
            target = f"{r.object} {'' if pd_isna(r.object_id) else int(r.object_id)}".strip()
            print(f"{r.when:%Y-%m-%d %H:%M:%S}\t{r.who}\t{r.action}\t{target}\t{r.summary}")
    return 0


def pd_isna(value: Any) -> bool:
    return value is None or value != value


def add_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check the data directory (database integrity, migrations, dataset files, leftovers); "
        "exit 0 healthy, 1 findings, 2 faults",
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument(
        "--repair",
        action="store_true",
        help="do the safe fixes: remove leftovers of killed operations, mark datasets whose file is missing",
    )
    p.add_argument("--deep", action="store_true", help="also read every page of every dataset file (slower)")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("audit", help="who changed what and when (maps, datasets, links, conversion definitions)")
    p.add_argument("--map", type=int, metavar="MAP_ID", help="only the changes concerning this map")
    p.add_argument(
        "--limit", type=positive_int, default=1000, help="at most this many (at least 1), newest first (default 1000)"
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=cmd_audit)


def add_upgrade(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "upgrade-datasets",
        help="store the neighbour and file facts in datasets imported before them (same results, faster analyses)",
    )
    p.set_defaults(handler=cmd_upgrade_datasets)
