"""The CLI starts light: building its parser imports no Ibis, pandas, DuckDB or database layer.

Not timed (times belong to the benchmark); what is checked is what a start imports, in a fresh
interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests import ROOT

HEAVY = ("ibis", "pandas", "duckdb", "numpy", "pyarrow", "plotly", "sklearn", "sqlalchemy", "sqlmodel", "streamlit")


def _modules_after(code: str) -> set[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m.split(".")[0] in ("services", "db", "charts"))


def test_building_the_parser_imports_nothing_heavy() -> None:
    modules = _modules_after("import cli\ncli.build_parser()")
    assert "cli" in modules
    assert not _heavy(modules), _heavy(modules)
    assert {m for m in modules if m.startswith("analytics.")} <= {"analytics.names"}


def test_help_of_every_command_imports_nothing_heavy() -> None:
    code = (
        "import contextlib, io, cli\n"
        "for argv in (['--help'], ['analyze', '--help'], ['import', '--help'], ['report', '--help']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        cli.main(argv)"
    )
    modules = _modules_after(code)
    assert not _heavy(modules), _heavy(modules)


def test_the_probe_sees_a_heavy_import() -> None:
    """The check above can fail: a command that needs pandas does import it."""
    assert "pandas" in _heavy(_modules_after("import cli\nimport analytics.outlook"))


def test_the_parser_shows_the_outlook_defaults() -> None:
    import cli
    from analytics import outlook

    args = cli.build_parser().parse_args(["analyze", "--dataset", "1", "--report", "outlook"])
    assert args.active_days == outlook.DEFAULT_ACTIVE_DAYS
    assert args.min_transitions == outlook.DEFAULT_MIN_TRANSITIONS
