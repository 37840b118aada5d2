"""A dataset that is a table on another backend (here a DuckDB database file, reached by URL like a
cluster) opens in the analysis pages as any imported one does."""

from __future__ import annotations

from services.external import register_external_dataset
from tests.pages.conftest import run_page
from tests.spark.conftest import small_stored_log, write_duckdb


def test_flows_page_runs_on_an_external_table(demo_engine, tmp_path):
    _raw, stored = small_stored_log(1200, seed=5)
    path = tmp_path / "warehouse.duckdb"
    write_duckdb(path, {"jl_events": stored})
    result = register_external_dataset("Warehouse journeys", f"duckdb://{path}", "jl_events")

    at = run_page("pages/5_Flows.py", query={"dataset": str(result.dataset_id)})
    journeys = [m for m in at.metric if m.label == "Journeys"][0]
    assert journeys.value == f"{stored.journey_id.nunique():,}"
    tables = [df.value for df in at.dataframe]
    transitions = [t for t in tables if {"Source", "Target", "Moves"} <= set(t.columns)][-1]
    moves = transitions.loc[transitions.Source == "(entry)", "Moves"].str.replace(",", "").astype(int)
    assert moves.sum() == stored.journey_id.nunique()
