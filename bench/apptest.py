"""Re-render time of a page when a filter is switched, with the app open on a dataset (AppTest).

The page runs headless inside the multipage app (as ``tests/pages/conftest.run_page`` does). Steps,
each timed as one ``AppTest.run()`` (a full script rerun, as a browser interaction triggers):

1. open the page on the dataset (cold: every loader computes);
2. switch a filter to a new value (its results are not cached yet);
3. switch it back (cached);
4. switch it to the new value again (cached).

Steps 3 and 4 are "a filter switch once cached". The filter is the first toggle, checkbox,
radio or select box the page shows whose options can change (e.g. repeats collapsed, level).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAGES = ("pages/5_Flows.py", "pages/7_Paths.py", "pages/6_Funnel.py")


def _pick_widget(at):  # type: ignore[no-untyped-def]
    for kind in ("toggle", "checkbox"):
        widgets = list(getattr(at, kind))
        if widgets:
            w = widgets[0]
            return w, kind, (not w.value, w.value)
    for kind in ("radio", "selectbox"):
        for w in getattr(at, kind):
            options = list(w.options)
            if len(options) >= 2:
                current = w.value
                other = next(o for o in options if o != str(current) and o != current)
                return w, kind, (other, current)
    return None, None, None


def _timed_run(at) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError("; ".join(str(e.value) for e in at.exception)[:300])
    return seconds


def measure_filter_switch(dataset_id: int, page: str | None = None) -> dict:
    """Times of the four steps above on the first of ``DEFAULT_PAGES`` present (or ``page``)."""
    os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
    from streamlit.testing.v1 import AppTest

    candidates = [page] if page else [p for p in DEFAULT_PAGES if (ROOT / p).exists()]
    if not candidates:
        return {"error": "no analysis page (pages/5_Flows.py, 7_Paths.py, 6_Funnel.py) on this branch"}
    page = candidates[0]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.query_params["dataset"] = str(dataset_id)
    at.switch_page(page)
    cold = _timed_run(at)
    widget, kind, (new, old) = _pick_widget(at)
    if widget is None:
        return {"error": f"{page} shows no toggle, checkbox, radio or select box to switch", "cold": cold}
    label = widget.label
    key = widget.key

    def switch(value) -> float:  # type: ignore[no-untyped-def]
        w = next(w for w in getattr(at, kind) if (w.key == key if key else w.label == label))
        w.set_value(value)
        return _timed_run(at)

    uncached = switch(new)
    back = switch(old)
    again = switch(new)
    return {
        "page": page,
        "widget": f"{kind} '{label}'",
        "cold": cold,
        "uncached": uncached,
        "cached": [back, again],
        "seconds": [back, again],
    }


def measure_page_start(page: str, dataset_id: int | None = None) -> dict:
    """Seconds to draw ``page`` (a path such as ``pages/1_Maps.py``, or ``app.py`` for the Overview)
    in a fresh session: ``first`` in a fresh process (a server just started: its imports counted),
    then ``fresh_session``: the same page in a new session of the same process (what a second
    user, or a new browser tab, waits for). Call it in a process of its own."""
    os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
    from streamlit.testing.v1 import AppTest

    def session() -> float:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        if dataset_id is not None:
            at.query_params["dataset"] = str(dataset_id)
        if page != "app.py":
            at.switch_page(page)
        return _timed_run(at)

    first = session()
    return {"page": page, "first": first, "fresh_session": [session(), session()]}


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.apptest [PAGE ...]``: each page's start, each page in a process of its own
    (on the data directory of ``JOURNEYLENS_DATA_DIR``, e.g. one with ``python cli.py demo``)."""
    import argparse
    import json
    import subprocess
    import sys

    parser = argparse.ArgumentParser(prog="python -m bench.apptest", description=main.__doc__)
    parser.add_argument("pages", nargs="*", help="default: app.py and every page in pages/")
    parser.add_argument("--dataset", type=int, help="open the pages on this dataset (?dataset=ID)")
    args = parser.parse_args(argv)
    pages = args.pages or ["app.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))]
    for page in pages:
        code = (
            "import json, sys; sys.path.insert(0, sys.argv[1]); from bench.apptest import measure_page_start; "
            "print(json.dumps(measure_page_start(sys.argv[2], None if sys.argv[3] == '-' else int(sys.argv[3]))))"
        )
        dataset = "-" if args.dataset is None else str(args.dataset)
        done = subprocess.run(
            [sys.executable, "-c", code, str(ROOT), page, dataset], cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode:
            print(json.dumps({"page": page, "error": done.stderr.strip().splitlines()[-1:]}), flush=True)
            continue
        out = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps({**out, "load": round(os.getloadavg()[0], 2)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
