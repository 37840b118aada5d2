"""JourneyLens from a terminal: the same services as the app, on the same data directory.

python cli.py --help
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
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


# --------------------------------------------------------------------------- analyze


@dataclass(frozen=True)
class ReportOutput:
    """What a report prints: ``payload`` as JSON, or ``table`` as CSV (``--format csv``)."""

    payload: Any
    table: Any  # a pandas DataFrame


@dataclass(frozen=True)
class ReportInput:
    """What every report handler gets: the one analysis context (dataset, map, query, conversion)
    and all the flags."""

    ctx: Any  # services.context.AnalysisContext
    args: argparse.Namespace


@dataclass(frozen=True)
class AnalyzeReport:
    """One ``analyze --report`` entry: its handler, a help line, and optional extra flags.

    ``add_arguments`` adds the report's own flags to the one ``analyze`` parser (every report's flags
    are added, so names must not clash; the common ones, such as ``--goal``, ``--top``, ``--by`` and the
    journey filters, are already there). ``conversion``: its figures depend on the conversion
    definition, which its JSON rows and CSV name in a ``conversion`` field."""

    handler: Callable[[ReportInput], ReportOutput]
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    conversion: bool = False


def _json_safe(value: Any) -> Any:
    """NaN/NA → None, numpy scalars → Python, recursively (JSON has no NaN)."""
    import math

    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is not None and type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value


def _records(frame: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
    return [_json_safe({c: row[c] for c in columns}) for row in frame.to_dict("records")]


def _csv_list(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _run(rin: ReportInput, name: str, **params: Any) -> Any:
    from services.analysis import run

    return run(name, rin.ctx, **params)


def _report_summary(rin: ReportInput) -> ReportOutput:
    from analytics.summary import summary_record
    from services.conversion import conversion_text

    frame = _run(rin, "summary")
    record = summary_record(frame)
    record["conversion"] = conversion_text(rin.ctx.conversion, record["converted"], record["journeys"])
    return ReportOutput(_json_safe(record), frame.assign(conversion=record["conversion"]))


def _report_transitions(rin: ReportInput) -> ReportOutput:
    frame = _run(rin, "transitions", top=rin.args.top)
    return ReportOutput(_records(frame, ["source", "target", "count"]), frame)


def funnel_spec_from_args(args: argparse.Namespace) -> Any:
    """The FunnelSpec of the funnel flags (``--steps`` is required)."""
    from analytics.funnel import FunnelSpec, parse_step_windows
    from core.errors import BadInputError

    steps = _csv_list(args.steps)
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


FUNNEL_JSON = [
    "step",
    "journeys",
    "conversion_from_start",
    "conversion_from_previous",
    "dropped",
    "median_seconds_from_previous",
    "p90_seconds_from_previous",
]


def _report_funnel(rin: ReportInput) -> ReportOutput:
    """The funnel's steps, with its mode and window stated (a funnel's conversion is within its window,
    not the all-time conversion)."""
    import pandas as pd

    spec = funnel_spec_from_args(rin.args)
    frame = _run(rin, "funnel", spec=spec)
    payload: dict[str, Any] = {
        "mode": spec.mode,
        "window_days": spec.window_days,
        "step_windows_days": list(spec.step_windows_days),
        "steps": _records(frame, FUNNEL_JSON),
    }
    table = frame
    if spec.breakdown:
        per = _run(rin, "funnel_breakdown", spec=spec, top=rin.args.top or 10)
        payload["breakdown"] = {
            str(value): _records(part, FUNNEL_JSON) for value, part in per.groupby("breakdown", sort=False)
        }
        table = pd.concat([frame.assign(breakdown="(all)"), per], ignore_index=True)
        table = table[["breakdown", *[c for c in table.columns if c != "breakdown"]]]
    return ReportOutput(payload, table.assign(window_days=spec.window_days))


def _report_variants(rin: ReportInput) -> ReportOutput:
    from dataclasses import replace

    query = rin.ctx.query
    if rin.args.by is None and rin.ctx.has_stages:
        query = replace(query, by="stage")  # variants default to the stage level
    from services.analysis import run

    frame = run("variants", rin.ctx, query=query, top=rin.args.top or 20)
    payload = [
        _json_safe(
            {
                "path": list(r["path"]),
                "journeys": r["journeys"],
                "share": r["share"],
                "conversion_rate": r["conversion_rate"],
            }
        )
        for r in frame.to_dict("records")
    ]
    table = frame.drop(columns=["path"]).rename(columns={"path_label": "path"})
    return ReportOutput(payload, table)


def _report_outcomes(rin: ReportInput) -> ReportOutput:
    frame = _run(rin, "outcomes")
    return ReportOutput(_records(frame, ["outcome", "journeys", "share"]), frame)


def _report_nonlinearity(rin: ReportInput) -> ReportOutput:
    frame = _run(rin, "nonlinearity")
    loops = _run(rin, "top_loops", top=rin.args.top or 10)
    payload = _records(frame, list(frame.columns))[0]
    payload["stage_order"] = _run(rin, "stage_order")
    payload["top_loops"] = _records(loops, list(loops.columns))
    return ReportOutput(payload, frame)


def _report_sankey(rin: ReportInput) -> ReportOutput:
    frame = _run(
        rin,
        "sankey",
        steps=rin.args.sankey_steps,
        top_per_step=rin.args.top or 8,
        anchor=rin.args.anchor,
        anchor_node=rin.args.anchor_node,
    )
    return ReportOutput(_records(frame, list(frame.columns)), frame)


def _report_time(rin: ReportInput) -> ReportOutput:
    from dataclasses import replace

    from services.analysis import run

    stages = run("time_in_stage", rin.ctx, query=replace(rin.ctx.query, by=rin.args.by or "stage"))
    payload: dict[str, Any] = {"time_in_stage": _records(stages, list(stages.columns))}
    if rin.ctx.conversion.defined:
        conv = _run(rin, "time_to_convert")
        payload["time_to_convert"] = _records(conv, list(conv.columns))[0]
    return ReportOutput(payload, stages)


def _report_attribution(rin: ReportInput) -> ReportOutput:
    """Conversions credited by five models, per touchpoint (``--by channel``: per channel)."""
    from dataclasses import replace

    from services.analysis import run
    from services.attribution import attribution_records

    by = rin.ctx.query.by  # touchpoint (default), stage or channel: what gets the credit
    result = run("attribution", rin.ctx, query=replace(rin.ctx.query, by="touchpoint"), by=by)
    return ReportOutput(attribution_records(result), result.table)


def _report_outlook(rin: ReportInput) -> ReportOutput:
    """Open journeys: probability of converting, next best action and its lift."""
    from dataclasses import replace

    from services.analysis import run
    from services.attribution import compute_ranked_open_journeys, outlook_records

    query = replace(rin.ctx.query, by="touchpoint") if rin.ctx.query.by == "channel" else rin.ctx.query
    result = run(
        "outlook",
        rin.ctx,
        query=query,
        as_of=rin.args.as_of,
        active_days=rin.args.active_days,
        min_transitions=rin.args.min_transitions,
        model=rin.args.model,
    )
    if result.model_note:
        print(result.model_note, file=sys.stderr)
    if result.empty_reason:
        print(f"no open journey: {result.empty_reason}", file=sys.stderr)
    return ReportOutput(outlook_records(result), compute_ranked_open_journeys(result))


def _add_outlook_flags(p: argparse.ArgumentParser) -> None:
    """Flags of the outlook report."""
    # The light copy of analytics.outlook's defaults: building the parser imports no Ibis or pandas.
    from analytics.names import OUTLOOK_ACTIVE_DAYS as DEFAULT_ACTIVE_DAYS
    from analytics.names import OUTLOOK_MIN_TRANSITIONS as DEFAULT_MIN_TRANSITIONS

    g = p.add_argument_group("outlook")
    g.add_argument(
        "--as-of", type=_date, metavar="YYYY-MM-DD", help="outlook as of this day (default: the last event's)"
    )
    g.add_argument(
        "--active-days",
        type=int,
        default=DEFAULT_ACTIVE_DAYS,
        metavar="N",
        help=f"open = an event in the last N days (default {DEFAULT_ACTIVE_DAYS})",
    )
    g.add_argument(
        "--min-transitions",
        type=int,
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
        type=_date,
        metavar="YYYY-MM-DD",
        help="outlook-backtest: journeys starting before this day train, the others test (default: 2/3 of the range)",
    )


def _report_outlook_backtest(rin: ReportInput) -> ReportOutput:
    """The outlook's backtest: next-touchpoint accuracy and conversion AUC/Brier against baselines
    (its flags, ``--split-at`` and ``--active-days``, are the outlook's)."""
    from dataclasses import replace

    from services.analysis import run
    from services.attribution import compute_backtest_table

    query = replace(rin.ctx.query, by="touchpoint") if rin.ctx.query.by == "channel" else rin.ctx.query
    result = run("outlook_backtest", rin.ctx, query=query, split_at=rin.args.split_at, active_days=rin.args.active_days)
    table = compute_backtest_table(result)
    return ReportOutput(result.to_json(), table)


def _weights_arg(text: str) -> Any:
    """``exit=0.3,backtrack=0.2,...`` → FrictionWeights (components not named keep their default)."""
    from analytics.friction import COMPONENTS, FrictionWeights

    values = FrictionWeights().as_dict()
    for item in _csv_list(text):
        name, sep, number = item.partition("=")
        if not sep or name.strip() not in COMPONENTS:
            raise argparse.ArgumentTypeError(f"--weights takes NAME=NUMBER pairs of {', '.join(COMPONENTS)}: {item!r}")
        try:
            values[name.strip()] = float(number)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a number: {number!r}") from exc
    return FrictionWeights(**values)


def _report_friction(rin: ReportInput) -> ReportOutput:
    from analytics.friction import FrictionWeights
    from services.friction import compute_context_friction, compute_friction_table, friction_report

    result = compute_context_friction(rin.ctx, weights=rin.args.weights or FrictionWeights())
    return ReportOutput(_json_safe(friction_report(result)), compute_friction_table(result))


def _report_metrics(rin: ReportInput) -> ReportOutput:
    from services.metrics import ComputeOptions, compute_context_metrics

    options = ComputeOptions(
        period=rin.args.period,
        window_days=rin.args.fcr_window_days,
        gross_margin=rin.args.gross_margin,
        support=_csv_list(rin.args.support),
    )
    table = compute_context_metrics(rin.ctx, options=options)
    columns = ["metric", "scope", "period", "value", "base", "target", "status"]
    return ReportOutput(_records(table, columns), table)


def _friction_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("friction")
    g.add_argument(
        "--weights",
        type=_weights_arg,
        metavar='"exit=0.3,backtrack=0.2"',
        help="component weights (default exit 0.3, backtrack 0.2, repeat 0.15, delay 0.15, feedback 0.2)",
    )


def _metrics_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("metrics")
    g.add_argument("--period", choices=["month", "quarter", "all"], default="month", help="metrics per period")
    g.add_argument("--gross-margin", type=float, default=1.0, help="CLV gross margin, 0..1 (default 1)")
    g.add_argument("--fcr-window-days", type=float, default=7.0, help="FCR without a flag: repeat-contact window")
    g.add_argument("--support", metavar='"A,B"', help="FCR without a flag: support touchpoints or stages")


# Reports of `analyze`: add an entry to offer another. Each runs analyses of the one registry
# (analytics.registry.ANALYSES) on the one context.
ANALYZE_REPORTS: dict[str, AnalyzeReport] = {
    "summary": AnalyzeReport(
        _report_summary, "events, journeys, accounts, activities, time range, converted", conversion=True
    ),
    "transitions": AnalyzeReport(_report_transitions, "counts of consecutive node pairs, with (entry) and (exit)"),
    "funnel": AnalyzeReport(_report_funnel, "journeys at each of --steps, conversion, drop-off, time between steps"),
    "variants": AnalyzeReport(_report_variants, "top paths with count, share and conversion rate", conversion=True),
    "outcomes": AnalyzeReport(_report_outcomes, "counts and shares of journey outcomes"),
    "nonlinearity": AnalyzeReport(_report_nonlinearity, "journeys moving back a stage, loops per journey, top loops"),
    "sankey": AnalyzeReport(_report_sankey, "links of the Sankey unrolled by step", conversion=True),
    "time": AnalyzeReport(_report_time, "time in stage, and time to convert", conversion=True),
    "friction": AnalyzeReport(
        _report_friction,
        "friction index 0-100 per touchpoint with its components (exits: journeys ending unconverted)",
        _friction_arguments,
        conversion=True,
    ),
    "metrics": AnalyzeReport(
        _report_metrics,
        "NPS, CSAT, CES, FCR, retention, CLV, conversion per --period, with target and status",
        _metrics_arguments,
        conversion=True,
    ),
    "attribution": AnalyzeReport(
        _report_attribution,
        "conversions credited by first/last touch, linear, 40/20/40, Markov (--by channel)",
        conversion=True,
    ),
    "outlook": AnalyzeReport(
        _report_outlook,
        "open journeys: probability of converting, next best action, lift (--as-of)",
        _add_outlook_flags,
        conversion=True,
    ),
    "outlook-backtest": AnalyzeReport(
        _report_outlook_backtest,
        "the outlook's backtest: next-touchpoint accuracy, conversion AUC and Brier vs baselines (--split-at)",
        conversion=True,
    ),
}


def _name_conversion(output: ReportOutput, text: str) -> ReportOutput:
    """The conversion definition named in every JSON row (or the JSON object) and as a CSV column."""
    payload = output.payload
    if isinstance(payload, list):
        payload = [{**row, "conversion": text} if isinstance(row, dict) else row for row in payload]
    elif isinstance(payload, dict) and "conversion" not in payload:
        payload = {**payload, "conversion": text}
    table = output.table
    if table is not None and hasattr(table, "assign") and "conversion" not in getattr(table, "columns", ()):
        table = table.assign(conversion=text)
    return ReportOutput(payload, table)


def conversion_from_args(args: argparse.Namespace, saved: Any) -> Any:
    """A one-run override of the saved definition (``saved``) from ``--goal "A,B"`` and ``--lost "X,Y"``,
    or None. ``--goal`` replaces what converts and keeps the saved lost definition unless ``--lost``
    is given; ``--lost`` alone keeps what converts."""
    from analytics.conversion import Conversion

    goals = _csv_list(getattr(args, "goal", None))
    lost = _csv_list(",".join(getattr(args, "lost", None) or ()))
    if not goals and not lost:
        return None
    if goals and lost:
        return Conversion(goals=goals, lost_goals=lost)
    if goals:
        return Conversion(goals=goals, lost_goals=saved.lost_goals, lost_outcomes=saved.lost_outcomes)
    return Conversion(goals=saved.goals, outcomes=saved.outcomes, within_days=saved.within_days, lost_goals=lost)


def cmd_report(args: argparse.Namespace) -> int:
    from analytics.conversion import Conversion
    from services.report import write_map_report

    goals = _csv_list(args.goal)
    report = write_map_report(
        args.map_id,
        args.out,
        dataset_id=args.dataset,
        csv_dir=args.csv_dir,
        measure=args.measure,
        conversion=Conversion(goals=goals) if goals else None,
    )
    print(f"Wrote {args.out} ({len(report.html) // 1024} KiB, {len(report.tables)} tables).")
    if args.csv_dir:
        print(f"Wrote {len(report.tables)} CSV files to {args.csv_dir}.")
    return 0


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


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report of one map (and its tables as CSV)")
    p.add_argument("map_id", type=int, metavar="MAP_ID")
    p.add_argument("--out", required=True, metavar="FILE.html")
    p.add_argument("--dataset", type=int, metavar="ID", help="event log to report on (default: the map's linked one)")
    p.add_argument("--csv-dir", metavar="DIR", help="also write every table of the report as CSV into DIR")
    p.add_argument("--measure", choices=REPORT_MEASURES, default="friction", help="measure laid over the map grid")
    p.add_argument(
        "--goal",
        metavar='"A,B"',
        help="converts on reaching these nodes, for this report only (default: the dataset's saved definition)",
    )
    p.set_defaults(handler=cmd_report)


# --------------------------------------------------------------------------- conversion


def _conversion_of_flags(args: argparse.Namespace) -> Any:
    from analytics.conversion import Conversion
    from core.errors import BadInputError

    goals, outcomes = _csv_list(args.goal), _csv_list(args.outcome)
    if bool(goals) == bool(outcomes):
        raise BadInputError(
            "conversion set needs --goal or --outcome (one of them)", expected='--goal "A,B" or --outcome "won"'
        )
    return Conversion(
        goals=goals,
        outcomes=outcomes,
        within_days=args.within_days,
        lost_goals=_csv_list(args.lost_goal),
        lost_outcomes=_csv_list(args.lost_outcome),
    )


def _print_line(line: Any, fmt: str) -> None:
    from services.conversion import SCOPE_WORDS

    if fmt == "json":
        emit_json(line.to_dict())
    else:
        print(line.text)
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


def _add_conversion(sub: argparse._SubParsersAction) -> None:
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


def add_import_column_flags(p: argparse.ArgumentParser) -> None:
    """The column and reading flags of ``import`` (same names and meaning), for ``analyze FILE``."""
    g = p.add_argument_group("reading a CSV (the flags of `import`)")
    g.add_argument("--name", help="dataset name (default: the file name)")
    g.add_argument("--journey", metavar="COL", help="journey id column")
    g.add_argument("--time", metavar="COL", help="timestamp column")
    g.add_argument("--activity", metavar="COL", help="activity column")
    for role in ("account", "contact", "role", "channel", "stage", "outcome", "value", "nps", "csat", "effort", "fcr"):
        g.add_argument(f"--{role}", metavar="COL", help=f"{role} column")
    g.add_argument("--segment", metavar="COL", action="append", default=[], help="segment column (repeatable)")
    g.add_argument("--dayfirst", action="store_true", help="dates like 03/04/2024 are day-first (default: detected)")
    g.add_argument("--tz", default="UTC", metavar="ZONE", help="time zone of timestamps without an offset")
    g.add_argument("--date-only", action="store_true", help="keep only the date of each timestamp")
    g.add_argument("--encoding", metavar="NAME", help="file encoding (default: detected)")
    g.add_argument("--delimiter", metavar="CHAR", help="delimiter (default: detected)")
    g.add_argument("--sheet", metavar="NAME", help="the sheet of an Excel .xlsx workbook (default: the first)")
    g.add_argument(
        "--where", action="append", type=_where_pair, metavar="COL=VALUE", help="keep rows where COL equals VALUE"
    )
    g.add_argument("--allow-bad-rows", action="store_true", help="import the good rows and skip the bad ones")
    g.add_argument(
        "--drop-identical-rows",
        action="store_true",
        help="drop rows identical in every column to an earlier row (default: every row is an event)",
    )


def import_from_args(path: str, args: argparse.Namespace) -> int:
    """Import ``path`` as ``import`` would (re-importing the same file adds nothing). Returns the dataset id."""
    from pathlib import Path

    from analytics.schema import ColumnMapping
    from core.errors import BadInputError
    from services.importer import ImportOptions, import_event_log

    if not (args.journey and args.time and args.activity):
        raise BadInputError(
            "analyzing a file needs its column mapping", expected="--journey COL --time COL --activity COL"
        )
    roles = ("account", "contact", "role", "channel", "stage", "outcome", "value", "nps", "csat", "effort", "fcr")
    mapping = ColumnMapping.of(
        segments=tuple(args.segment or ()),
        journey=args.journey,
        timestamp=args.time,
        activity=args.activity,
        **{r: getattr(args, r) for r in roles},
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
        name=args.name or _dataset_name(source.name),
        mapping=mapping,
        options=options,
        source_name=source.name,
        map_id=args.map,
    )
    # The table goes to standard output: what became of the file's rows goes to standard error.
    print(
        ("Imported: " if result.created else "Already imported (nothing added): ") + result.rows_line(), file=sys.stderr
    )
    return result.dataset_id


def query_from_args(args: argparse.Namespace) -> Any:
    """The JourneyQuery of the analyze flags."""
    from analytics.journeys import JourneyQuery

    segments = []
    for item in args.filter_segment or ():
        name, sep, values = item.partition("=")
        if not sep:
            from core.errors import BadInputError

            raise BadInputError("--filter-segment takes NAME=V1,V2", value=item, expected="NAME=V1,V2")
        segments.append((name, _csv_list(values)))
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


def needs_conversion(report: str) -> bool:
    """True for a report that means nothing without a definition (the registry says which)."""
    from analytics.registry import ANALYSES

    return report in ANALYSES and ANALYSES[report].needs_conversion


def open_analyze_context(dataset_id: int, args: argparse.Namespace) -> Any:
    """The one analysis context of the analyze flags: dataset, map, query, and the saved conversion
    definition unless ``--goal`` / ``--lost`` override it for this run (unknown names are refused)."""
    from services.context import open_context, override_conversion

    order = _csv_list(getattr(args, "stage_order", None)) or None
    ctx = open_context(dataset_id, args.map, query=query_from_args(args), stage_order=order)
    override = conversion_from_args(args, ctx.conversion)
    return ctx if override is None else override_conversion(ctx, override)


def cmd_analyze(args: argparse.Namespace) -> int:
    from core.errors import BadInputError
    from services.csv_safety import to_safe_csv

    if (args.file is None) == (args.dataset is None):
        raise BadInputError("analyze needs a FILE or --dataset ID (not both)", expected="FILE or --dataset ID")
    dataset_id = args.dataset if args.dataset is not None else import_from_args(args.file, args)
    report = ANALYZE_REPORTS[args.report]
    ctx = open_analyze_context(dataset_id, args)
    if not ctx.conversion.defined and needs_conversion(args.report):
        raise BadInputError(
            f"the {args.report} report needs conversion defined for dataset {dataset_id}",
            expected=f'python cli.py conversion set --dataset {dataset_id} --goal "A,B" (or --outcome "won"), '
            'or --goal "A,B" for this run',
        )
    output = report.handler(ReportInput(ctx=ctx, args=args))
    if report.conversion:
        output = _name_conversion(output, ctx.conversion.describe())
    if args.format == "csv":
        sys.stdout.flush()
        sys.stdout.buffer.write(to_safe_csv(output.table))
        sys.stdout.buffer.flush()
    else:
        emit_json(output.payload)
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _add_analyze(sub: argparse._SubParsersAction) -> None:
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
    g.add_argument("--by", choices=["touchpoint", "stage", "channel"], help="node level (default: touchpoint)")
    g.add_argument("--keep-repeats", action="store_true", help="keep consecutive repeats of a node")
    g.add_argument("--date-from", type=_date, metavar="YYYY-MM-DD")
    g.add_argument("--date-to", type=_date, metavar="YYYY-MM-DD")
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
    g.add_argument("--top", type=int, metavar="N", help="rows to keep (transitions, variants, loops, breakdown values)")
    g = p.add_argument_group("funnel")
    g.add_argument("--steps", metavar='"A,B,C"', help="funnel steps, in order")
    g.add_argument("--mode", choices=["ordered", "strict", "immediate", "any"], default="ordered")
    g.add_argument("--window-days", type=float, default=90.0, help="conversion window from step 1 (default 90)")
    g.add_argument("--step-windows-days", metavar='"7,,30"', help="per-step windows in days (empty: none)")
    g.add_argument("--exclude", action="append", metavar="NODE", help="exclusion step (repeat)")
    g.add_argument("--breakdown", metavar="COL", help="break the funnel down by this column")
    g.add_argument(
        "--attribution", choices=["first", "last"], default="first", help="breakdown value from step 1 or the last step"
    )
    g = p.add_argument_group("paths, loops and flows")
    g.add_argument("--stage-order", metavar='"A,B,C"', help="stage order for loops when no map is linked")
    g.add_argument("--sankey-steps", type=int, default=5, help="columns of the step Sankey")
    g.add_argument("--anchor", choices=["start", "end"], default="start")
    g.add_argument("--anchor-node", metavar="NODE", help="start (or end) the Sankey at this node")
    add_import_column_flags(p)
    for report in ANALYZE_REPORTS.values():
        if report.add_arguments is not None:
            report.add_arguments(p)
    p.set_defaults(handler=cmd_analyze)


# --------------------------------------------------------------------------- import


def _where_pair(text: str) -> tuple[str, str]:
    """``COL=VALUE`` (also ``COL==VALUE``) → (COL, VALUE); the column name may itself hold ':'."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected COL=VALUE, got {text!r}")
    column, value = text.replace("==", "=", 1).split("=", 1)
    if not column.strip():
        raise argparse.ArgumentTypeError(f"expected COL=VALUE, got {text!r}")
    return column.strip(), value


def _dataset_name(file_name: str) -> str:
    """The default dataset name: the file's name without its table suffix."""
    name = file_name.removesuffix(".gz")
    for suffix in (".csv", ".tsv", ".txt", ".xlsx", ".parquet"):
        name = name.removesuffix(suffix)
    return name


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from analytics.schema import ColumnMapping
    from services.importer import ImportOptions, import_event_log, plural

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
        drop_identical_rows=args.drop_identical_rows,
        sheet=args.sheet,
    )

    def progress(fraction: float, message: str) -> None:
        if args.progress:
            print(f"{fraction:4.0%} {message}", file=sys.stderr)

    result = import_event_log(
        path,
        name=args.name or _dataset_name(path.name),
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
    print(f"{result.rows_line()} Ties: {result.ties:,}.")
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
        help="import an event log (CSV, .csv.gz, Excel .xlsx or Parquet) as a dataset",
        description="Import an event log. Encoding and delimiter are detected when not given. "
        "On bad input, exits with status 2 and the message the Data page would show.",
    )
    p.add_argument("file", help="the event log: .csv, .csv.gz, .xlsx or .parquet (told by its content)")
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
    p.add_argument("--map", type=int, metavar="MAP_ID", help="link the dataset to this map")
    p.add_argument("--progress", action="store_true", help="report progress on standard error")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=cmd_import)


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


def cmd_upgrade_datasets(args: argparse.Namespace) -> int:
    from services.datasets import upgrade_datasets

    done = upgrade_datasets()
    if not done:
        print("Every stored dataset is up to date.")
    for d in done:
        print(
            f"Dataset {d.id} ({d.name}): {d.events:,} events rewritten with their neighbour facts in {d.seconds:.1f} s."
        )
    return 0


# --------------------------------------------------------------------------- check


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


def _add_check(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--limit", type=int, default=1000, help="at most this many, newest first (default 1000)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=cmd_audit)


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
    _add_analyze(sub)
    _add_report(sub)
    _add_conversion(sub)
    _add_backup(sub)
    _add_external(sub)
    _add_check(sub)

    p = sub.add_parser(
        "upgrade-datasets",
        help="store the neighbour facts in datasets imported before them (same results, faster analyses)",
    )
    p.set_defaults(handler=cmd_upgrade_datasets)
    return parser


_ERRNO_ADVICE = {
    errno.ENOSPC: "the disk is full: nothing was saved; free some space and try again",
    errno.EROFS: "the file system is read-only: make the data directory writable or set JOURNEYLENS_DATA_DIR",
    errno.EACCES: "permission denied: make the data directory writable or set JOURNEYLENS_DATA_DIR",
    errno.EPERM: "permission denied: make the data directory writable or set JOURNEYLENS_DATA_DIR",
    errno.ENOENT: "not found: check the path (and JOURNEYLENS_DATA_DIR)",
    errno.EDQUOT: "the disk quota is exceeded: nothing was saved; free some space and try again",
}


def fault_message(exc: BaseException) -> str | None:
    """One line saying what went wrong and what to do, for the faults a deployment meets; None for a bug."""
    from core.errors import JourneyLensError
    from db.engine import storage_error

    if isinstance(exc, JourneyLensError | JourneyLensError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        advice = _ERRNO_ADVICE.get(exc.errno or -1, exc.strerror or str(exc))
        return f"{advice}{where}."
    typed = storage_error(exc)
    if typed is not None:
        return str(typed)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # the reader went away (`| head`): nothing to say
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
        return 0
    except Exception as exc:
        from sqlalchemy.exc import DBAPIError  # here, not at start-up: --help imports no database layer

        if not isinstance(exc, OSError | DBAPIError) and fault_message(exc) is None:
            raise
        message = fault_message(exc)
        if message is None:  # a database error that is not a storage fault: still no traceback
            message = f"the database refused the operation ({str(getattr(exc, 'orig', exc)).splitlines()[0]})"
        print(f"error: {' '.join(message.split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
