"""One measurement in a fresh process: ``python bench/measure.py '<task json>'``.

Runs one task (an import, one JourneyLens analysis, one peer analysis, or the AppTest filter
switch) and prints one line ``RESULT {json}`` with wall times (``time.perf_counter``) and the
process's peak resident memory (``ru_maxrss``, which includes DuckDB's native memory and the
interpreter). A fresh process per measurement keeps one analysis's memory and caches out of the
next one's numbers. Peer tasks run under the peers' interpreter (their own venv) and import only
the peer, pandas and pyarrow.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB.

    Linux keeps ``ru_maxrss`` across ``exec``: a child started by a parent that once held 670 MB
    reports at least 670 MB. ``VmHWM`` of ``/proc/self/status`` belongs to the process's own memory
    map, so it is read where it exists.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_seconds() -> float:
    """CPU time of this process, all threads (user + system): unlike wall time, hardly inflated
    when other work competes for the cores."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn, repeat: int, cpu: list[float] | None = None) -> tuple[list[float], Any]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        c0, t0 = cpu_seconds(), time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(cpu_seconds() - c0)
    return times, result


# --------------------------------------------------------------------------- JourneyLens


def task_import(task: dict) -> dict:
    os.environ["JOURNEYLENS_DATA_DIR"] = task["data_dir"]
    sys.path.insert(0, str(ROOT))
    from db.engine import get_engine

    get_engine()  # migrations: not part of the import's time
    from bench.generate import column_mapping

    mapping = column_mapping()
    baseline = peak_rss_mb()
    try:
        from services.importer import ImportOptions, import_event_log
    except ImportError:
        return {"error": "services.importer is not on this branch"}
    stages: dict[str, Any] = {}
    _instrument_import(stages)
    c0, t0 = cpu_seconds(), time.perf_counter()
    r = import_event_log(Path(task["csv"]), name=task["name"], mapping=mapping, options=ImportOptions())
    seconds = time.perf_counter() - t0
    return {
        "cpu_seconds": [cpu_seconds() - c0],
        "stages": stages,
        "seconds": [seconds],
        "dataset_id": r.dataset_id,
        "events": r.events,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak_rss_mb(),
    }


def _instrument_import(stages: dict[str, Any]) -> None:
    """Record where an import's time goes: the CSV scan, the DuckDB build and its slowest statements."""
    import services.importer as importer

    scan, build = importer.scan_csv, importer.build_event_store

    def timed_scan(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return scan(*args, **kwargs)
        finally:
            stages["scan_csv"] = stages.get("scan_csv", 0.0) + time.perf_counter() - t0

    def timed_build(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        result = build(*args, **kwargs)
        stages["build_event_store"] = time.perf_counter() - t0
        timings = sorted(getattr(result, "timings", []) or [], key=lambda x: -x[1])[:5]
        stages["slowest_statements"] = [[sql, round(sec, 2)] for sql, sec in timings]
        return result

    importer.scan_csv, importer.build_event_store = timed_scan, timed_build


def task_analysis(task: dict) -> dict:
    os.environ["JOURNEYLENS_DATA_DIR"] = task["data_dir"]
    sys.path.insert(0, str(ROOT))
    from bench.suite import ANALYSES, prepare

    analysis = ANALYSES[task["analysis"]]
    t0 = time.perf_counter()
    context = prepare(task["dataset_id"], hot=bool(task.get("hot")))
    load_seconds = time.perf_counter() - t0 if task.get("hot") else None
    baseline = peak_rss_mb()
    cpu: list[float] = []
    times, result = timed(lambda: analysis.run(context), task["repeat"], cpu)
    return {
        "hot_load_seconds": load_seconds,
        "seconds": times,
        "cpu_seconds": cpu,
        "rows": int(len(result)) if hasattr(result, "__len__") else None,
        "check": analysis.check(result) if analysis.check else None,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak_rss_mb(),
    }


def _app_task(task: dict, measure: str, *args: object) -> dict:
    """Run ``bench.apptest.<measure>(*args)`` on the task's data directory, with the peak memory."""
    os.environ["JOURNEYLENS_DATA_DIR"] = task["data_dir"]
    sys.path.insert(0, str(ROOT))
    from bench import apptest

    out = getattr(apptest, measure)(*args)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def task_apptest(task: dict) -> dict:
    return _app_task(task, "measure_filter_switch", task["dataset_id"], task.get("page"))


def task_page_start(task: dict) -> dict:
    return _app_task(task, "measure_page_start", task["page"], task.get("dataset_id"))


# --------------------------------------------------------------------------- peers


def task_peer(task: dict) -> dict:
    import pandas as pd

    frame = pd.read_parquet(task["parquet"], columns=["file_row", "journey_id", "timestamp", "activity", "stage"])
    baseline = peak_rss_mb()
    from bench import peers

    fn = getattr(peers, task["peer"])
    # Warm-up on a few journeys, untimed: the peer's lazy imports are not part of its analysis.
    fn(frame[frame["journey_id"].isin(frame["journey_id"].head(50))], 1, task.get("params", {}))
    prep_seconds, times, result, check = fn(frame, task["repeat"], task.get("params", {}))
    return {
        "prep_seconds": prep_seconds,
        "seconds": times,
        "check": check,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak_rss_mb(),
        "version": peers.version(task["peer"]),
    }


TASKS = {
    "import": task_import,
    "analysis": task_analysis,
    "apptest": task_apptest,
    "page_start": task_page_start,
    "peer": task_peer,
}


def main() -> int:
    task = json.loads(sys.argv[1])
    sys.path.insert(0, str(ROOT))
    try:
        out = TASKS[task["kind"]](task)
    except Exception as exc:  # reported in the table, never hidden
        out = {"error": f"{type(exc).__name__}: {exc}"[:400], "peak_rss_mb": peak_rss_mb()}
    if "seconds" in out and out["seconds"]:
        out["first"] = out["seconds"][0]
        out["median"] = statistics.median(out["seconds"][1:] or out["seconds"])
    sys.stdout.write("RESULT " + json.dumps(out, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
