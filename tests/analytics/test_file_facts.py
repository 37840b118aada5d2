"""The facts an import stores in the footer of a dataset's file (:mod:`analytics.file_facts`): what
they hold (by hand on a tiny log, and against a pandas recount of the stored rows), and that every
analysis reading them answers exactly as the queries they stand for, from Parquet and from memory;
a file without them, or over their limits, is answered by the queries; an upgrade stores them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analytics import file_facts
from analytics.conversion import goal
from analytics.engine import EventSource, events_table, make_hot
from analytics.file_facts import FILE_FACTS_KEY, facts_of_frame, read_file_facts
from analytics.funnel import FunnelSpec, compute_funnel
from analytics.journeys import JourneyQuery, load_labels, stored_labels
from analytics.paths import compute_variants
from analytics.schema import ColumnMapping
from analytics.transitions import _stored_pairs, compute_transitions
from services.datasets import facts_left_out, get_event_source, lacks_neighbour_facts, upgrade_datasets
from services.importer import import_event_log
from tests.factories import B2B_MAPPING, b2b_csv, b2b_log

TINY = (
    "journey_id,timestamp,activity\n"
    "j1,2024-01-01T10:00:00Z,A\n"
    "j1,2024-01-01T11:00:00Z,B\n"
    "j1,2024-01-01T12:00:00Z,A\n"
    "j1,2024-01-01T13:00:00Z,B\n"
    "j2,2024-01-02T10:00:00Z,B\n"
    "j3,2024-01-03T10:00:00Z,A\n"
    "j3,2024-01-03T10:00:00Z,A\n"
)


def _footer(path: str) -> dict:
    return json.loads(pq.read_schema(path).metadata[FILE_FACTS_KEY.encode()])


def _without_facts(path: str, target: Path) -> EventSource:
    """The same rows and layout in a file without the facts (as a dataset imported before them)."""
    table = pq.read_table(path)
    metadata = {k: v for k, v in (table.schema.metadata or {}).items() if k != FILE_FACTS_KEY.encode()}
    pq.write_table(table.replace_schema_metadata(metadata), target, row_group_size=122_880)
    return EventSource(parquet_path=str(target), label="without facts")


@pytest.fixture
def imported(engine):
    result = import_event_log(b2b_csv(b2b_log(journeys=150)), name="b2b", mapping=B2B_MAPPING)
    return get_event_source(result.dataset_id)


def test_the_facts_of_a_tiny_log_by_hand(engine):
    result = import_event_log(
        TINY.encode(),
        name="tiny",
        mapping=ColumnMapping.of(journey="journey_id", timestamp="timestamp", activity="activity"),
    )
    source, _ = get_event_source(result.dataset_id)
    facts = _footer(source.parquet_path)
    assert facts["activities"] == [[0, "A"], [1, "B"]]
    # j1: A→B, B→A, A→B, B→exit; j2: B→exit; j3: A→A, A→exit.
    # [source, target, pairs, pairs opening their journey, journeys with the pair]
    assert facts["pairs"] == [[0, -2, 1, 0, 1], [0, 0, 1, 1, 1], [0, 1, 2, 1, 1], [1, -2, 2, 1, 2], [1, 0, 1, 0, 1]]


def test_the_imports_facts_equal_a_pandas_recount_of_the_stored_rows(imported):
    source, _ = imported
    stored = pd.read_parquet(source.parquet_path)
    assert _footer(source.parquet_path) == json.loads(facts_of_frame(stored))
    assert len(_footer(source.parquet_path)["pairs"]) > 20


QUERIES = {
    "repeats kept": JourneyQuery(collapse_repeats=False),
    "repeats collapsed": JourneyQuery(),
    "renamed touchpoints": JourneyQuery(touchpoint_of=(("Demo", "Live demo"), ("Blog post", "Article"))),
    "merged touchpoints": JourneyQuery(touchpoint_of=(("Demo", "Meeting"), ("Proposal", "Meeting"))),
    "channel filter": JourneyQuery(channels=("web",)),
    "outcome filter": JourneyQuery(outcomes=("won",)),
    "through": JourneyQuery(through=("Proposal",)),
    "accounts": JourneyQuery(level="account"),
    "stages": JourneyQuery(by="stage"),
}
READ_FROM_FACTS = {"repeats kept", "repeats collapsed", "renamed touchpoints"}


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_analysis_answers_as_the_queries_do(imported, tmp_path, name):
    source, schema = imported
    query = QUERIES[name]
    with_facts = events_table(source)
    without = events_table(_without_facts(source.parquet_path, tmp_path / "old.parquet"))
    assert read_file_facts(with_facts) is not None and read_file_facts(without) is None
    assert (_stored_pairs(with_facts, schema, query) is not None) == (name in READ_FROM_FACTS)

    def same(fn, **kwargs):
        a, b = fn(with_facts, schema, query, **kwargs), fn(without, schema, query, **kwargs)
        assert len(b) > 0
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))

    same(compute_transitions)
    same(compute_transitions, include_entry_exit=False, top=7)
    if query.by == "touchpoint":
        same(compute_funnel, spec=FunnelSpec(steps=("Case study", "Pricing page", "Contract signed")))
    same(compute_variants, conversion=goal("Contract signed"))
    labels = load_labels(with_facts, schema, query).sort_values("node_code", ignore_index=True)
    pd.testing.assert_frame_equal(
        labels, load_labels(without, schema, query).sort_values("node_code", ignore_index=True)
    )


def test_the_facts_are_read_for_a_dataset_in_memory(imported):
    source, schema = imported
    on_parquet = compute_transitions(events_table(source), schema, JourneyQuery())
    assert make_hot(source).in_memory
    events = events_table(source)
    assert stored_labels(events, JourneyQuery()) is not None
    pd.testing.assert_frame_equal(compute_transitions(events, schema, JourneyQuery()), on_parquet)


def test_over_the_limits_the_footer_says_so_and_the_queries_answer(engine, monkeypatch):
    monkeypatch.setattr(file_facts, "MAX_PAIRS", 3)
    result = import_event_log(b2b_csv(b2b_log(journeys=40)), name="many pairs", mapping=B2B_MAPPING)
    source, schema = get_event_source(result.dataset_id)
    footer = _footer(source.parquet_path)
    assert "pairs of activities (more than 3)" in footer["omitted"]
    events = events_table(source)
    assert read_file_facts(events) is None
    assert not lacks_neighbour_facts(result.dataset_id)  # an upgrade would not rewrite it again
    assert facts_left_out(result.dataset_id) == footer["omitted"]  # what the Data page says
    assert compute_transitions(events, schema, JourneyQuery())["count"].sum() > 0


def test_an_upgrade_stores_the_facts_in_a_dataset_imported_before_them(imported):
    source, _ = imported
    path = Path(source.parquet_path)
    facts = _footer(str(path))
    _without_facts(str(path), path.with_name("old.parquet"))
    path.with_name("old.parquet").replace(path)
    dataset_id = int(path.parent.name)
    assert lacks_neighbour_facts(dataset_id)
    assert [d.id for d in upgrade_datasets()] == [dataset_id]
    assert _footer(str(path)) == facts
    assert not lacks_neighbour_facts(dataset_id)
