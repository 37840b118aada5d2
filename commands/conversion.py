"""What "converted" means for a dataset (and a map linked to it): show, set, clear, suggest."""

from __future__ import annotations

import argparse
from typing import Any

from commands.common import csv_list, emit_json


def _conversion_of_flags(args: argparse.Namespace) -> Any:
    from analytics.conversion import Conversion
    from core.errors import BadInputError

    goals, outcomes = csv_list(args.goal, "--goal"), csv_list(args.outcome, "--outcome")
    if bool(goals) == bool(outcomes):
        raise BadInputError(
            "conversion set needs --goal or --outcome (one of them)", expected='--goal "A,B" or --outcome "won"'
        )
    return Conversion(
        goals=goals,
        outcomes=outcomes,
        within_days=args.within_days,
        lost_goals=csv_list(args.lost_goal, "--lost-goal"),
        lost_outcomes=csv_list(args.lost_outcome, "--lost-outcome"),
    )


def _print_line(line: Any, fmt: str) -> None:
    from services.conversion import SCOPE_WORDS

    if fmt == "json":
        emit_json(line.to_dict())
    else:
        print(line.text)
        if line.scope != "none":  # the line itself says "not defined"
            print(f"({SCOPE_WORDS[line.scope]})")


def cmd_conversion_show(args: argparse.Namespace) -> int:
    from services.conversion import get_conversion_line

    _print_line(get_conversion_line(args.dataset, args.map), args.format)
    return 0


def cmd_conversion_set(args: argparse.Namespace) -> int:
    from services.conversion import set_conversion

    _print_line(set_conversion(args.dataset, _conversion_of_flags(args), map_id=args.map), args.format)
    return 0


def cmd_conversion_clear(args: argparse.Namespace) -> int:
    from services.conversion import clear_conversion

    where = f"dataset {args.dataset}" + (f" seen through map {args.map}" if args.map is not None else "")
    if clear_conversion(args.dataset, map_id=args.map):
        print(f"Cleared the conversion definition of {where}.")
    else:
        print(f"There was no conversion definition for {where}.")
    return 0


def cmd_conversion_suggest(args: argparse.Namespace) -> int:
    from services.context import open_context
    from services.conversion import suggest_conversions

    suggestions = suggest_conversions(open_context(args.dataset, args.map))
    if args.format == "json":
        emit_json(
            [{"definition": s.conversion.to_dict(), "text": s.conversion.describe(), "why": s.why} for s in suggestions]
        )
    else:
        for s in suggestions:
            print(f"{s.conversion.describe()}\t({s.why})")
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    conv = sub.add_parser(
        "conversion",
        help="what 'converted' means for a dataset (and a map linked to it): show, set, clear, suggest",
        description="Conversion is defined once per dataset (and optionally per map seen with it) and every "
        "report, page and the HTML report use it: reaching any of some goal nodes (touchpoints, activities or "
        "stages), optionally within N days of the journey's start, or a journey outcome among some values.",
    ).add_subparsers(dest="conversion_command", required=True)

    def common(p: argparse.ArgumentParser, *, fmt: bool = True) -> None:
        p.add_argument("--dataset", type=int, required=True, metavar="ID")
        p.add_argument("--map", type=int, metavar="MAP_ID", help="the definition for the dataset seen through this map")
        if fmt:
            p.add_argument("--format", choices=["text", "json"], default="text")

    p = conv.add_parser("show", help="the definition in effect and N of M journeys converting")
    common(p)
    p.set_defaults(handler=cmd_conversion_show)
    p = conv.add_parser("set", help="save the definition (names are checked; unknown ones are refused)")
    common(p)
    p.add_argument(
        "--goal", metavar='"A,B"', help="converts on reaching any of these touchpoints, activities or stages"
    )
    p.add_argument("--outcome", metavar='"won,..."', help="converts when the journey's outcome is one of these")
    p.add_argument("--within-days", type=float, metavar="N", help="with --goal: only within N days of the start")
    p.add_argument("--lost-goal", metavar='"X,Y"', help="lost on reaching any of these (outlook, friction)")
    p.add_argument("--lost-outcome", metavar='"lost,..."', help="lost when the journey's outcome is one of these")
    p.set_defaults(handler=cmd_conversion_set)
    p = conv.add_parser("clear", help="remove the saved definition")
    common(p, fmt=False)
    p.set_defaults(handler=cmd_conversion_clear)
    p = conv.add_parser("suggest", help="likely definitions (an outcome's values, a winning name, the last stage)")
    common(p)
    p.set_defaults(handler=cmd_conversion_suggest)
