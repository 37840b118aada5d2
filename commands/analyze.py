"""``analyze``: a report of an event log (a file, imported first, or a stored dataset).

The flags make the one analysis context (dataset, map, journey query, conversion definition) and
each report's parameters; what a report prints is shaped by ``services.reports``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from commands.common import (
    OPTIONS_GIVEN,
    csv_list,
    emit_json,
    goals_lost,
    parse_date,
    positive_days,
    positive_int,
    start_up_done,
)
from commands.reading import add_reading_flags, import_file


@dataclass(frozen=True)
class ReportInput:
    """What every report handler gets: the one analysis context (dataset, map, query, conversion)
    and all the flags."""

    ctx: Any  # services.context.AnalysisContext
    args: argparse.Namespace


@dataclass(frozen=True)
class AnalyzeReport:
    """One ``analyze --report`` entry: its handler (a ``services.reports.ReportOutput`` from the flags),
    a help line, and optional extra flags.

    ``add_arguments`` adds the report's own flags to the one ``analyze`` parser (every report's flags
    are added, so names must not clash; the common ones, such as ``--goal``, ``--top``, ``--by`` and the
    journey filters, are already there)."""

    handler: Callable[[ReportInput], Any]
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None


def _report(name: str, params: Callable[[argparse.Namespace], dict[str, Any]] | None = None) -> Callable:
    """The handler of the report ``name`` of ``services.reports``, with ``params`` read off the flags."""

    def handler(rin: ReportInput) -> Any:
        from services.reports import run_report

        return run_report(name, rin.ctx, **(params(rin.args) if params else {}))

    return handler


def funnel_spec_from_args(args: argparse.Namespace) -> Any:
    """The FunnelSpec of the funnel flags (``--steps`` is required)."""
    from analytics.funnel import FunnelSpec, parse_step_windows
    from core.errors import BadInputError

    steps = csv_list(args.steps, "--steps")
    if not steps:
        raise BadInputError("the funnel report needs --steps", expected='--steps "A,B,C"')
    windows = parse_step_windows(args.step_windows_days, len(steps))
    return FunnelSpec(
        steps=steps,
        mode=args.mode,
        window_days=args.window_days,
        step_windows_days=windows,
        exclusions=tuple(args.exclude or ()),
        breakdown=args.breakdown,
        attribution=args.attribution,
    )


def _step_windows_arg(text: str) -> str:
    """An argparse type: ``"7,,30"``, each given window a number of days more than 0 (the count of
    values is checked against ``--steps`` later, by :func:`analytics.funnel.parse_step_windows`)."""
    for part in text.split(","):
        if part.strip():
            positive_days(part.strip())
    return text


def _weights_arg(text: str) -> Any:
    """``exit=0.3,backtrack=0.2,...`` → FrictionWeights (components not named keep their default)."""
    from analytics.friction import COMPONENTS, FrictionWeights
    from core.errors import BadInputError

    values = FrictionWeights().as_dict()
    try:
        items = csv_list(text)
    except BadInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    for item in items:
        name, sep, number = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"--weights takes NAME=NUMBER pairs of {', '.join(COMPONENTS)}: {item!r}")
        if name.strip() not in COMPONENTS:
            from core.errors import close_names

            nearest = close_names(name.strip(), list(COMPONENTS))
            near = f"nearest: {nearest[0]}; " if nearest else ""
            raise argparse.ArgumentTypeError(
                f"no component is named {name.strip()!r} ({near}one of {', '.join(COMPONENTS)})"
            )
        try:
            values[name.strip()] = float(number)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a number: {number!r}") from exc
    return FrictionWeights(**values)


def _metrics_options(args: argparse.Namespace) -> dict[str, Any]:
    from services.metrics import ComputeOptions

    options = ComputeOptions(
        period=args.period,
        window_days=args.fcr_window_days,
        gross_margin=args.gross_margin,
        support=csv_list(args.support, "--support"),
    )
    return {"options": options}


def _outlook_flags(p: argparse.ArgumentParser) -> None:
    """Flags of the outlook report."""
    # The light copy of analytics.outlook's defaults: building the parser imports no Ibis or pandas.
    from analytics.names import OUTLOOK_ACTIVE_DAYS as DEFAULT_ACTIVE_DAYS
    from analytics.names import OUTLOOK_MIN_TRANSITIONS as DEFAULT_MIN_TRANSITIONS

    g = p.add_argument_group("outlook")
    g.add_argument(
        "--as-of", type=parse_date, metavar="YYYY-MM-DD", help="outlook as of this day (default: the last event's)"
    )
    g.add_argument(
        "--active-days",
        type=positive_int,
        default=DEFAULT_ACTIVE_DAYS,
        metavar="N",
        help=f"open = an event in the last N days (default {DEFAULT_ACTIVE_DAYS})",
    )
    g.add_argument(
        "--min-transitions",
        type=positive_int,
        default=DEFAULT_MIN_TRANSITIONS,
        metavar="N",
        help=f"suggest a next best action taken by at least N similar journeys (default {DEFAULT_MIN_TRANSITIONS})",
    )
    g.add_argument(
        "--model",
        choices=["learned", "markov"],
        default="learned",
        help="learned (gradient boosting, calibrated; the default) or the first-order Markov chain",
    )
    g.add_argument(
        "--split-at",
        type=parse_date,
        metavar="YYYY-MM-DD",
        help="outlook-backtest: journeys starting before this day train, the others test (default: 2/3 of the range)",
    )


def _friction_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("friction")
    g.add_argument(
        "--weights",
        type=_weights_arg,
        metavar='"exit=0.3,backtrack=0.2"',
        help="component weights (default exit 0.3, backtrack 0.2, repeat 0.15, delay 0.15, feedback 0.2)",
    )


def _metrics_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("metrics")
    g.add_argument("--period", choices=["month", "quarter", "all"], default="month", help="metrics per period")
    g.add_argument("--gross-margin", type=float, default=1.0, help="CLV gross margin, 0..1 (default 1)")
    g.add_argument(
        "--fcr-window-days",
        type=positive_days,
        default=7.0,
        help="FCR without a flag: repeat-contact window in days, more than 0 (default 7)",
    )
    g.add_argument(
        "--support",
        metavar='"A,B"',
        help="FCR: the support touchpoints or stages (derives FCR where the log has no fcr column; with one, "
        "counts its cases at these only)",
    )


# Reports of `analyze`: add an entry to offer another. Each runs a report of services.reports, which
# runs analyses of the one registry (analytics.registry.ANALYSES) on the one context.
ANALYZE_REPORTS: dict[str, AnalyzeReport] = {
    "summary": AnalyzeReport(_report("summary"), "events, journeys, accounts, activities, time range, converted"),
    "transitions": AnalyzeReport(
        _report("transitions", lambda a: {"top": a.top}), "counts of consecutive node pairs, with (entry) and (exit)"
    ),
    "funnel": AnalyzeReport(
        _report("funnel", lambda a: {"spec": funnel_spec_from_args(a), "top": a.top}),
        "journeys at each of --steps, conversion, drop-off, time between steps",
    ),
    "variants": AnalyzeReport(
        _report("variants", lambda a: {"top": a.top, "by": a.by}), "top paths with count, share and conversion rate"
    ),
    "outcomes": AnalyzeReport(_report("outcomes"), "counts and shares of journey outcomes"),
    "nonlinearity": AnalyzeReport(
        _report("nonlinearity", lambda a: {"top": a.top}), "journeys moving back a stage, loops per journey, top loops"
    ),
    "sankey": AnalyzeReport(
        _report(
            "sankey",
            lambda a: {
                "steps": a.sankey_steps,
                "top_per_step": a.top,
                "anchor": a.anchor,
                "anchor_node": a.anchor_node,
            },
        ),
        "links of the Sankey unrolled by step",
    ),
    "time": AnalyzeReport(_report("time", lambda a: {"by": a.by}), "time in stage, and time to convert"),
    "friction": AnalyzeReport(
        _report("friction", lambda a: {"weights": a.weights}),
        "friction index 0-100 per touchpoint with its components (exits: journeys ending lost, or unconverted "
        "where no lost rule is set)",
        _friction_flags,
    ),
    "metrics": AnalyzeReport(
        _report("metrics", _metrics_options),
        "NPS, CSAT, CES, FCR, retention, CLV, conversion per --period, with target and status",
        _metrics_flags,
    ),
    "attribution": AnalyzeReport(
        _report("attribution"), "conversions credited by first/last touch, linear, 40/20/40, Markov (--by channel)"
    ),
    "outlook": AnalyzeReport(
        _report(
            "outlook",
            lambda a: {
                "as_of": a.as_of,
                "active_days": a.active_days,
                "min_transitions": a.min_transitions,
                "model": a.model,
            },
        ),
        "open journeys: probability of converting, next best action, lift (--as-of)",
        _outlook_flags,
    ),
    "outlook-backtest": AnalyzeReport(
        _report("outlook-backtest", lambda a: {"split_at": a.split_at, "active_days": a.active_days}),
        "the outlook's backtest: next-touchpoint accuracy, conversion AUC and Brier vs baselines (--split-at)",
    ),
}

# Which report uses which option (dests): an option given to a report that does not use it is said on
# standard error, never ignored silently. Every option of the `analyze` parser is here, in
# COMMON_OPTIONS or in READING_OPTIONS (tests/commands/test_analyze.py holds it); an option that a
# report added with its own `add_arguments` and that is not here is taken as that report's alone.
_CONVERSION_REPORTS = (  # services.reports.REPORTS entries with conversion=True (a test holds them equal)
    "summary", "variants", "sankey", "time", "friction", "metrics", "attribution", "outlook", "outlook-backtest",
)  # fmt: skip
OPTION_REPORTS: dict[str, tuple[str, ...]] = {
    "goal": _CONVERSION_REPORTS,
    "lost": _CONVERSION_REPORTS,
    # The node level and repeats: not read by summary and outcomes (counted before any node rule),
    # nonlinearity (stages), friction and metrics (every event at touchpoint level); time in stage
    # collapses repeats always.
    "by": ("transitions", "funnel", "variants", "sankey", "time", "attribution", "outlook", "outlook-backtest"),
    "keep_repeats": ("transitions", "funnel", "variants", "sankey", "attribution", "outlook", "outlook-backtest"),
    "top": ("transitions", "funnel", "variants", "nonlinearity", "sankey"),
    "steps": ("funnel",),
    "mode": ("funnel",),
    "window_days": ("funnel",),
    "step_windows_days": ("funnel",),
    "exclude": ("funnel",),
    "breakdown": ("funnel",),
    "attribution": ("funnel",),
    "stage_order": ("nonlinearity", "friction", "time"),
    "sankey_steps": ("sankey",),
    "anchor": ("sankey",),
    "anchor_node": ("sankey",),
    "weights": ("friction",),
    "period": ("metrics",),
    "gross_margin": ("metrics",),
    "fcr_window_days": ("metrics",),
    "support": ("metrics",),
    "as_of": ("outlook",),
    "active_days": ("outlook", "outlook-backtest"),
    "min_transitions": ("outlook",),
    "model": ("outlook",),
    "split_at": ("outlook-backtest",),
}
# Options every report reads: the source, the output, and the journey query's level and filters.
COMMON_OPTIONS = frozenset(
    {"help", "file", "dataset", "map", "report", "format", "level", "date_from", "date_to",
     "filter_channel", "filter_role", "filter_outcome", "filter_segment", "through"}
)  # fmt: skip
# The flags of `import` (commands.reading.add_reading_flags): read only when analyzing a FILE.
_reading = argparse.ArgumentParser(add_help=False)
add_reading_flags(_reading, required=False)
READING_OPTIONS = frozenset(a.dest for a in _reading._actions)
del _reading
# The dests each report's own `add_arguments` added (filled by `add`): a plugged report's flags.
_ADDED_BY: dict[str, set[str]] = {}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def unused_option_notes(args: argparse.Namespace) -> list[str]:
    """A note for each option given that this run does not use: one the chosen report does not read
    (:data:`OPTION_REPORTS`), or a CSV-reading flag given with ``--dataset``."""
    notes = []
    for dest in sorted(getattr(args, OPTIONS_GIVEN, ())):
        if dest in READING_OPTIONS:
            if args.file is None:
                notes.append(f"note: {_flag(dest)} is not used with --dataset (it reads a FILE being analysed)")
            continue
        if dest in COMMON_OPTIONS:
            continue
        users = OPTION_REPORTS.get(dest) or tuple(name for name, dests in _ADDED_BY.items() if dest in dests)
        if users and args.report not in users:
            notes.append(
                f"note: {_flag(dest)} is not used by the {args.report} report (it is used by: {', '.join(users)})"
            )
    return notes


def csv_left_out(payload: Any, table: Any) -> list[str]:
    """The parts of a report's JSON that its CSV table does not hold, by name ("NAME (in part)" when
    the table holds some of it).

    A JSON object's field is in the CSV when the table has a column of that name, or when it is a list
    of rows whose fields are all columns (the table's own rows); it is there in part when a text cell
    of the table names it (a long table: ``next touchpoint accuracy``). A JSON row's field is in the
    CSV when it is a column or a plain value (the CSV may show it under another name or unit, e.g. a
    rate in percent); a nested one (a list or an object) without its column is left out, in part when
    a column is named after one of its keys (``contrib_exit`` of ``components.exit``)."""
    columns = set() if table is None else {str(c) for c in table.columns}
    if isinstance(payload, dict):
        texts = set() if table is None else {v for c in table.columns for v in table[c].unique() if isinstance(v, str)}
        out = []
        for key, value in payload.items():
            if value is None or value == [] or value == {}:  # nothing to leave out
                continue
            rows = isinstance(value, list) and value and all(isinstance(r, dict) for r in value)
            if key in columns or (rows and all(set(r) <= columns for r in value)):
                continue
            words = key.replace("_", " ").casefold()
            in_part = any(t.casefold().startswith(words) for t in texts)
            out.append(f"{key} (in part)" if in_part else key)
        return out
    if isinstance(payload, list):
        tokens = {t for c in columns for t in c.split("_")}
        out = []
        for key in sorted(
            {k for r in payload if isinstance(r, dict) for k, v in r.items() if isinstance(v, dict | list)}
        ):
            if key in columns:
                continue
            keys = {k for r in payload if isinstance(r.get(key), dict) for k in r[key]}
            out.append(f"{key} (in part)" if keys & tokens else key)
        return out
    return []


def conversion_from_args(args: argparse.Namespace, saved: Any) -> Any:
    """The one-run override of the saved definition (``saved``) from ``--goal "A,B"`` and ``--lost
    "X,Y"`` (:func:`analytics.conversion.for_one_run`), or None."""
    from analytics.conversion import for_one_run

    return for_one_run(saved, *goals_lost(args))


def query_from_args(args: argparse.Namespace) -> Any:
    """The JourneyQuery of the analyze flags (a date range ending before it starts is refused)."""
    from analytics.journeys import JourneyQuery
    from core.errors import BadInputError

    if args.date_from is not None and args.date_to is not None and args.date_from > args.date_to:
        raise BadInputError(
            f"--date-from {args.date_from} is after --date-to {args.date_to}: no day is in that range",
            expected="--date-from on or before --date-to",
        )
    segments = []
    for item in args.filter_segment or ():
        name, sep, text = item.partition("=")
        values = csv_list(text) if text.strip() else ()
        if not sep or not values:
            raise BadInputError("--filter-segment takes NAME=V1,V2", value=item, expected="NAME=V1,V2")
        segments.append((name, values))
    return JourneyQuery(
        level=args.level,
        by=args.by or "touchpoint",
        collapse_repeats=not args.keep_repeats,
        date_from=args.date_from,
        date_to=args.date_to,
        channels=tuple(args.filter_channel or ()),
        roles=tuple(args.filter_role or ()),
        outcomes=tuple(args.filter_outcome or ()),
        segments=tuple(segments),
        through=tuple(args.through or ()),
    )


def open_analyze_context(dataset_id: int, args: argparse.Namespace) -> Any:
    """The one analysis context of the analyze flags: dataset, map, query, and the saved conversion
    definition unless ``--goal`` / ``--lost`` override it for this run (unknown names are refused)."""
    from services.context import open_context, override_conversion

    order = csv_list(getattr(args, "stage_order", None), "--stage-order") or None
    if args.report not in OPTION_REPORTS["stage_order"]:
        order = None  # a report that does not use it: named by the unused-option note, not checked
    ctx = open_context(dataset_id, args.map, query=query_from_args(args), stage_order=order)
    override = conversion_from_args(args, ctx.conversion)
    return ctx if override is None else override_conversion(ctx, override)


def _import_first(args: argparse.Namespace) -> int:
    """Import ``args.file`` as ``import`` would; its dataset id. The table goes to standard output:
    what became of the file's rows goes to standard error."""
    from core.errors import BadInputError

    if not (args.journey and args.time and args.activity):
        raise BadInputError(
            "analyzing a file needs its column mapping", expected="--journey COL --time COL --activity COL"
        )
    result = import_file(args.file, args)
    print(
        ("Imported: " if result.created else "Already imported (nothing added): ") + result.rows_line(), file=sys.stderr
    )
    return result.dataset_id


_FILTERS = ("date_from", "date_to", "filter_channel", "filter_role", "filter_outcome", "filter_segment", "through")


def _is_empty(output: Any) -> bool:
    """True when a report has nothing to show: no JSON rows, or no journey counted (a count of
    ``journeys`` that is 0, or rows that each count 0 journeys: a funnel of no journey keeps its steps).
    An empty list beside counted journeys (no loop among journeys that never move back) is a result."""
    payload, table = output.payload, output.table
    if isinstance(payload, list):
        return not payload or (table is not None and len(table) == 0)
    if not isinstance(payload, dict):
        return False
    if not payload:
        return True
    if "journeys" in payload:
        return payload["journeys"] == 0
    counted = [r for v in payload.values() if isinstance(v, list) for r in v if isinstance(r, dict) and "journeys" in r]
    return bool(counted) and all(r["journeys"] == 0 for r in counted)


def empty_result_notes(ctx: Any, output: Any, args: argparse.Namespace) -> list[str]:
    """Why an empty report is empty, in one note: the filters keep no journey (with the log's time
    span when a date filter is given), or the report finds nothing in the journeys kept."""
    if not _is_empty(output):
        return []
    from services.analysis import run

    filters = [f"{_flag(d)} {', '.join(map(str, v)) if isinstance(v, list) else v}" for d in _FILTERS
               if (v := getattr(args, d, None))]  # fmt: skip
    kept = int(run("summary", ctx).iloc[0]["journeys"])
    if kept == 0 and filters:
        text = f"note: the {args.report} report is empty: no journeys match the filters ({'; '.join(filters)})"
        if args.date_from is not None or args.date_to is not None:
            whole = run("summary", ctx.unfiltered()).iloc[0]
            first, last = whole["first_timestamp"], whole["last_timestamp"]
            if first is not None and last is not None and first == first:  # NaT != NaT
                text += f"; the log's events run from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
        return [text]
    if kept == 0:
        return [f"note: the {args.report} report is empty: dataset {ctx.dataset_id} has no journeys"]
    return [f"note: the {args.report} report is empty for the {kept:,} journeys kept"]


def cmd_analyze(args: argparse.Namespace) -> int:
    from analytics.registry import ANALYSES
    from core.errors import BadInputError, ConversionUndefinedError
    from services.conversion import event_filter_note
    from services.csv_safety import to_safe_csv

    if (args.file is None) == (args.dataset is None):
        raise BadInputError(
            "analyze reads a FILE or a stored --dataset ID: "
            + ("both were given" if args.file is not None else "neither was given"),
            expected="one of them",
        )
    if args.file is not None:
        start_up_done(freeze=False)  # an import to do first: the collector as usual
    dataset_id = args.dataset if args.dataset is not None else _import_first(args)
    report = ANALYZE_REPORTS[args.report]
    ctx = open_analyze_context(dataset_id, args)
    ctx.events()  # connects the engine and registers the events (the report reads them again)
    start_up_done()
    entry = ANALYSES.get(args.report.replace("-", "_"))  # the registry's name ("outlook-backtest" is outlook_backtest)
    needs_conversion = entry is not None and entry.needs_conversion
    if not ctx.conversion.defined and needs_conversion:
        raise ConversionUndefinedError(
            f"the {args.report} report of dataset {dataset_id}",
            how=f'python cli.py conversion set --dataset {dataset_id} --goal "A,B" (or --outcome "won"), '
            'or --goal "A,B" for this run',
        )
    output = report.handler(ReportInput(ctx=ctx, args=args))
    notes = [*unused_option_notes(args), *getattr(output, "notes", ())]
    if note := event_filter_note(ctx.query):  # a channel, role or segment filter keeps events, not journeys
        notes.append(f"note: {note}")
    if args.report in OPTION_REPORTS["keep_repeats"] and not args.keep_repeats:  # a default that moves numbers
        notes.append("note: consecutive repeats of a node count once (--keep-repeats keeps them)")
    if args.map is not None:  # a log seen through a map it is not linked to: said, as on the pages
        from services.linking import foreign_map_note

        foreign = foreign_map_note(dataset_id, args.map)
        if foreign:
            notes.insert(0, f"note: {foreign}")
    if not getattr(output, "notes", ()):  # a report that says why it is empty (outlook) needs no second reason
        notes += empty_result_notes(ctx, output, args)
    if args.format == "csv":
        left_out = csv_left_out(output.payload, output.table)
        if left_out:
            notes.append(
                f"note: the CSV of the {args.report} report leaves out {', '.join(left_out)}; --format json has them"
            )
    for note in notes:
        print(note, file=sys.stderr)
    if args.format == "csv":
        sys.stdout.flush()
        sys.stdout.buffer.write(to_safe_csv(output.table))
        sys.stdout.buffer.flush()
    else:
        emit_json(output.payload)
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    reports = "\n".join(f"  {name:<13} {r.help}" for name, r in ANALYZE_REPORTS.items())
    p = sub.add_parser(
        "analyze",
        help="analyse an event log (a CSV, imported first, or a stored dataset)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Reports:\n" + reports,
    )
    p.add_argument("file", nargs="?", help="a CSV event log to import and analyse (or use --dataset)")
    p.add_argument("--dataset", type=int, metavar="ID", help="analyse a stored dataset")
    p.add_argument("--map", type=int, metavar="MAP_ID", help="the journey map to link (default: the dataset's)")
    p.add_argument("--report", choices=list(ANALYZE_REPORTS), default="summary")
    p.add_argument("--format", choices=["json", "csv"], default="json")
    g = p.add_argument_group("journeys")
    g.add_argument("--level", choices=["contact", "account"], default="contact")
    g.add_argument(
        "--by",
        choices=["touchpoint", "stage", "channel"],
        help="node level (default: touchpoint; stage for time and variants when the log has a stage column or "
        "a linked map; the outlook reports learn touchpoints or stages, not channels)",
    )
    g.add_argument("--keep-repeats", action="store_true", help="keep consecutive repeats of a node")
    g.add_argument("--date-from", type=parse_date, metavar="YYYY-MM-DD")
    g.add_argument("--date-to", type=parse_date, metavar="YYYY-MM-DD")
    g.add_argument("--filter-channel", action="append", metavar="VALUE", help="keep events on this channel (repeat)")
    g.add_argument("--filter-role", action="append", metavar="VALUE", help="keep events of this contact role (repeat)")
    g.add_argument(
        "--filter-outcome", action="append", metavar="VALUE", help="keep journeys with this outcome (repeat)"
    )
    g.add_argument(
        "--filter-segment", action="append", metavar="NAME=V1,V2", help="keep events in these segment values"
    )
    g.add_argument("--through", action="append", metavar="NODE", help="keep journeys reaching this touchpoint or stage")
    g.add_argument(
        "--goal",
        metavar='"A,B"',
        help="for this run, converts on reaching any of these nodes (default: the saved definition, "
        "see `conversion show`)",
    )
    g.add_argument("--lost", action="append", metavar='"X,Y"', help="for this run, lost on reaching any of these nodes")
    g.add_argument(
        "--top",
        type=positive_int,
        metavar="N",
        help="rows to keep: transitions (default all), variants (20), loops (10), funnel breakdown values (10, "
        "the rest as (other)), Sankey nodes per step (8, the rest as Other)",
    )
    g = p.add_argument_group("funnel")
    g.add_argument("--steps", metavar='"A,B,C"', help="funnel steps, in order")
    g.add_argument("--mode", choices=["ordered", "strict", "immediate", "any"], default="ordered")
    g.add_argument("--window-days", type=positive_days, default=90.0, help="conversion window from step 1 (default 90)")
    g.add_argument(
        "--step-windows-days", type=_step_windows_arg, metavar='"7,,30"', help="per-step windows in days (empty: none)"
    )
    g.add_argument("--exclude", action="append", metavar="NODE", help="exclusion step (repeat)")
    g.add_argument("--breakdown", metavar="COL", help="break the funnel down by this column")
    g.add_argument(
        "--attribution", choices=["first", "last"], default="first", help="breakdown value from step 1 or the last step"
    )
    g = p.add_argument_group("paths, loops and flows")
    g.add_argument(
        "--stage-order",
        metavar='"A,B,C"',
        help="stage order for loops, friction and time in stage when no map is linked",
    )
    g.add_argument("--sankey-steps", type=positive_int, default=5, help="columns of the step Sankey (default 5)")
    g.add_argument("--anchor", choices=["start", "end"], default="start")
    g.add_argument("--anchor-node", metavar="NODE", help="start (or end) the Sankey at this node")
    add_reading_flags(p.add_argument_group("reading a CSV (the flags of `import`)"), required=False)
    for name, report in ANALYZE_REPORTS.items():
        if report.add_arguments is not None:
            before = {a.dest for a in p._actions}
            report.add_arguments(p)
            _ADDED_BY[name] = {a.dest for a in p._actions} - before
    p.set_defaults(handler=cmd_analyze, quick_start=True)  # it calls start_up_done()
