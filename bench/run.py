"""The JourneyLens benchmark: import and every analysis, against the peers, on the same logs.

    python bench/run.py [--sizes 100k,1M,5M] [--seed 7] [--repeat 3] [--hot] [--no-peers] [--no-apptest]

For each size it generates (once, cached in ``bench/data/``) a seeded B2B log
(:mod:`bench.generate`), imports it with ``services.importer.import_event_log`` into a fresh data
directory, runs every analysis of :mod:`bench.suite` and, on the same log, the peers of
:mod:`bench.peers` (retentioneering, pm4py, plain pandas) where installed. Every measurement is
its own process (wall time with ``perf_counter``; peak memory is that process's ``ru_maxrss``).
The AppTest filter switch (:mod:`bench.apptest`) runs on the 1M dataset (or the size nearest it),
and so do the start-up times of :mod:`bench.startup` (the CLI as whole processes, and the app's first
start until the Overview is drawn, in Chromium).

Writes ``bench/results/latest.md`` (tables of times and ratios, the machine it ran on) and
``bench/results/latest.json`` (every raw number). The peers live in their own venv
(``bench/setup_peers.sh``), found at ``--peers-python`` (default: ``$JOURNEYLENS_PEERS_PYTHON``,
then ``~/.cache/journeylens-bench/peers/bin/python``); a peer that is missing is skipped with a line
in the table saying why.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import ensure_log, format_size, parse_size  # noqa: E402
from bench.suite import ANALYSES  # noqa: E402

DEFAULT_PEERS_PYTHON = Path.home() / ".cache" / "journeylens-bench" / "peers" / "bin" / "python"
PEER_LABEL = {
    "pandas_transitions": "pandas (sort + shift + value_counts)",
    "pm4py_dfg": "pm4py discover_dfg",
    "pm4py_variants": "pm4py get_variants",
    "rete_transitions": "retentioneering transition_graph_data",
    "rete_step_sankey": "retentioneering step_sankey_data",
    "rete_funnel": "retentioneering funnel_data",
}
PEER_MODULE = {"pandas": "pandas", "pm4py": "pm4py", "rete": "retentioneering"}
TARGETS = {
    "analysis_seconds": 2.0,
    "import_seconds": 45.0,
    "peak_mb": 2048.0,
    "ratio": 10.0,
    "switch_seconds": 1.0,
    "page_start_seconds": 2.0,
}
# Pages timed in a fresh session on the demo (each in a process of its own).
PAGE_START_PAGES = ("app.py", "pages/1_Maps.py", "pages/5_Flows.py", "pages/6_Funnel.py", "pages/12_Overlay.py")


def log(message: str) -> None:
    sys.stderr.write(f"[{datetime.now().strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def measure(task: dict, python: str, timeout: float) -> dict:
    """Run one task of bench/measure.py in a fresh process; never raises."""
    env = {**os.environ, "RETENTIONEERING_NO_TRACK": "1", "PYTHONPATH": str(ROOT)}
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [python, str(ROOT / "bench" / "measure.py"), json.dumps(task)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(ROOT),
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            out = json.loads(line[len("RESULT ") :])
            out["process_seconds"] = time.perf_counter() - t0
            # Other work on the machine slows every number: the 1-minute load before and after.
            out["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
            return out
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"exit code {proc.returncode}: {tail[:300]}"}


def peers_python(arg: str | None) -> str | None:
    for candidate in (arg, os.environ.get("JOURNEYLENS_PEERS_PYTHON"), str(DEFAULT_PEERS_PYTHON)):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def peer_installed(python: str | None, module: str) -> str | None:
    """None when ``module`` imports under ``python``, else the reason it cannot run."""
    if python is None:
        return "no peers venv (run bench/setup_peers.sh)"
    proc = subprocess.run(
        [python, "-c", f"import importlib.metadata as m; print(m.version('{module}'))"],
        capture_output=True,
        text=True,
        env={**os.environ, "RETENTIONEERING_NO_TRACK": "1"},
    )
    if proc.returncode != 0:
        return f"{module} is not installed in {python}"
    return None


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    from importlib.metadata import version

    versions = {}
    for pkg in ("duckdb", "ibis-framework", "pandas", "pyarrow", "streamlit"):
        try:
            versions[pkg] = version(pkg)
        except Exception:
            versions[pkg] = "?"
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_gib, 1) if mem_gib else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
    }


# --------------------------------------------------------------------------- the run


def run_size(events: int, args: argparse.Namespace, peers_py: str | None, peer_reasons: dict) -> dict:
    label = format_size(events)
    log(f"{label}: generating the log (seed {args.seed})")
    t0 = time.perf_counter()
    csv_path, parquet_path = ensure_log(events, args.seed, ROOT / "bench" / "data")
    out: dict[str, Any] = {"events": events, "label": label, "generate_seconds": time.perf_counter() - t0}
    out["csv_mb"] = csv_path.stat().st_size / 1e6

    data_dir = ROOT / "bench" / "data" / f"store_{label}_seed{args.seed}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    log(f"{label}: importing {csv_path.name} ({out['csv_mb']:.0f} MB)")
    imp = measure(
        {"kind": "import", "csv": str(csv_path), "data_dir": str(data_dir), "name": f"bench {label}"},
        sys.executable,
        args.timeout,
    )
    out["import"] = imp
    log(f"{label}: import {fmt_s(imp.get('first'))} {imp.get('error', '')}")
    dataset_id = imp.get("dataset_id")

    if events <= args.quoted_import_max:
        quoted_csv, _ = ensure_log(events, args.seed, ROOT / "bench" / "data", quoted=True)
        quoted_dir = ROOT / "bench" / "data" / f"store_{label}_seed{args.seed}_quoted"
        shutil.rmtree(quoted_dir, ignore_errors=True)
        quoted_dir.mkdir(parents=True)
        log(f"{label}: importing {quoted_csv.name} (every text value quoted)")
        out["import_quoted"] = measure(
            {"kind": "import", "csv": str(quoted_csv), "data_dir": str(quoted_dir), "name": f"bench {label} quoted"},
            sys.executable,
            args.timeout,
        )
        shutil.rmtree(quoted_dir, ignore_errors=True)
        log(
            f"{label}: quoted import {fmt_s(out['import_quoted'].get('first'))} {out['import_quoted'].get('error', '')}"
        )

    out["analyses"] = {}
    for name, analysis in selected(args.only).items():
        missing = analysis.available()
        if missing:
            out["analyses"][name] = {"error": missing, "unavailable": True}
            continue
        if dataset_id is None:
            out["analyses"][name] = {"error": "no dataset (the import failed)"}
            continue
        res = measure(
            {
                "kind": "analysis",
                "analysis": name,
                "data_dir": str(data_dir),
                "dataset_id": dataset_id,
                "repeat": args.repeat,
                "hot": args.hot,
            },
            sys.executable,
            args.timeout,
        )
        out["analyses"][name] = res
        log(
            f"{label}: {name}: first {fmt_s(res.get('first'))}, median {fmt_s(res.get('median'))} {res.get('error', '')}"
        )

    out["peers"] = {}
    if not args.no_peers:
        wanted = {p for a in selected(args.only).values() for p in a.peers}
        for peer in (p for p in PEER_LABEL if p in wanted):
            reason = peer_reasons.get(peer)
            if reason:
                out["peers"][peer] = {"error": reason, "skipped": True}
                continue
            res = measure(
                {"kind": "peer", "peer": peer, "parquet": str(parquet_path), "repeat": args.repeat},
                peers_py or sys.executable,
                args.peer_timeout,
            )
            out["peers"][peer] = res
            log(
                f"{label}: {peer}: {fmt_s(res.get('median'))} (prep {fmt_s(res.get('prep_seconds'))}) {res.get('error', '')}"
            )

    out["data_dir"] = str(data_dir)
    out["dataset_id"] = dataset_id
    return out


def selected(only: str | None) -> dict[str, Any]:
    """The analyses of :mod:`bench.suite` whose label contains one of the comma-separated words of
    ``only`` (case-insensitive; every analysis when ``only`` is empty); an unknown word is refused."""
    if not only:
        return dict(ANALYSES)
    words = [w.strip().lower() for w in only.split(",") if w.strip()]
    chosen = {name: a for name, a in ANALYSES.items() if any(w in name.lower() for w in words)}
    unmatched = [w for w in words if not any(w in name.lower() for name in ANALYSES)]
    if unmatched:
        raise SystemExit(
            f"--only: no analysis label contains {', '.join(map(repr, unmatched))}; labels: {list(ANALYSES)}"
        )
    return chosen


def fmt_s(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 0.01:
        return f"{value * 1000:.1f} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 100:
        return f"{value:.2f} s"
    return f"{value:.0f} s"


def fmt_mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} MB"


def agree(ours: dict | None, theirs: dict | None) -> str:
    if not ours or not theirs:
        return "–"
    keys = sorted(set(ours) & set(theirs))
    if not keys:
        return "–"
    diffs = [k for k in keys if ours[k] != theirs[k]]
    if not diffs:
        return "yes (" + ", ".join(keys) + ")"
    return "**no**: " + "; ".join(f"{k} {ours[k]} vs {theirs[k]}" for k in diffs)


def markdown(results: dict) -> str:
    m = results["machine"]
    sizes = sorted(results["sizes"], key=lambda s: s["events"])
    lines = [
        "# JourneyLens benchmark",
        "",
        f"Measured {results['started']} on commit {results.get('commit', 'unknown')} by `{results['command']}` "
        f"(seed {results['seed']}, "
        f"{results['repeat']} runs of each analysis in a fresh process; *first* is the first run, "
        "*median* the median of the later ones; *CPU* the CPU seconds (all threads) of the median run, "
        "which other work on the machine hardly inflates; memory is the process's peak RSS, interpreter included"
        + (
            "; analyses on the dataset loaded into memory first (`--hot`), the load not timed"
            if results.get("hot")
            else ""
        )
        + ").",
        "",
        f"Machine: {m['cpu']}, {m['nproc']} cores, {m['memory_gib']} GiB RAM, {m['os']}; Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + (f"; peers: {', '.join(results['peer_versions'])}" if results.get("peer_versions") else "")
        + ".",
        "",
        "Targets at 5M events on 2 cores: import < 45 s; every analysis < 2 s after import and "
        "≥ 10× faster than retentioneering and pm4py on the same analysis; peak memory < 2 GB; "
        "a filter switch re-renders in < 1 s on 1M events once cached.",
        "",
        "## Import and every analysis",
        "",
    ]
    header = (
        "| | "
        + " | ".join(
            f"{s['label']} first | {s['label']} median | {s['label']} CPU | {s['label']} peak RSS" for s in sizes
        )
        + " |"
    )
    lines += [header, "|---" * (1 + 4 * len(sizes)) + "|"]
    imp_cells = []
    for s in sizes:
        imp = s["import"]
        if imp.get("error"):
            imp_cells += [imp["error"], "", "", ""]
        else:
            imp_cells += [fmt_s(imp.get("first")), "", fmt_s(_cpu(imp)), fmt_mb(imp.get("peak_rss_mb"))]
    lines.append("| **import** (CSV → Parquet + SQLite) | " + " | ".join(imp_cells) + " |")
    if any("import_quoted" in s for s in sizes):
        cells = []
        for s in sizes:
            q = s.get("import_quoted")
            if q is None:
                cells += ["not run", "", "", ""]
            elif q.get("error"):
                cells += [q["error"], "", "", ""]
            else:
                cells += [fmt_s(q.get("first")), "", fmt_s(_cpu(q)), fmt_mb(q.get("peak_rss_mb"))]
        lines.append("| import, every text value quoted (CRM-style export) | " + " | ".join(cells) + " |")
    for name in ANALYSES:
        cells = []
        for s in sizes:
            r = s["analyses"].get(name, {})
            if r.get("error"):
                cells += [r["error"], "", "", ""]
            else:
                cells += [fmt_s(r.get("first")), fmt_s(r.get("median")), fmt_s(_cpu(r)), fmt_mb(r.get("peak_rss_mb"))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    logs = ", ".join(f"{s['label']} = {s['events']:,} events ({s['csv_mb']:.0f} MB CSV)" for s in sizes)
    lines += ["", f"Logs: {logs}.", ""]
    for s in sizes:
        st = s["import"].get("stages") or {}
        if st.get("build_event_store") is not None:
            slow = "; ".join(f"`{sql[:48]}…` {sec:.1f} s" for sql, sec in st.get("slowest_statements", [])[:3])
            lines.append(
                f"- import of {s['label']}: CSV scan {fmt_s(st.get('scan_csv'))}, DuckDB build "
                f"{fmt_s(st.get('build_event_store'))} (slowest statements: {slow})"
            )
    lines.append("")
    loads = [x for s in sizes for r in _measurements(s) for x in r.get("load", [])]
    if loads:
        lines += [
            f"Machine load (1-minute load average around each measurement, {m['nproc']} cores): "
            f"{min(loads):.1f} to {max(loads):.1f}. Above {m['nproc']}, other work competed for the cores "
            "and every time here is longer than on an idle machine.",
            "",
        ]

    lines += [
        "## Against the peers (same log, same run)",
        "",
        "Ratio = the peer's median analysis time ÷ JourneyLens's median on the same question; the targets "
        "are judged on it. The peer's preparation (sorting by journey, timestamp, file position; building "
        "an Eventstream) is shown apart and not in that ratio, which favours the peers: JourneyLens did its "
        "equivalent once at import. *With prep* is (peer prep + peer median) ÷ JourneyLens's median: the "
        "first answer of a session in which the peer has the log loaded as a frame but not yet prepared.",
        "",
        "| events | analysis | JourneyLens median (first) | peer | peer median | peer prep | peer peak RSS | ratio "
        "| with prep | same answer |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in sizes:
        for name, analysis in ANALYSES.items():
            ours = s["analyses"].get(name, {})
            for peer in analysis.peers:
                p = s["peers"].get(peer)
                if p is None:
                    continue
                ours_cell = ours.get("error") or f"{fmt_s(ours.get('median'))} ({fmt_s(ours.get('first'))})"
                if p.get("error"):
                    lines.append(
                        f"| {s['label']} | {name} | {ours_cell} | {PEER_LABEL[peer]} | {p['error']} | | | | | |"
                    )
                    continue
                ratio = with_prep = "–"
                if ours.get("median") and p.get("median"):
                    ratio = f"{p['median'] / ours['median']:.1f}×"
                    if p.get("prep_seconds") is not None:
                        with_prep = f"{(p['prep_seconds'] + p['median']) / ours['median']:.1f}×"
                lines.append(
                    f"| {s['label']} | {name} | {ours_cell} | {PEER_LABEL[peer]} | {fmt_s(p.get('median'))} | "
                    f"{fmt_s(p.get('prep_seconds'))} | {fmt_mb(p.get('peak_rss_mb'))} | {ratio} | {with_prep} | "
                    f"{agree(ours.get('check'), p.get('check'))} |"
                )
    lines.append("")

    app = results.get("apptest")
    lines += ["## Filter switch re-render (AppTest, the app open on a dataset)", ""]
    if not app:
        lines.append("Not measured in this run (`--no-apptest`).")
    elif app.get("error"):
        lines.append(f"Not measured: {app['error']}.")
    else:
        cached = app.get("cached") or []
        lines += [
            f"{app['size']} events, page `{app['page']}`, switching the {app['widget']}:",
            "",
            "| step | seconds |",
            "|---|---|",
            f"| open the page (cold, every loader computes) | {fmt_s(app.get('cold'))} |",
            f"| switch the filter (not cached yet) | {fmt_s(app.get('uncached'))} |",
            f"| switch it back (cached) | {fmt_s(cached[0] if cached else None)} |",
            f"| switch it again (cached) | {fmt_s(cached[1] if len(cached) > 1 else None)} |",
        ]
    lines.append("")
    lines += _page_start_lines(results.get("page_start"))
    startup = results.get("startup") or {}
    if startup:
        from bench.startup import markdown_lines

        lines += markdown_lines(startup.get("cli"), startup.get("first_start"))
    lines += ["## Targets", ""] + targets(results) + [""]
    return "\n".join(lines)


def _page_start_lines(pages: list[dict] | None) -> list[str]:
    lines = ["## Page start in a fresh session (AppTest, the demo)", ""]
    if not pages:
        return [*lines, "Not measured in this run (`--no-apptest`).", ""]
    lines += [
        "*first*: the page in a fresh process (a server just started: imports counted); *new session*: "
        "the same page in new sessions of that process (median of two).",
        "",
        "| page | first | new session |",
        "|---|---|---|",
    ]
    for p in pages:
        if p.get("error"):
            lines.append(f"| `{p.get('page')}` | failed: {p['error']} | |")
            continue
        fresh = p.get("fresh_session") or []
        lines.append(f"| `{p['page']}` | {fmt_s(p.get('first'))} | {fmt_s(median(fresh) if fresh else None)} |")
    return [*lines, ""]


def _cpu(r: dict) -> float | None:
    """CPU seconds of the median run (the last for a single run); None when not recorded."""
    cpu = r.get("cpu_seconds") or []
    if not cpu:
        return None
    later = sorted(cpu[1:] or cpu)
    return later[len(later) // 2]


def _measurements(size: dict) -> list[dict]:
    out = [size.get("import", {}), size.get("import_quoted") or {}]
    out += list(size.get("analyses", {}).values()) + list(size.get("peers", {}).values())
    return out


def targets(results: dict) -> list[str]:
    big = max(results["sizes"], key=lambda s: s["events"])
    out = [f"Judged on the largest size in this run ({big['label']} events):", ""]
    imp = big["import"]
    if imp.get("first") is not None:
        ok = imp["first"] < TARGETS["import_seconds"]
        out.append(f"- import {fmt_s(imp['first'])}: {'met' if ok else '**missed**'} (< 45 s)")
    else:
        out.append(f"- import: not measured ({imp.get('error')})")
    slow = [
        (n, r["first"])
        for n, r in big["analyses"].items()
        if r.get("first") is not None and r["first"] >= TARGETS["analysis_seconds"]
    ]
    done = [n for n, r in big["analyses"].items() if r.get("first") is not None]
    missing = [n for n, r in big["analyses"].items() if r.get("first") is None]
    out.append(
        f"- every analysis < 2 s (first run in a fresh process): {len(done) - len(slow)} of {len(done)} measured met"
        + (": **missed** by " + ", ".join(f"{n} ({fmt_s(t)})" for n, t in slow) if slow else "")
        + (f"; not measured: {', '.join(missing)}" if missing else "")
    )
    peaks = [(n, r["peak_rss_mb"]) for n, r in big["analyses"].items() if r.get("peak_rss_mb")]
    if imp.get("peak_rss_mb"):
        peaks.append(("import", imp["peak_rss_mb"]))
    if peaks:
        worst = max(peaks, key=lambda p: p[1])
        ok = worst[1] < TARGETS["peak_mb"]
        out.append(f"- peak memory: highest {fmt_mb(worst[1])} ({worst[0]}): {'met' if ok else '**missed**'} (< 2 GB)")
    for name, analysis in ANALYSES.items():
        ours = big["analyses"].get(name, {})
        for peer in analysis.peers:
            p = big["peers"].get(peer, {})
            if peer.startswith("pandas") or not ours.get("median") or not p.get("median"):
                continue
            ratio = p["median"] / ours["median"]
            out.append(
                f"- {name} vs {PEER_LABEL[peer]}: {ratio:.1f}× {'met' if ratio >= TARGETS['ratio'] else '**missed**'} (≥ 10×)"
            )
    app = results.get("apptest") or {}
    if app.get("cached"):
        worst = max(app["cached"])
        ok = worst < TARGETS["switch_seconds"]
        out.append(
            f"- filter switch once cached ({app['size']}): {fmt_s(worst)} {'met' if ok else '**missed**'} (< 1 s)"
        )
    fresh = [median(p["fresh_session"]) for p in results.get("page_start") or [] if p.get("fresh_session")]
    if fresh:
        ok = max(fresh) < TARGETS["page_start_seconds"]
        out.append(
            f"- a page in a fresh session (demo, slowest of {len(fresh)}): {fmt_s(max(fresh))} "
            f"{'met' if ok else '**missed**'} (< 2 s)"
        )
    out += _startup_targets(results.get("startup") or {})
    return out


def _startup_targets(startup: dict) -> list[str]:
    from bench.startup import TARGETS as START

    out = []
    for name, key in (("cli.py --help", "help"), ("cli.py analyze transitions", "analyze")):
        r = ((startup.get("cli") or {}).get("commands") or {}).get(name)
        if r and not r.get("error"):
            ok = r["wall_median"] < START[key]
            out.append(f"- `{name}` {fmt_s(r['wall_median'])}: {'met' if ok else '**missed**'} (< {START[key]:g} s)")
    drawn = [r["drawn"] for r in startup.get("first_start") or [] if r.get("drawn") is not None]
    if drawn:
        ok = median(drawn) < START["first_start"]
        out.append(
            f"- first start until the Overview is drawn: {fmt_s(median(drawn))} "
            f"{'met' if ok else '**missed**'} (< {START['first_start']:g} s)"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="JourneyLens benchmark: import, every analysis, the peers.")
    parser.add_argument("--sizes", default="100k,1M,5M", help="comma-separated sizes (100k, 1M, 5M, ...)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per analysis (first + the median of the rest)")
    parser.add_argument(
        "--hot",
        action="store_true",
        help="run the analyses on the dataset loaded into memory (the app's hot path), not on its Parquet file",
    )
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--no-apptest", action="store_true")
    parser.add_argument("--no-startup", action="store_true", help="skip the CLI process times and the first start")
    parser.add_argument("--apptest-size", default="1M", help="size on which the filter switch is measured")
    parser.add_argument(
        "--quoted-import-max",
        type=lambda text: 0 if text.strip() == "0" else parse_size(text),
        default=parse_size("1M"),
        help="also import the log with every text value quoted, up to this size (0: never)",
    )
    parser.add_argument("--peers-python", help="python of the peers' venv (bench/setup_peers.sh)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed to one JourneyLens measurement")
    parser.add_argument("--peer-timeout", type=float, default=1200, help="seconds allowed to one peer measurement")
    parser.add_argument(
        "--only",
        help="comma-separated words: run only the analyses whose label contains one (and their peers), "
        'e.g. --only "funnel (4 touchpoints, ordered, no,step sankey"',
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.md")
    parser.add_argument("--render", type=Path, help="only rewrite --out from a results JSON of an earlier run")
    args = parser.parse_args(argv)
    if args.render:
        write(json.loads(args.render.read_text(encoding="utf-8")), args.out)
        return 0

    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    selected(args.only)  # refuses an unknown word before any work
    peers_py = peers_python(args.peers_python)
    peer_reasons: dict[str, str | None] = {}
    peer_versions = []
    if not args.no_peers:
        checked: dict[str, str | None] = {}
        for peer in PEER_LABEL:
            module = PEER_MODULE[peer.split("_")[0]]
            if module not in checked:
                checked[module] = peer_installed(peers_py, module)
                if checked[module] is None and peers_py:
                    proc = subprocess.run(
                        [peers_py, "-c", f"import importlib.metadata as m; print(m.version('{module}'))"],
                        capture_output=True,
                        text=True,
                    )
                    peer_versions.append(f"{module} {proc.stdout.strip()}")
            peer_reasons[peer] = checked[module]

    results: dict[str, Any] = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "commit": _commit(),
        "seed": args.seed,
        "repeat": args.repeat,
        "hot": args.hot,
        "machine": machine(),
        "peer_versions": peer_versions,
        "peers_python": peers_py,
        "sizes": [],
    }
    for events in sizes:
        results["sizes"].append(run_size(events, args, peers_py, peer_reasons))
        write(results, args.out)  # keep what was measured even if a later size fails

    if not args.no_apptest:
        target = parse_size(args.apptest_size)
        size = min(results["sizes"], key=lambda s: abs(s["events"] - target))
        if size.get("dataset_id") is None:
            results["apptest"] = {"error": "no imported dataset"}
        else:
            log(f"{size['label']}: AppTest filter switch")
            app = measure(
                {"kind": "apptest", "data_dir": size["data_dir"], "dataset_id": size["dataset_id"]},
                sys.executable,
                args.timeout,
            )
            app["size"] = size["label"]
            results["apptest"] = app
        results["page_start"] = measure_page_starts(args.timeout)
    if not args.no_startup:
        results["startup"] = measure_startup(results)
    write(results, args.out)
    log(f"wrote {args.out}")
    return 0


def measure_startup(results: dict) -> dict:
    """:mod:`bench.startup` on the dataset nearest 1M events: the CLI as whole processes, then two
    first starts of the app in Chromium."""
    from bench.startup import measure_cli, measure_first_start

    size = min(results["sizes"], key=lambda s: abs(s["events"] - 1_000_000)) if results["sizes"] else {}
    data_dir = Path(size["data_dir"]) if size.get("data_dir") else None
    log("start-up: the CLI as whole processes")
    out: dict[str, Any] = {"cli": measure_cli(data_dir, size.get("dataset_id")), "first_start": []}
    for _ in range(2):
        log("start-up: the app's first start (Chromium)")
        try:
            out["first_start"].append(measure_first_start())
        except Exception as exc:  # noqa: BLE001 - a missing browser is reported, the run goes on
            out["first_start"].append({"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__})
    return out


def measure_page_starts(timeout: float) -> list[dict]:
    """Each page of PAGE_START_PAGES timed by :func:`bench.apptest.measure_page_start` on a fresh
    data directory with the demo."""
    data_dir = ROOT / "bench" / "data" / "store_demo"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {**os.environ, "JOURNEYLENS_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "demo"], env=env, capture_output=True, text=True)
    if done.returncode:
        return [{"page": "(demo)", "error": (done.stderr.strip().splitlines() or ["the demo did not load"])[-1]}]
    pages = []
    for page in PAGE_START_PAGES:
        log(f"page start: {page}")
        out = measure({"kind": "page_start", "data_dir": str(data_dir), "page": page}, sys.executable, timeout)
        pages.append({"page": page, **out})
    return pages


def _commit() -> str:
    """The code measured: ``$JOURNEYLENS_BENCH_COMMIT`` (a snapshot's), else git's HEAD here."""
    if os.environ.get("JOURNEYLENS_BENCH_COMMIT"):
        return os.environ["JOURNEYLENS_BENCH_COMMIT"]
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() or "unknown"


def write(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(results), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
