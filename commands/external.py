"""External backends: register a table on another Ibis backend as a dataset, and check it."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict

from commands.common import emit_json


def _parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["journey=case_id", ...]`` → ``{"journey": "case_id", ...}``. Refused, never guessed: a pair
    without ``=``, an empty side, a role that does not exist (with the nearest real one) or a role
    given twice (the second would silently replace the first)."""
    from analytics.schema import Role
    from core.errors import BadInputError, UnknownNameError, close_names

    roles = [r.value for r in Role]
    out: dict[str, str] = {}
    for pair in pairs:
        role, sep, column = (part.strip() for part in pair.partition("="))
        if not sep or not role or not column:
            raise BadInputError("--map expects ROLE=COLUMN", value=pair, expected="e.g. journey=case_id")
        if role not in roles:
            near = close_names(role, roles)
            raise UnknownNameError(  # nothing close: every role named, not one called "some that exist"
                "role", role, near or roles, message=f"--map {pair!r}: no role {role!r}"
            )
        if role in out:
            raise BadInputError(
                f"--map gives the role {role!r} twice", value=f"{out[role]}, {column}", expected="one column per role"
            )
        out[role] = column
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


def add(sub: argparse._SubParsersAction) -> None:
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
