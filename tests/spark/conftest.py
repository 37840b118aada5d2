"""One local Spark session for the whole run (starting Spark costs ~8 s), and the small log it reads.

The Spark tests skip with a message where pyspark or Java is missing; CI installs pyspark
(requirements-dev.txt) and has Java 17.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from analytics.layout import to_stored_layout, write_parquet
from analytics.schema import NEIGHBOUR_COLUMNS, EventSchema
from bench.generate import column_mapping
from tests import ROOT

SPARK_URL = "pyspark://"
EVENTS_VIEW = "jl_events"
RAW_VIEW = "jl_raw"

MAPPING = column_mapping(segments=("region",))


def _java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (java_home and Path(java_home, "bin", "java").exists()))


def small_log(events: int = 2000, seed: int = 11) -> pd.DataFrame:
    """A small generated B2B log (bench/generate.py) with plain string columns and an event number."""
    sys.path.insert(0, str(ROOT))
    from bench.generate import generate

    frame = generate(events, seed).frame
    frame = frame.astype({c: "string" for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})
    frame.insert(0, "event_no", range(1, len(frame) + 1))
    return frame


def small_stored_log(events: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(raw, stored): ``small_log`` as generated and in the stored layout (``region`` as its one segment)."""
    raw = small_log(events, seed=seed)
    canon = raw.rename(columns={"region": "segment:region"}).drop(columns=["industry", "company_size"])
    return raw, to_stored_layout(canon.rename(columns={"event_no": "file_row"}), MAPPING.schema())


def write_duckdb(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """A DuckDB file at ``path`` holding each frame as a table of its name."""
    import duckdb

    con = duckdb.connect(str(path))
    for name, frame in tables.items():
        con.register(f"{name}_df", frame)
        con.execute(f"create table {name} as select * from {name}_df")
    con.close()


@pytest.fixture(scope="session")
def spark_log(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The log as raw rows, in the stored layout (pandas) and as the stored Parquet file."""
    raw = small_log()
    canon = raw.rename(columns={"region": "segment:region"}).drop(columns=["industry", "company_size"])
    schema: EventSchema = MAPPING.schema()
    stored = to_stored_layout(canon.rename(columns={"event_no": "file_row"}), schema)
    directory = tmp_path_factory.mktemp("spark_log")
    parquet = directory / "events.parquet"
    write_parquet(stored, str(parquet))
    raw_parquet = directory / "raw.parquet"
    raw.to_parquet(raw_parquet, index=False)
    return {"raw": raw, "stored": stored, "schema": schema, "parquet": parquet, "raw_parquet": raw_parquet}


@pytest.fixture(scope="session")
def spark(spark_log: dict) -> Iterator[object]:
    """A local-mode Spark session with the stored layout as view ``jl_events`` and the raw log as
    ``jl_raw``, both read from Parquet as a cluster would; ``pyspark://`` connects to it."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -r requirements-dev.txt)")
    if not _java_available():
        pytest.skip("Java (17 for pyspark 4) is not installed: the Spark agreement tests need it")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("journeylens-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
        # A test's queries are many and tiny: planning them once (no adaptive re-planning), running them
        # interpreted (no Java code generated and compiled per query) and a JVM that compiles its own
        # code quickly (C1 only) roughly halve the tests' time; the results do not depend on any of it.
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.log.level", "ERROR")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    # As a table registered on a cluster: the stored layout without the neighbour facts an import
    # adds, so the cluster runs the window functions the facts stand for, and agreeing with DuckDB
    # (which reads the facts) checks one against the other.
    stored = session.read.parquet(str(spark_log["parquet"]))
    stored.drop(*NEIGHBOUR_COLUMNS).createOrReplaceTempView(EVENTS_VIEW)
    session.read.parquet(str(spark_log["raw_parquet"])).createOrReplaceTempView(RAW_VIEW)
    yield session
    from analytics import engine

    engine._shared.pop(SPARK_URL, None)
    session.stop()
