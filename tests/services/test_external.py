"""Datasets on an external Ibis backend, exercised on a DuckDB database file (the same code path as
Spark or a warehouse: ``ibis.connect(url).table(name)``, expressions executed there)."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.engine import events_table, execute
from analytics.external import stored_layout_expr
from analytics.journeys import JourneyQuery, journey_steps
from analytics.schema import Role
from cli import main
from core.errors import BadInputError
from services.datasets import get_dataset_summary, get_event_source
from services.external import check_external_dataset, redact_url, register_external_dataset
from tests.spark.conftest import MAPPING, small_stored_log, write_duckdb


@pytest.fixture
def warehouse(tmp_path, engine):
    """A DuckDB file with the log raw (``raw``) and in the stored layout (``stored``)."""
    raw, stored = small_stored_log(1500, seed=3)
    path = tmp_path / "warehouse.duckdb"
    write_duckdb(path, {"raw": raw, "stored": stored})
    return {"url": f"duckdb://{path}", "raw": raw, "stored": stored}


def _steps(dataset_id: int, query: JourneyQuery = JourneyQuery()) -> pd.DataFrame:
    source, schema = get_event_source(dataset_id)
    out = execute(journey_steps(events_table(source), schema, query))
    return out.sort_values(["journey", "step"]).reset_index(drop=True)


def test_register_a_stored_layout_table_reads_roles_and_counts(warehouse):
    r = register_external_dataset("Warehouse log", warehouse["url"], "stored")
    stored = warehouse["stored"]
    assert r.created
    assert (r.events, r.journeys, r.accounts) == (len(stored), stored.journey_id.nunique(), stored.account_id.nunique())
    assert r.schema.has(Role.ACCOUNT) and r.schema.has(Role.CHANNEL) and r.schema.has(Role.NPS)
    assert not r.schema.has(Role.EFFORT) and not r.schema.has(Role.FCR)
    assert r.schema.segments == ("region",)
    summary = get_dataset_summary(r.dataset_id)
    assert summary.events == len(stored)
    assert summary.first_timestamp is not None
    source, _ = get_event_source(r.dataset_id)
    assert source.backend_url == warehouse["url"] and source.table_name == "stored"
    assert check_external_dataset(r.dataset_id) == len(stored)


def test_registering_again_adds_nothing(warehouse):
    first = register_external_dataset("A", warehouse["url"], "stored")
    again = register_external_dataset("A", warehouse["url"], "stored")
    assert not again.created and again.dataset_id == first.dataset_id


def test_raw_table_gets_the_stored_layout_on_the_backend(warehouse):
    built = register_external_dataset(
        "Raw", warehouse["url"], "raw", mapping=MAPPING, order_column="event_no", layout_table="raw_layout"
    )
    assert built.table_name == "raw_layout"
    stored = register_external_dataset("Stored", warehouse["url"], "stored")
    pd.testing.assert_frame_equal(_steps(built.dataset_id), _steps(stored.dataset_id), check_dtype=False)
    q = JourneyQuery(level="account", by="stage", collapse_repeats=False)
    pd.testing.assert_frame_equal(_steps(built.dataset_id, q), _steps(stored.dataset_id, q), check_dtype=False)


def test_layout_without_order_column_breaks_ties_by_activity(warehouse):
    from analytics.engine import connection

    con = connection(warehouse["url"])
    layout = execute(stored_layout_expr(con.table("raw"), MAPPING)).sort_values(["journey_code", "seq"])
    ordered = layout.groupby("journey_code", sort=False)
    # Within a journey: timestamp ascending, then activity name on ties.
    for _, g in list(ordered)[:200]:
        pairs = list(zip(g.timestamp, g.activity, strict=True))
        assert pairs == sorted(pairs)


def test_bad_url_table_and_layout_are_refused_with_context(warehouse):
    with pytest.raises(BadInputError, match="connection URL"):
        register_external_dataset("x", "not a url", "stored")
    with pytest.raises(BadInputError, match="no_such_table"):
        register_external_dataset("x", warehouse["url"], "no_such_table")
    with pytest.raises(BadInputError, match="missing: journey_code"):
        register_external_dataset("x", warehouse["url"], "raw")


def test_redact_url_hides_the_password():
    assert redact_url("trino://ana:s3cret@host:8080/hive/web") == "trino://ana:***@host:8080/hive/web"
    assert redact_url("pyspark://?spark.master=local[2]") == "pyspark://?spark.master=local[2]"


def test_cli_registers_and_checks(warehouse, capsys):
    rc = main(
        [
            "external",
            "register",
            "--name",
            "From CLI",
            "--url",
            warehouse["url"],
            "--table",
            "raw",
            "--map",
            "journey=journey_id",
            "--map",
            "timestamp=timestamp",
            "--map",
            "activity=activity",
            "--map",
            "account=account_id",
            "--order-column",
            "event_no",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "Registered dataset" in out and f"{len(warehouse['raw']):,} events" in out
    dataset_id = int(out.split("dataset ")[1].split(" ")[0])
    assert main(["external", "check", str(dataset_id)]) == 0
    assert f"{len(warehouse['raw']):,} events on the backend" in capsys.readouterr().out
    assert main(["external", "register", "--name", "x", "--url", warehouse["url"], "--table", "raw"]) == 2
    assert "missing: journey_code" in capsys.readouterr().err
