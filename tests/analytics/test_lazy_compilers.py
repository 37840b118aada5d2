"""The import hook of ``analytics/__init__.py``: Ibis loads only the SQL compilers asked for, and every
compiler the real package offers is still there under the same name.

Checked in fresh interpreters (this test process may have imported Ibis already). Not timed: the
benchmark times start-up (``bench/startup.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from analytics import compiler_modules
from tests import ROOT


def _run(code: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _compilers_init() -> str:
    import importlib.util

    spec = importlib.util.find_spec("ibis")
    assert spec is not None and spec.submodule_search_locations
    return (Path(spec.submodule_search_locations[0]) / "backends" / "sql" / "compilers" / "__init__.py").read_text()


def test_a_duckdb_query_loads_only_the_duckdb_compiler() -> None:
    out = _run(
        "import json, sys, analytics, ibis\n"
        "con = ibis.duckdb.connect()\n"
        "t = ibis.memtable({'a': [1, 2, 3]})\n"
        "total = int(con.execute(t.a.sum()))\n"
        "names = sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('ibis.backends.sql.compilers.'))\n"
        "print(json.dumps({'total': total, 'compilers': names}))"
    )
    assert out["total"] == 6
    assert "duckdb" in out["compilers"]
    assert not {"athena", "bigquery", "trino", "snowflake", "pyspark", "mssql"} & set(out["compilers"])


def test_without_the_hook_every_compiler_loads() -> None:
    """The check above can fail: plain Ibis imports them all."""
    out = _run(
        "import json, sys, ibis\n"
        "ibis.duckdb.connect()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ibis.backends.sql.compilers.'))))"
    )
    assert "ibis.backends.sql.compilers.athena" in out


def test_every_compiler_of_the_package_is_still_offered() -> None:
    classes = compiler_modules(_compilers_init())
    assert classes and classes["DuckDBCompiler"] == "duckdb" and classes["PySparkCompiler"] == "pyspark"
    out = _run(
        "import json, analytics\n"
        "import ibis.backends.sql.compilers as sc\n"
        f"names = {sorted(classes)!r}\n"
        "got = {n: getattr(sc, n).__module__ for n in names}\n"
        "got['__all__'] = sorted(sc.__all__)\n"
        "got['pyspark_module'] = sc.pyspark.compiler.__class__.__name__\n"
        "print(json.dumps(got))"
    )
    for name, module in classes.items():
        assert out[name] == f"ibis.backends.sql.compilers.{module}"
    assert out["__all__"] == sorted(classes)
    assert out["pyspark_module"] == "PySparkCompiler"


def test_to_sql_by_dialect_and_an_unknown_dialect() -> None:
    out = _run(
        "import json, analytics, ibis\n"
        "t = ibis.table({'a': 'int'}, name='t')\n"
        "sql = str(ibis.to_sql(t.a.sum(), dialect='mysql'))\n"
        "try:\n"
        "    ibis.to_sql(t, dialect='no_such_dialect')\n"
        "    refused = ''\n"
        "except ValueError as exc:\n"
        "    refused = str(exc)\n"
        "print(json.dumps({'sql': sql, 'refused': refused}))"
    )
    assert "`t0`.`a`" in out["sql"]  # MySQL quotes with backticks
    assert "no_such_dialect" in out["refused"]


def test_an_init_doing_anything_else_runs_as_it_is() -> None:
    source = _compilers_init()
    assert compiler_modules(source) is not None
    assert compiler_modules(source + "\nREGISTRY = {}\n") is None
    assert compiler_modules("from __future__ import annotations\n") is None
