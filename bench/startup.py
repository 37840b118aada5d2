"""Start-up times as whole processes: the CLI, and the app's first start until the Overview is drawn.

- ``measure_cli``: ``python cli.py --help`` and ``python cli.py analyze --dataset ID --report
  transitions`` (targets 0.5 s and 1 s), run interleaved with the floors they cannot go under
  (``python -c pass``; importing duckdb alone; importing what the analysis runs on: Ibis on DuckDB,
  pandas and the database layer, with the garbage collector paused as ``cli.py`` pauses it). Each as its wall time and its CPU time (user + system of the
  child): on a machine shared with other work the CPU time moves less than the wall time. Each
  command runs once untimed first, with Python free to write bytecode: the timed runs are a
  user's second and later runs.
- ``measure_first_start``: ``streamlit run app.py`` on an empty data directory, with Debian's
  Chromium (Playwright) opening the Overview as soon as the server answers: seconds from starting
  the server until it answers, until the Overview shows the demo's maps (target 8 s) and until it
  shows their health. The first session migrates the database and creates the demo's maps before
  it draws; the demo's event logs import in the background, and the Overview draws again with them.

    python -m bench.startup [--dataset ID] [--repeat 5] [--no-browser]

(``--dataset`` on the data directory of ``JOURNEYLENS_DATA_DIR``, e.g. one with a 1M-event log
imported by ``python cli.py import``). ``bench/run.py`` runs both on its 1M dataset.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("JOURNEYLENS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What the Overview shows once drawn with the demo (its maps' heading), and once each map's health
# is in (the heat map's heading: on a first start the demo's event logs import in the background).
OVERVIEW_DRAWN = "Journey maps"
OVERVIEW_COMPLETE = "Portfolio heat map"
TARGETS = {"help": 0.5, "analyze": 1.0, "first_start": 8.0}


def cli_commands(dataset_id: int | None) -> dict[str, list[str]]:
    """The processes timed by :func:`measure_cli`, by name (floors first)."""
    py = sys.executable
    out = {
        "python -c pass": [py, "-c", "pass"],
        # The machine's speed of the hour: a shared host's varies by a fifth and more, so a whole
        # process's time is read beside this (about 0.7 s on a quiet host here, 0.9 s on a busy one).
        "python loop (10M additions)": [py, "-c", "s = 0\nfor i in range(10_000_000): s += i"],
        "import duckdb": [py, "-c", "import duckdb"],
        # What `analyze` runs on, imported as `python cli.py` imports it (the collector paused).
        "import the analysis floor": [
            py,
            "-c",
            "import gc; gc.disable(); import analytics, ibis, pandas, sqlmodel; ibis.duckdb.connect()",
        ],
        "cli.py --help": [py, "cli.py", "--help"],
    }
    if dataset_id is not None:
        out["cli.py analyze transitions"] = [
            py,
            "cli.py",
            "analyze",
            "--dataset",
            str(dataset_id),
            "--report",
            "transitions",
        ]
    return out


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, "" if status == 0 else (err.strip().splitlines() or ["failed"])[-1]


def measure_cli(data_dir: Path | None, dataset_id: int | None, repeat: int = 5) -> dict[str, Any]:
    """Medians of ``repeat`` interleaved runs of each of :func:`cli_commands` (wall and CPU seconds),
    with the load average around them."""
    # Python writes each module's bytecode on its first import, so from the second run on a user's
    # process reads it. An environment that forbids writing it (PYTHONDONTWRITEBYTECODE, set on
    # some build machines) would time every run as a first one, compiling each changed module.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if data_dir is not None:
        env["JOURNEYLENS_DATA_DIR"] = str(data_dir)
    commands = cli_commands(dataset_id)
    walls: dict[str, list[float]] = {k: [] for k in commands}
    cpus: dict[str, list[float]] = {k: [] for k in commands}
    errors: dict[str, str] = {}
    loads = [os.getloadavg()[0]]
    for cmd in commands.values():  # warm the file cache and write the bytecode once, untimed
        _timed(cmd, env)
    for _ in range(repeat):
        for name, cmd in commands.items():
            wall, cpu, error = _timed(cmd, env)
            if error:
                errors[name] = error
            walls[name].append(wall)
            cpus[name].append(cpu)
        loads.append(os.getloadavg()[0])
    rows = {
        name: {
            "wall_median": statistics.median(walls[name]),
            "wall_min": min(walls[name]),
            "cpu_median": statistics.median(cpus[name]),
            "error": errors.get(name),
        }
        for name in commands
    }
    return {"repeat": repeat, "load": [min(loads), max(loads)], "commands": rows}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_first_start(timeout: float = 180.0) -> dict[str, Any]:
    """Seconds from ``streamlit run app.py`` on an empty data directory until the server answers
    (``server_up``), until Chromium shows the Overview with the demo's maps (``drawn``) and until it
    shows their health, the demo's event logs imported (``complete``)."""
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="journeylens-first-start-"))
    data_dir = work / "data"
    data_dir.mkdir()
    port = _free_port()
    env = {**os.environ, "JOURNEYLENS_DATA_DIR": str(data_dir)}
    env.pop("JOURNEYLENS_NO_DEMO", None)
    log = open(work / "streamlit.log", "w")  # noqa: SIM115 - closed below
    load = os.getloadavg()[0]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                t0 = time.perf_counter()
                server = subprocess.Popen(
                    [
                        sys.executable,
                        *("-m", "streamlit", "run", "app.py", "--server.port", str(port)),
                        *("--server.address", "127.0.0.1", "--server.headless", "true"),
                        *("--browser.gatherUsageStats", "false"),
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                try:
                    url = f"http://127.0.0.1:{port}"
                    server_up = _wait_for_health(url, server, t0 + timeout) - t0
                    page = browser.new_page()
                    page.goto(url + "/", timeout=timeout * 1000)
                    page.get_by_text(OVERVIEW_DRAWN, exact=True).first.wait_for(
                        timeout=max(1.0, timeout - (time.perf_counter() - t0)) * 1000
                    )
                    drawn = time.perf_counter() - t0
                    page.get_by_text(OVERVIEW_COMPLETE, exact=True).first.wait_for(
                        timeout=max(1.0, timeout - (time.perf_counter() - t0)) * 1000
                    )
                    complete = time.perf_counter() - t0
                finally:
                    server.terminate()
                    try:
                        server.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        server.kill()
            finally:
                browser.close()
    finally:
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    return {"server_up": server_up, "drawn": drawn, "complete": complete, "load": round(load, 2)}


def _wait_for_health(url: str, server: subprocess.Popen, deadline: float) -> float:
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise RuntimeError("streamlit exited before answering")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter()
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("streamlit did not answer in time")


def markdown_lines(cli: dict[str, Any] | None, first: list[dict[str, Any]] | None) -> list[str]:
    """The benchmark's section on start-up times."""
    lines = ["## Start-up (whole processes)", ""]
    if cli:
        lo, hi = cli["load"]
        lines += [
            f"Medians of {cli['repeat']} interleaved runs (load average {lo:.1f}–{hi:.1f}); CPU = user + system "
            "seconds of the process.",
            "",
            "| process | wall | CPU | target |",
            "|---|---|---|---|",
        ]
        for name, r in cli["commands"].items():
            target = TARGETS["help"] if name == "cli.py --help" else TARGETS["analyze"] if "analyze" in name else None
            cell = f"failed: {r['error']}" if r.get("error") else f"{r['wall_median']:.2f} s"
            kind = f"< {target:g} s" if target else "the machine's speed" if name.startswith("python loop") else "floor"
            lines.append(f"| `{name}` | {cell} | {r['cpu_median']:.2f} s | {kind} |")
        lines.append("")
    if first:
        ok = [r for r in first if not r.get("error")]
        lines += ["First start (empty data directory: migrations and the demo), browser-timed:", ""]
        for r in first:
            if r.get("error"):
                lines.append(f"- failed: {r['error']}")
            else:
                complete = f", with each map's health {r['complete']:.1f} s" if r.get("complete") is not None else ""
                lines.append(
                    f"- server answering {r['server_up']:.1f} s, Overview drawn {r['drawn']:.1f} s{complete} "
                    f"(load {r['load']})"
                )
        if ok:
            drawn = statistics.median(r["drawn"] for r in ok)
            met = "met" if drawn < TARGETS["first_start"] else "**missed**"
            lines.append(f"- median until drawn {drawn:.1f} s: {met} (< {TARGETS['first_start']:g} s)")
        lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=int, help="time `analyze --dataset ID --report transitions` too")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--starts", type=int, default=2, help="first starts to time")
    parser.add_argument("--no-browser", action="store_true", help="skip the first start")
    args = parser.parse_args(argv)
    data_dir = Path(os.environ["JOURNEYLENS_DATA_DIR"]) if os.environ.get("JOURNEYLENS_DATA_DIR") else None
    cli = measure_cli(data_dir, args.dataset, args.repeat)
    first = []
    if not args.no_browser:
        for _ in range(args.starts):
            try:
                first.append(measure_first_start())
            except Exception as exc:  # noqa: BLE001 - a benchmark reports what failed and goes on
                first.append({"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__})
    print(json.dumps({"cli": cli, "first_start": first}, indent=2))
    print("\n".join(markdown_lines(cli, first)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
