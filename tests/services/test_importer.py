"""The import use case: stored layout, idempotence, options, reports, presets, atomicity."""

from __future__ import annotations

import gzip
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlmodel import select

from analytics.layout import to_stored_layout
from analytics.schema import ColumnMapping
from core.errors import BadInputError
from db.engine import data_dir, read_session
from db.models import ActivityLink, Dataset
from services import importer
from services.datasets import delete_dataset, get_event_source
from services.importer import (
    ImportOptions,
    find_mapping_preset,
    get_rejected_rows,
    import_event_log,
    list_mapping_presets,
    read_preview,
    save_mapping_preset,
)
from services.maps import create_map_from_template

CSV = (
    "case,when,step,company,person,role,channel,stage,result,amount,nps,csat,effort,fcr,region\n"
    "j2,2024-03-01T10:00:00Z,Visit,acme,p2,champion,web,Awareness,won,10,9,5,2,yes,EU\n"
    "j1,2024-03-01T09:00:00+01:00,Visit,acme,p1,user,web,Awareness,won,,,,,,EU\n"
    "j1,2024-03-01T08:30:00Z,Demo,acme,p1,user,sales,Consideration,won,20.5,7,4,3,no,EU\n"
    "j1,2024-03-01T08:30:00Z,Pricing,acme,p1,user,web,Decision,won,,,,,,EU\n"
    "j3,2024-03-02T10:00:00Z,Visit,,p3,,email,Awareness,lost,,0,1,5,1,US\n"
)
FULL = ColumnMapping.of(
    segments=["region"],
    journey="case",
    timestamp="when",
    activity="step",
    account="company",
    contact="person",
    role="role",
    channel="channel",
    stage="stage",
    outcome="result",
    value="amount",
    nps="nps",
    csat="csat",
    effort="effort",
    fcr="fcr",
)
MINIMAL = ColumnMapping.of(journey="case", timestamp="when", activity="step")


def _stored(result) -> pd.DataFrame:
    source, _ = get_event_source(result.dataset_id)
    return pd.read_parquet(source.parquet_path)


def _datasets() -> list[Dataset]:
    with read_session() as session:
        return list(session.exec(select(Dataset)).all())


def test_stored_layout_is_that_of_analytics_layout(engine):
    result = import_event_log(CSV.encode(), name="full", mapping=FULL)
    source, schema = get_event_source(result.dataset_id)
    assert schema == FULL.schema()
    ours = pq.read_table(source.parquet_path)

    # The same rows through the reference implementation.
    frame = pd.read_csv(pd.io.common.StringIO(CSV), dtype=str, keep_default_na=False)
    canonical = pd.DataFrame(
        {
            "journey_id": frame["case"],
            "timestamp": pd.to_datetime(frame["when"], utc=True),
            "activity": frame["step"],
            "account_id": frame["company"].replace("", None),
            "contact_id": frame["person"],
            "role": frame["role"].replace("", None),
            "channel": frame["channel"],
            "stage": frame["stage"],
            "outcome": frame["result"],
            "value": pd.to_numeric(frame["amount"]),
            "nps": pd.to_numeric(frame["nps"]),
            "csat": pd.to_numeric(frame["csat"]),
            "effort": pd.to_numeric(frame["effort"]),
            "fcr": frame["fcr"].map({"yes": True, "no": False, "1": True, "": None}),
            "segment:region": frame["region"],
        }
    )
    reference = to_stored_layout(canonical, FULL.schema())
    assert ours.column_names == list(reference.columns)
    got = ours.to_pandas()
    for column in reference.columns:
        left, right = got[column], reference[column]
        if column == "timestamp":
            assert (left == right).all(), column
        else:
            assert (
                left.astype(object).where(left.notna(), None).tolist()
                == right.astype(object).where(right.notna(), None).tolist()
            ), column
    # Order: journey, then timestamp (UTC), then file row; j1's 08:30 tie keeps file order (Demo, Pricing).
    assert got["activity"].tolist() == ["Visit", "Demo", "Pricing", "Visit", "Visit"]
    assert got["seq"].tolist() == [0, 1, 2, 0, 0]
    assert result.ties == 1
    # Account: j3 has none and is its own account; acme's three contacts share one.
    assert got["account_id"].tolist() == ["acme", "acme", "acme", "acme", "j3"]
    assert got["account_seq"].tolist() == [0, 1, 2, 3, 0]
    assert (result.events, result.journeys, result.accounts, result.activities) == (5, 3, 2, 3)
    assert result.first_timestamp == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert result.last_timestamp == datetime(2024, 3, 2, 10, 0, tzinfo=UTC)


def test_reimport_adds_nothing_and_other_options_make_a_new_dataset(engine, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(CSV, encoding="utf-8")
    first = import_event_log(path, name="a", mapping=MINIMAL)
    again = import_event_log(path, name="b", mapping=MINIMAL)
    assert first.created and not again.created
    assert again.dataset_id == first.dataset_id and again.events == first.events
    assert len(_datasets()) == 1
    other = import_event_log(path, name="c", mapping=MINIMAL, options=ImportOptions(timezone="Europe/Paris"))
    assert other.created and other.dataset_id != first.dataset_id
    assert len(_datasets()) == 2


def test_bytes_gzip_and_path_sources_agree(engine, tmp_path):
    plain = tmp_path / "log.csv"
    plain.write_text(CSV, encoding="utf-8")
    packed = tmp_path / "log.csv.gz"
    packed.write_bytes(gzip.compress(CSV.encode()))
    a = import_event_log(plain, name="plain", mapping=FULL)
    b = import_event_log(packed, name="gz", mapping=FULL)
    c = import_event_log(packed.read_bytes(), name="gz bytes", mapping=FULL, source_name="log.csv.gz")
    assert a.created and b.created and not c.created  # same bytes as b
    pd.testing.assert_frame_equal(_stored(a), _stored(b))
    assert "gzip" in " ".join(b.notes)


def test_every_row_is_an_event_and_identical_rows_are_dropped_only_when_asked(engine):
    rows = (
        "case,when,step,channel,note\n"
        "j1,2024-01-01 10:00,A,web,first\n"
        "j1,2024-01-01 10:00,A,web,first\n"  # row 2: identical in every column to row 1
        "j1,2024-01-01 10:00,A,email,first\n"  # differs in a mapped column
        "j1,2024-01-01 10:00:00,A,web,first\n"  # same instant, different text: not identical
        "j1,2024-01-01 10:00,A,web,second\n"  # differs only in an unmapped column
        "j1, 2024-01-01 10:00 ,A,web,first\n"  # identical once trimmed
    )
    mapping = ColumnMapping.of(journey="case", timestamp="when", activity="step", channel="channel")
    kept = import_event_log(rows.encode(), name="k", mapping=mapping)
    assert (kept.rows_read, kept.events, kept.identical_rows, kept.identical_rows_dropped) == (6, 6, 2, 0)
    assert _stored(kept)["file_row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert kept.ties == 5
    dropped = import_event_log(
        rows.encode(), name="d", mapping=mapping, options=ImportOptions(drop_identical_rows=True)
    )
    assert (dropped.events, dropped.identical_rows, dropped.identical_rows_dropped) == (4, 2, 2)
    assert _stored(dropped)["file_row"].tolist() == [1, 3, 4, 5]
    # Fewer mapped columns never make more rows identical: the whole row counts.
    minimal = import_event_log(rows.encode(), name="m", mapping=MINIMAL)
    assert (minimal.events, minimal.identical_rows) == (6, 2)
    assert "6 rows read, 6 events stored; 2 rows repeat an earlier row in every column (kept" in minimal.rows_line()
    # How to drop them, named for the page and the terminal alike (before: "--drop-identical-rows or the page's checkbox").
    assert "(kept; the import's “drop rows identical in every column” (--drop-identical-rows) drops them)" in (
        minimal.rows_line()
    )


def test_rows_line_counts_in_words():
    line = importer.describe_rows(
        rows_read=1, events=1, identical_rows=1, identical_rows_dropped=1, rejected_rows=1, rows_filtered_out=1
    )
    assert line == (
        "1 row read, 1 event stored; 1 row repeats an earlier row in every column (all dropped); "
        "1 row left out by the filter; 1 row rejected."
    )
    line = importer.describe_rows(
        rows_read=2, events=2, identical_rows=0, identical_rows_dropped=0, rejected_rows=0, rows_filtered_out=0
    )
    assert line == "2 rows read, 2 events stored; no row repeats another in every column; 0 rows rejected."


def test_json_summary_keys(engine):
    result = import_event_log(CSV.encode(), name="j", mapping=FULL)
    summary = result.summary()
    assert {
        "rows_read",
        "identical_rows",
        "identical_rows_dropped",
        "rows_filtered_out",
        "created",
        "events",
        "rejected_rows",
        "dataset_id",
    } <= set(summary)
    assert (summary["rows_read"], summary["events"], summary["created"]) == (5, 5, True)
    again = import_event_log(CSV.encode(), name="j", mapping=FULL).summary()
    assert (again["created"], again["rows_read"], again["identical_rows"]) == (False, 5, 0)


def test_where_filter_keeps_matching_rows_only(engine):
    rows = "case,when,step,lifecycle:transition\nj1,2024-01-01T10:00:00Z,A,start\nj1,2024-01-01T10:05:00Z,A, complete \nj1,2024-01-01T11:00:00Z,B,complete\nj2,not a date,C,start\n"
    result = import_event_log(
        rows.encode(), name="w", mapping=MINIMAL, options=ImportOptions(where=(("lifecycle:transition", "complete"),))
    )
    assert result.events == 2
    assert result.rows_read == 4 and result.rows_filtered_out == 2
    assert _stored(result)["file_row"].tolist() == [2, 3]
    assert any("left out by the filter" in n for n in result.notes)


@pytest.mark.parametrize(
    ("value", "options", "expected_utc"),
    [
        ("2024-03-01 10:00", {"timezone": "Europe/Paris"}, "2024-03-01T09:00:00+00:00"),
        ("2024-07-01 10:00", {"timezone": "Europe/Paris"}, "2024-07-01T08:00:00+00:00"),
        ("2024-07-01T10:00:00-04:00", {"timezone": "Europe/Paris"}, "2024-07-01T14:00:00+00:00"),
        ("2024-07-01 10:00:00 +0530", {}, "2024-07-01T04:30:00+00:00"),
        ("2024-07-01T10:00:00.123456789Z", {}, "2024-07-01T10:00:00.123456+00:00"),
        ("2024-07-01T23:30:00", {"date_only": True, "timezone": "America/New_York"}, "2024-07-01T04:00:00+00:00"),
        ("13/04/2024 08:15", {}, "2024-04-13T08:15:00+00:00"),
        ("04/13/2024 8:15 PM", {}, "2024-04-13T20:15:00+00:00"),
        ("13.04.24 08:15:30", {}, "2024-04-13T08:15:30+00:00"),
        ("2024/04/13 08:15", {}, "2024-04-13T08:15:00+00:00"),
        ("1712996100", {}, "2024-04-13T08:15:00+00:00"),
        ("1712996100000", {}, "2024-04-13T08:15:00+00:00"),
        ("13 Apr 2024 08:15", {}, "2024-04-13T08:15:00+00:00"),
        ("April 13, 2024", {}, "2024-04-13T00:00:00+00:00"),
    ],
)
def test_timestamp_forms(engine, value, options, expected_utc):
    rows = f'case,when,step\nj1,"{value}",A\n'
    result = import_event_log(rows.encode(), name="t", mapping=MINIMAL, options=ImportOptions(**options))
    assert _stored(result)["timestamp"].iloc[0].isoformat() == expected_utc


def test_day_order_detected_and_reported(engine):
    rows = "case,when,step\nj1,03/04/2024,A\nj1,25/04/2024,B\n"
    result = import_event_log(rows.encode(), name="d", mapping=MINIMAL)
    assert result.dayfirst is True and result.dayfirst_detected
    assert any("day-first (detected: '25/04/2024'" in n for n in result.notes)
    assert _stored(result)["timestamp"].dt.strftime("%Y-%m-%d").tolist() == ["2024-04-03", "2024-04-25"]
    ambiguous = import_event_log(b"case,when,step\nj1,03/04/2024,A\n", name="a", mapping=MINIMAL)
    assert ambiguous.dayfirst is False
    assert any("assumed" in n for n in ambiguous.notes)
    chosen = import_event_log(
        b"case,when,step\nj1,03/04/2024,A\n", name="c", mapping=MINIMAL, options=ImportOptions(dayfirst=True)
    )
    assert _stored(chosen)["timestamp"].iloc[0].strftime("%Y-%m-%d") == "2024-04-03"
    assert not chosen.dayfirst_detected


def test_rejected_report_is_kept_with_the_dataset(engine):
    rows = (
        "case,when,step,nps\nj1,2024-01-01,A,9\nj1,yesterday,B,\n,2024-01-02,C,\nj2,2024-01-03,D,12\nj2,2024-01-04,E\n"
    )
    with pytest.raises(BadInputError) as info:
        import_event_log(
            rows.encode(),
            name="r",
            mapping=ColumnMapping.of(journey="case", timestamp="when", activity="step", nps="nps"),
        )
    assert info.value.row == 5  # problems of structure are found while reading, before values are checked
    with pytest.raises(BadInputError) as info:
        import_event_log(
            rows.encode()[: rows.rindex("j2,2024-01-04")],
            name="r",
            mapping=ColumnMapping.of(journey="case", timestamp="when", activity="step", nps="nps"),
        )
    assert info.value.row == 2  # then the first bad value in file order
    assert "2 more rows of this file have problems too" in str(info.value)
    result = import_event_log(
        rows.encode(),
        name="r",
        mapping=ColumnMapping.of(journey="case", timestamp="when", activity="step", nps="nps"),
        options=ImportOptions(allow_bad_rows=True),
    )
    assert result.events == 1 and result.rejected_rows == 4
    report = result.rejected
    assert report["row"].tolist() == [2, 3, 4, 5]
    assert report["reason"].tolist() == [
        "Unreadable timestamp",
        "Empty journey id",
        "Unreadable nps",
        "The row has 3 values but the header has 4 columns",
    ]
    assert report.loc[0, "value"] == "yesterday" and report.loc[2, "value"] == "12"
    pd.testing.assert_frame_equal(get_rejected_rows(result.dataset_id), report)
    again = import_event_log(
        rows.encode(),
        name="r",
        mapping=ColumnMapping.of(journey="case", timestamp="when", activity="step", nps="nps"),
        options=ImportOptions(allow_bad_rows=True),
    )
    assert not again.created and again.rejected_rows == 4
    pd.testing.assert_frame_equal(again.rejected, report)


def test_quoted_values_keep_delimiters_quotes_and_line_breaks(engine):
    rows = 'case,when,step\n"j,1",2024-01-01T00:00:00Z,"Said ""hi""\non two lines"\n"j,1",2024-01-02T00:00:00Z,Plain\n'
    result = import_event_log(rows.encode(), name="q", mapping=MINIMAL)
    stored = _stored(result)
    assert stored["journey_id"].tolist() == ["j,1", "j,1"]
    assert stored["activity"].tolist() == ['Said "hi"\non two lines', "Plain"]


def test_progress_is_reported_in_order(engine):
    seen: list[tuple[float, str]] = []
    import_event_log(CSV.encode(), name="p", mapping=FULL, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and seen[-1][1] == "Done"


def test_failure_midway_leaves_nothing(engine, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "build_event_store", boom)
    with pytest.raises(RuntimeError):
        import_event_log(CSV.encode(), name="x", mapping=FULL)
    assert _datasets() == []
    assert list((data_dir() / "datasets").iterdir()) == []


def test_failure_while_saving_leaves_nothing(engine, monkeypatch):
    real = importer.write_session

    @contextmanager
    def commit_fails(engine=None):
        with real(engine) as session:
            yield session
            raise RuntimeError("commit failed")  # after the files moved into place

    monkeypatch.setattr(importer, "write_session", commit_fails)
    with pytest.raises(RuntimeError):
        import_event_log(CSV.encode(), name="x", mapping=FULL)
    assert _datasets() == []
    assert list((data_dir() / "datasets").iterdir()) == []


def test_delete_removes_the_files(engine):
    result = import_event_log(CSV.encode(), name="del", mapping=FULL, options=ImportOptions(allow_bad_rows=True))
    folder = data_dir() / "datasets" / str(result.dataset_id)
    assert (folder / "events.parquet").exists()
    delete_dataset(result.dataset_id)
    assert not folder.exists() and _datasets() == []


def test_import_can_link_to_a_map(engine):
    map_id = create_map_from_template(template_key="b2b-5-stage", name="M")
    rows = "case,when,step\nj1,2024-01-01,Blog\nj1,2024-01-02,Pricing page\nj1,2024-01-03,Fax\n"
    result = import_event_log(rows.encode(), name="l", mapping=MINIMAL, map_id=map_id)
    with read_session() as session:
        dataset = session.get(Dataset, result.dataset_id)
        links = session.exec(select(ActivityLink).where(ActivityLink.dataset_id == result.dataset_id)).all()
    assert dataset.map_id == map_id
    assert {link.activity: link.touchpoint_id is not None for link in links} == {
        "Blog": True,
        "Pricing page": True,
        "Fax": False,
    }


def test_dataset_row_records_options_and_schema(engine):
    result = import_event_log(CSV.encode(), name="opts", mapping=FULL, options=ImportOptions(timezone="Asia/Tokyo"))
    with read_session() as session:
        d = session.get(Dataset, result.dataset_id)
    assert d.column_mapping == FULL.to_json()
    assert d.import_options["schema"] == FULL.schema().to_dict()
    assert d.import_options["timezone"] == "Asia/Tokyo"
    assert d.storage_path == f"datasets/{d.id}/events.parquet"
    assert (d.events, d.duplicates_removed, d.ties) == (result.events, 0, 1)
    assert (d.import_options["rows_read"], d.import_options["identical_rows"]) == (5, 0)


def test_mapping_presets_are_found_by_header(engine):
    headers = ["Case", "When", "Step", "lifecycle:transition"]
    assert find_mapping_preset(headers) is None
    mapping = ColumnMapping.of(journey="Case", timestamp="When", activity="Step")
    options = ImportOptions(dayfirst=True, timezone="Europe/Oslo", where=(("lifecycle:transition", "complete"),))
    save_mapping_preset("CRM export", headers, mapping, options)
    found = find_mapping_preset([" case", "WHEN", "step", "lifecycle:transition"])
    assert found is not None and found.name == "CRM export"
    assert found.mapping == mapping
    assert (found.options.dayfirst, found.options.timezone, found.options.where) == (True, "Europe/Oslo", options.where)
    save_mapping_preset("CRM export", headers, mapping, ImportOptions())  # same name: replaced
    assert len(list_mapping_presets()) == 1
    assert find_mapping_preset(["Case", "When"]) is None
    with pytest.raises(BadInputError):
        save_mapping_preset("bad", headers, ColumnMapping.of(journey="Nope", timestamp="When", activity="Step"))


def test_preview_reads_the_first_rows_only(tmp_path):
    big = "case,when,step\n" + "".join(f"j{i},2024-01-01,A\n" for i in range(50_000))
    path = tmp_path / "big.csv"
    path.write_text(big, encoding="utf-8")
    preview = read_preview(path, rows=10)
    assert preview.headers == ["case", "when", "step"]
    assert len(preview.frame) == 10 and not preview.complete
    assert preview.frame["case"].tolist()[:2] == ["j0", "j1"]
    assert (preview.encoding, preview.delimiter_label) == ("utf-8", "comma")


def test_preview_lists_bad_rows_instead_of_failing(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("case,when,step\nj1,2024-01-01,A\nj2,2024-01-01\n", encoding="utf-8")
    preview = read_preview(Path(path))
    assert len(preview.frame) == 1
    assert preview.problems["row"].tolist() == [2]


def test_a_killed_import_leaves_no_folder_behind_after_the_next_import(engine, tmp_path):
    import os
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)  # that process has exited
    datasets_dir = data_dir() / "datasets"
    abandoned = datasets_dir / f".import-{dead_pid}-0123abcd"
    running = datasets_dir / f".import-{os.getpid()}-4567ef01"  # an import of a live process
    for folder in (abandoned, running):
        (folder / "tmp").mkdir(parents=True)
        (folder / "staging.parquet").write_bytes(b"half written")
    path = tmp_path / "log.csv"
    path.write_text(CSV, encoding="utf-8")
    assert import_event_log(path, name="next", mapping=MINIMAL).created
    assert not abandoned.exists()
    assert running.exists()
    assert sorted(p.name for p in datasets_dir.iterdir()) == sorted(["1", running.name])


@pytest.mark.parametrize("mapping", [FULL, MINIMAL], ids=["with stage", "minimal"])
def test_a_dataset_imported_before_the_neighbour_facts_gets_them(engine, capsys, mapping):
    """``python cli.py upgrade-datasets`` rewrites an older dataset exactly as an import writes it today."""
    import cli
    from analytics.schema import NEIGHBOUR_COLUMNS
    from services.datasets import lacks_neighbour_facts

    imported = import_event_log(CSV.encode(), name="log", mapping=mapping)
    source, _ = get_event_source(imported.dataset_id)
    today = pq.read_table(source.parquet_path)
    today.drop_columns(list(NEIGHBOUR_COLUMNS)).to_pandas().to_parquet(source.parquet_path, index=False)
    assert lacks_neighbour_facts(imported.dataset_id)

    assert cli.main(["upgrade-datasets"]) == 0
    assert "5 events rewritten" in capsys.readouterr().out
    assert not lacks_neighbour_facts(imported.dataset_id)
    upgraded = pq.read_table(source.parquet_path)
    assert upgraded.column_names == today.column_names
    pd.testing.assert_frame_equal(upgraded.to_pandas(), today.to_pandas(), check_dtype=False)

    assert cli.main(["upgrade-datasets"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_stored_gaps_are_true_seconds_across_a_clock_change(engine):
    """An import in a zone with daylight saving stores the real seconds between events (one hour
    across the night the clocks go forward), as the analyses compute them without the facts."""
    from analytics.engine import events_table, execute
    from analytics.journeys import event_neighbours
    from analytics.schema import NEIGHBOUR_COLUMNS

    csv = "case,when,step\nj1,2024-03-31 01:30:00,A\nj1,2024-03-31 03:30:00,B\nj1,2024-03-31 04:00:00,C\n"
    imported = import_event_log(
        csv.encode(), name="dst", mapping=MINIMAL, options=ImportOptions(timezone="Europe/Paris")
    )
    source, schema = get_event_source(imported.dataset_id)
    events = events_table(source)
    stored = execute(event_neighbours(events, schema)).sort_values("step")
    windows = execute(event_neighbours(events.drop(*NEIGHBOUR_COLUMNS), schema)).sort_values("step")
    assert stored["gap_seconds"].tolist()[:2] == [3600.0, 1800.0]  # 01:30 CET → 03:30 CEST is one hour
    assert windows["gap_seconds"].tolist()[:2] == [3600.0, 1800.0]


def test_a_dataset_imported_under_the_old_rule_says_so(engine):
    from db.engine import write_session

    result = import_event_log(CSV.encode(), name="old", mapping=FULL)
    assert importer.describe_dataset(result.dataset_id)["removed_by_mapped_columns"] == 0
    with write_session() as session:
        d = session.get(Dataset, result.dataset_id)
        d.import_options = {k: v for k, v in d.import_options.items() if k != "identical_rows"}
        d.duplicates_removed = 5
        session.add(d)
    info = importer.describe_dataset(result.dataset_id)
    assert (info["removed_by_mapped_columns"], info["identical_rows_dropped"]) == (5, 0)


def test_every_row_rejected_carries_the_rejects_and_counts_them_per_reason(engine, data_dir):
    from analytics.ingest.rejects import NoRowLeftError

    mapping = ColumnMapping.of(journey="case", timestamp="case", activity="step")
    with pytest.raises(NoRowLeftError) as info:
        import_event_log(CSV.encode(), name="x", mapping=mapping, options=ImportOptions(allow_bad_rows=True))
    assert len(info.value.rejects) == 5 and isinstance(info.value, BadInputError)
    assert "every row was rejected (5 rows). Reasons: Unreadable timestamp in column 'case': 5 rows." in str(info.value)
    assert "First rows: row 1 (line 2) case: Unreadable timestamp: 'j2'; row 2 (line 3)" in str(info.value)
    assert list((data_dir / "datasets").glob("*")) == []  # nothing stored


def test_a_filter_that_keeps_nothing_names_the_nearest_value_even_beside_rejected_rows(engine):
    options = ImportOptions(where=(("channel", "emial"),), allow_bad_rows=True)
    with pytest.raises(BadInputError) as info:
        import_event_log((CSV + "j9,2024-03-01\n").encode(), name="x", mapping=FULL, options=options)
    assert info.value.column == "channel"
    assert str(info.value).startswith("No row matches the filter: it left out 5 rows; 1 other row rejected")
    assert str(info.value).endswith("nearest: 'email')")


def test_a_filter_of_several_conditions_blames_the_one_no_row_meets_beyond_the_values_sampled(engine):
    # 30 journeys: j20 and above on email, the rest on phone. A value past the first dozen seen is still
    # found, so the condition blamed is the one that matched no row.
    rows = "".join(f"j{i:02d},2024-03-01T10:00:00Z,Visit,{'email' if i >= 20 else 'phone'}\n" for i in range(30))
    data = ("case,when,step,channel\n" + rows).encode()
    mapping = ColumnMapping.of(journey="case", timestamp="when", activity="step", channel="channel")
    together = ImportOptions(where=(("case", "j25"), ("channel", "phone")))
    with pytest.raises(BadInputError, match="each value occurs, but no row has case = 'j25' and channel = 'phone'"):
        import_event_log(data, name="x", mapping=mapping, options=together)
    absent = ImportOptions(where=(("case", "j25"), ("channel", "fax")))
    with pytest.raises(BadInputError) as info:
        import_event_log(data, name="x", mapping=mapping, options=absent)
    assert info.value.column == "channel"


@pytest.mark.parametrize("delimiter", ["x", ":", " "])
def test_a_delimiter_other_than_the_four_is_refused_before_reading(delimiter, engine):
    with pytest.raises(BadInputError, match="Unusable delimiter"):
        import_event_log(Path("/nonexistent.csv"), name="x", mapping=FULL, options=ImportOptions(delimiter=delimiter))
    with pytest.raises(BadInputError, match="Unusable delimiter"):
        read_preview(Path("/nonexistent.csv"), ImportOptions(delimiter=delimiter))
    assert read_preview(CSV.encode(), ImportOptions(delimiter="comma")).delimiter == ","


def test_the_count_of_more_problems_agrees_with_its_verb():
    from analytics.ingest.rejects import Reject

    bad = Reject(row=3, line=4, column="when", value="x", reason="Unreadable timestamp")
    assert str(bad.error(1)).endswith(". 1 more row of this file has problems too.")
    assert str(bad.error(2)).endswith(". 2 more rows of this file have problems too.")
    assert "more row" not in str(bad.error(0))
