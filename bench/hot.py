"""Hot datasets measured: the same analyses on the in-memory table and on the Parquet file.

    python bench/hot.py ab --data-dir DIR --dataset ID [--pairs 5] [--only LABEL]
    python bench/hot.py rss --parquet A.parquet --parquet B.parquet [--data-dir DIR --dataset ID]

``ab`` runs every analysis of :mod:`bench.suite` in one process, interleaved (in memory, Parquet,
Parquet, in memory, ...: each pair alternates which goes first), after one untimed run of each,
and prints the medians, their ratio and the 1-minute load average before and after; it also checks
that both paths give the same table. ``rss`` loads the given files into memory as the app does
(:func:`analytics.engine.make_hot`), runs every analysis on each (with ``--data-dir``/``--dataset``
giving the schema), and prints the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import cpu_seconds, peak_rss_mb  # noqa: E402


def _same(a: Any, b: Any) -> bool:
    import pandas as pd

    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=False)
        except AssertionError:
            return False
        return True
    return repr(a) == repr(b)


def _chosen(label: str, only: str | None) -> bool:
    return not only or any(part.strip() and part.strip() in label for part in only.split(","))


def ab(args: argparse.Namespace) -> int:
    os.environ["JOURNEYLENS_DATA_DIR"] = args.data_dir
    from analytics import engine
    from bench.suite import ANALYSES, Context
    from services.datasets import get_event_source

    source, schema = get_event_source(args.dataset)
    t0 = time.perf_counter()
    status = engine.make_hot(source)
    print(f"load into memory: {time.perf_counter() - t0:.2f} s, {status}, {status.megabytes} MB", flush=True)
    hot = Context(engine.events_table(source), schema)
    # The Parquet path as it was before hot datasets: a view of the file on this thread's cursor.
    parquet = Context(engine._duckdb().read_parquet(source.parquet_path, table_name="bench_parquet"), schema)
    print(f"load average {os.getloadavg()[0]:.2f}; pairs {args.pairs}")
    print("| analysis | Parquet median | in memory median | Parquet ÷ memory | CPU s Parquet / memory | same | load |")
    print("|---|---|---|---|---|---|---|")
    ratios, cpu_ratios = [], []
    for label, analysis in ANALYSES.items():
        if not _chosen(label, args.only):
            continue
        if analysis.available():
            continue
        load0 = os.getloadavg()[0]
        r_hot, r_pq = analysis.run(hot), analysis.run(parquet)  # untimed: first runs, fits, caches
        times: dict[str, list[float]] = {"hot": [], "parquet": []}
        cpu: dict[str, list[float]] = {"hot": [], "parquet": []}
        for i in range(args.pairs):
            order = (("hot", hot), ("parquet", parquet)) if i % 2 == 0 else (("parquet", parquet), ("hot", hot))
            for name, ctx in order:
                c, t = cpu_seconds(), time.perf_counter()
                analysis.run(ctx)
                times[name].append(time.perf_counter() - t)
                cpu[name].append(cpu_seconds() - c)
        m_hot, m_pq = statistics.median(times["hot"]), statistics.median(times["parquet"])
        c_hot, c_pq = statistics.median(cpu["hot"]), statistics.median(cpu["parquet"])
        ratios.append(m_pq / m_hot)
        cpu_ratios.append(c_pq / c_hot)
        print(
            f"| {label} | {m_pq * 1000:.0f} ms | {m_hot * 1000:.0f} ms | {m_pq / m_hot:.2f} | "
            f"{c_pq:.2f} / {c_hot:.2f} | {'yes' if _same(r_hot, r_pq) else 'NO'} | "
            f"{load0:.1f}–{os.getloadavg()[0]:.1f} |",
            flush=True,
        )
    if ratios:
        print(
            f"wall ratio: median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); "
            f"CPU ratio: median {statistics.median(cpu_ratios):.2f} (min {min(cpu_ratios):.2f}, "
            f"max {max(cpu_ratios):.2f})"
        )
    return 0


def rss(args: argparse.Namespace) -> int:
    from analytics import engine

    print(f"baseline {peak_rss_mb():.0f} MB")
    sources = [engine.EventSource(parquet_path=p) for p in args.parquet]
    for source in sources:
        t0 = time.perf_counter()
        status = engine.make_hot(source)
        print(f"{source.parquet_path}: {status}, {status.megabytes} MB, {time.perf_counter() - t0:.1f} s")
    print(f"after loading: peak {peak_rss_mb():.0f} MB; in memory: {engine.hot_datasets()}", flush=True)
    if args.data_dir:
        os.environ["JOURNEYLENS_DATA_DIR"] = args.data_dir
        from bench.suite import ANALYSES, Context
        from services.datasets import get_event_source

        _, schema = get_event_source(args.dataset)
        for source in sources:
            ctx = Context(engine.events_table(source), schema)
            for label, analysis in ANALYSES.items():
                if _chosen(label, args.only) and not analysis.available():
                    analysis.run(ctx)
            print(f"after every analysis on {source.parquet_path}: peak {peak_rss_mb():.0f} MB", flush=True)
    print(f"in memory at the end: {[(p, round(mb)) for p, mb in engine.hot_datasets()]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("ab", help="every analysis in memory vs on Parquet, interleaved")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--dataset", type=int, required=True)
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--only", help="only the analyses whose label contains one of these (comma-separated)")
    p = sub.add_parser("rss", help="peak memory with these files hot")
    p.add_argument("--parquet", action="append", required=True)
    p.add_argument("--data-dir")
    p.add_argument("--dataset", type=int, default=1)
    p.add_argument("--only", help="only the analyses whose label contains one of these (comma-separated)")
    args = parser.parse_args(argv)
    return ab(args) if args.mode == "ab" else rss(args)


if __name__ == "__main__":
    raise SystemExit(main())
