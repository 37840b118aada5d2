"""The two real logs of ../shared/data import with the counts of its README (skipped where absent).

Transition counts depend on the order within journeys (timestamp, then file row), so they check
that the stored order follows the tie rule.
"""

from __future__ import annotations

import pandas as pd
import pytest

from services.datasets import get_event_source
from services.importer import ImportOptions, import_event_log, read_preview, suggest_mapping, suggest_where
from tests.realdata_figures import HELPDESK_AFTER_TAKE_IN_CHARGE

# Module fixtures read a whole real log: the module on one xdist worker, so they run once.
pytestmark = [pytest.mark.realdata, pytest.mark.xdist_group("realdata-import")]

# Rows identical in every column to an earlier row, counted with pandas (``duplicated()`` on the
# trimmed text of every column): helpdesk 127 (in both of its files), BPIC 2012 none.
IDENTICAL_HD = 127
IDENTICAL_BPIC = 0


def _stored(dataset_id: int) -> pd.DataFrame:
    source, _ = get_event_source(dataset_id)
    return pd.read_parquet(source.parquet_path)


def _next_counts(stored: pd.DataFrame, activity: str) -> dict[str, int]:
    nxt = stored.groupby("journey_code", sort=False)["activity"].shift(-1)
    return nxt[stored["activity"] == activity].value_counts().to_dict()


def _import(path, **options):
    preview = read_preview(path)
    return import_event_log(
        path, name=path.name, mapping=suggest_mapping(preview.headers), options=ImportOptions(**options)
    )


@pytest.fixture(scope="module")
def bpic_journey(shared_data, tmp_path_factory, migrated_database):
    """(import result, stored events) of the BPIC 2012 journey file, imported once for the module into
    its own new database; the tests only read them."""
    from tests.conftest import template_data_dir

    with template_data_dir(tmp_path_factory, migrated_database, "bpic-journey"):
        result = _import(shared_data / "bpic2012" / "bpic2012_journey_events.csv.gz")
        return result, _stored(result.dataset_id)


def test_bpic2012_journey_file(bpic_journey):
    result, stored = bpic_journey
    assert (result.events, result.journeys, result.activities) == (164_506, 13_087, 23)
    assert (result.rows_read, result.identical_rows, result.rejected_rows) == (164_506, 0, 0)
    # 25,365 events share their timestamp with another event of the journey; 13,993 of them follow one.
    assert result.ties == 13_993
    grouped = stored.groupby(["journey_code", "timestamp"]).size()
    assert int(grouped[grouped > 1].sum()) == 25_365

    outcomes = stored.groupby("journey_id")["outcome"].first().value_counts().to_dict()
    assert outcomes == {"declined": 7_635, "cancelled": 2_807, "approved": 2_246, "open": 399}
    assert _next_counts(stored, "A_PARTLYSUBMITTED") == {
        "A_PREACCEPTED": 6_959,
        "A_DECLINED": 5_301,
        "W_Afhandelen leads": 760,
        "W_Beoordelen fraude": 67,
    }
    pairs = pd.DataFrame({"a": stored["activity"], "b": stored.groupby("journey_code")["activity"].shift(-1)})
    top = pairs.dropna().value_counts().head(1)
    assert top.index[0] == ("W_Nabellen offertes", "W_Nabellen offertes") and int(top.iloc[0]) == 13_521
    assert stored["value"].notna().sum() == 13_087  # the amount on each journey's first row


def test_bpic2012_raw_export_filtered_to_complete(shared_data, engine, bpic_journey):
    path = shared_data / "bpic2012" / "bpic2012_events.csv.gz"
    preview = read_preview(path)
    mapping = suggest_mapping(preview.headers)
    assert mapping.as_dict()["journey"] == "case:concept:name"
    assert mapping.as_dict()["activity"] == "concept:name"
    assert mapping.as_dict()["timestamp"] == "time:timestamp"
    where = suggest_where(preview.headers, preview.frame)
    assert where == (("lifecycle:transition", "COMPLETE"),)
    result = import_event_log(path, name="raw", mapping=mapping, options=ImportOptions(where=where))
    assert (result.events, result.journeys, result.activities) == (164_506, 13_087, 23)
    assert result.rows_read == 262_200 and result.rows_filtered_out == 97_694

    # Same events in the same order as the journey-layout file.
    ours, theirs = _stored(result.dataset_id), bpic_journey[1]
    for column in ("journey_id", "seq", "timestamp", "activity"):
        assert ours[column].tolist() == theirs[column].tolist(), column


def test_bpic2012_raw_export_unfiltered(shared_data, engine):
    result = _import(shared_data / "bpic2012" / "bpic2012_events.csv.gz")
    assert (result.events, result.journeys, result.activities) == (262_200, 13_087, 24)
    assert (result.rows_read, result.identical_rows, result.identical_rows_dropped) == (262_200, IDENTICAL_BPIC, 0)


def test_helpdesk_journey_file(shared_data, engine):
    path = shared_data / "helpdesk" / "helpdesk_journey_events.csv.gz"
    result = _import(path)
    assert (result.events, result.journeys, result.accounts, result.activities) == (21_348, 4_580, 397, 14)
    assert (result.rows_read, result.identical_rows, result.identical_rows_dropped) == (21_348, IDENTICAL_HD, 0)
    stored = _stored(result.dataset_id)
    first = stored[stored["seq"] == 0]["activity"].value_counts()
    assert first.head(3).to_dict() == {"Assign seriousness": 4_384, "Insert ticket": 118, "Take in charge ticket": 74}
    after = _next_counts(stored, "Take in charge ticket")
    assert {k: after[k] for k in HELPDESK_AFTER_TAKE_IN_CHARGE} == HELPDESK_AFTER_TAKE_IN_CHARGE
    # Asked to, the rows identical in every column go (the first of each stays).
    dropped = _import(path, drop_identical_rows=True)
    assert (dropped.events, dropped.identical_rows_dropped) == (21_348 - IDENTICAL_HD, IDENTICAL_HD)


def test_helpdesk_raw_export(shared_data, engine):
    path = shared_data / "helpdesk" / "helpdesk_events.csv.gz"
    preview = read_preview(path)
    mapping = suggest_mapping(preview.headers)
    assert mapping.as_dict()["account"] == "customer"
    assert "org:resource" in mapping.segments
    result = import_event_log(path, name="hd", mapping=mapping)
    assert result.rows_read == 21_348
    assert (result.events, result.journeys, result.accounts, result.activities) == (21_348, 4_580, 397, 14)
