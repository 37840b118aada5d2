"""Real exports as they are: repeated and empty header names, identical rows, Excel and Parquet
files, and files that are not tables at all."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from analytics.errors import BadInputError
from analytics.schema import ColumnMapping
from db.engine import data_dir
from services.importer import import_event_log, read_preview

REPEATED = (
    "number,category,opened,state,category,,updated\n"
    "INC1,network,2024-01-01T09:00:00Z,New,wifi,x,2024-01-01T09:00:00Z\n"
    "INC1,network,2024-01-01T09:05:00Z,Active,router,,2024-01-01T09:05:00Z\n"
    "INC2,email,2024-01-02T10:00:00Z,New,outlook,y,2024-01-02T10:00:00Z\n"
)


def _stored(result):
    return pq.read_table(data_dir() / "datasets" / str(result.dataset_id) / "events.parquet").to_pandas()


def test_repeated_and_empty_header_names_are_kept_under_distinct_names(engine):
    preview = read_preview(REPEATED.encode())
    assert preview.headers == ["number", "category", "opened", "state", "category (2)", "column 6", "updated"]
    assert preview.frame["category (2)"].tolist() == ["wifi", "router", "outlook"]
    mapping = ColumnMapping.of(
        journey="number", timestamp="updated", activity="state", segments=["category", "category (2)", "column 6"]
    )
    result = import_event_log(REPEATED.encode(), name="snow", mapping=mapping)
    assert (result.rows_read, result.events) == (3, 3)
    stored = _stored(result).sort_values("file_row")
    assert stored["segment:category (2)"].tolist() == ["wifi", "router", "outlook"]
    assert stored["segment:category"].tolist() == ["network", "network", "email"]


def test_the_repeat_of_a_name_is_usable_as_a_role(engine):
    mapping = ColumnMapping.of(journey="number", timestamp="opened", activity="category (2)")
    result = import_event_log(REPEATED.encode(), name="snow", mapping=mapping)
    assert sorted(_stored(result)["activity"]) == ["outlook", "router", "wifi"]


def test_a_name_that_matches_no_column_names_the_nearest(engine):
    mapping = ColumnMapping.of(journey="number", timestamp="opened", activity="category 2")
    with pytest.raises(BadInputError) as info:
        import_event_log(REPEATED.encode(), name="snow", mapping=mapping)
    assert "The nearest column is 'category (2)'" in str(info.value)
    assert info.value.column == "category 2"


def test_a_generated_name_never_takes_a_real_one(engine):
    data = "a,a,a (2),b\nj1,x,y,2024-01-01\n"
    assert read_preview(data.encode()).headers == ["a", "a (3)", "a (2)", "b"]
