"""Real exports as they are: repeated and empty header names, identical rows, Excel and Parquet
files, and files that are not tables at all."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analytics.schema import ColumnMapping
from core.errors import BadInputError
from db.engine import data_dir
from services.importer import ImportOptions, import_event_log, read_preview

REPEATED = (
    "number,category,opened,state,category,,updated\n"
    "INC1,network,2024-01-01T09:00:00Z,New,wifi,x,2024-01-01T09:00:00Z\n"
    "INC1,network,2024-01-01T09:05:00Z,Active,router,,2024-01-01T09:05:00Z\n"
    "INC2,email,2024-01-02T10:00:00Z,New,outlook,y,2024-01-02T10:00:00Z\n"
)

MAPPING_MIN = ColumnMapping.of(journey="number", timestamp="opened", activity="state")


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
    assert (
        "Repeated or empty header names were kept under distinct names: 'category (2)' (column 5), "
        "'column 6' (column 6)." in result.notes
    )
    stored = _stored(result).sort_values("file_row")
    assert stored["segment:category (2)"].tolist() == ["wifi", "router", "outlook"]
    assert stored["segment:category"].tolist() == ["network", "network", "email"]


def test_a_repeated_name_no_role_uses_does_not_stop_the_import(engine):
    result = import_event_log(REPEATED.encode(), name="snow", mapping=MAPPING_MIN)
    assert (result.rows_read, result.events, result.rejected_rows) == (3, 3, 0)


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


@pytest.mark.parametrize(
    ("column", "nearest"),
    [("NUMBER", "number"), ("Opend", "opened"), ("zzz", None)],  # case alone is near; nothing near names none
)
def test_a_missing_columns_nearest_follows_the_one_closeness_rule(engine, column, nearest):
    mapping = ColumnMapping.of(journey=column, timestamp="opened", activity="category")
    with pytest.raises(BadInputError) as info:
        import_event_log(REPEATED.encode(), name="snow", mapping=mapping)
    if nearest is None:
        assert "nearest" not in str(info.value)
    else:
        assert f"The nearest column is {nearest!r}" in str(info.value)


def test_a_generated_name_never_takes_a_real_one(engine):
    data = "a,a,a (2),b\nj1,x,y,2024-01-01\n"
    assert read_preview(data.encode()).headers == ["a", "a (3)", "a (2)", "b"]


# --------------------------------------------------------------------------- Excel and Parquet


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    """An .xlsx made here with openpyxl (the reader's own library writes it)."""
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


SHEET = [
    ["ticket", "when", "status", "status", "score"],
    ["T1", datetime(2024, 3, 1, 9, 30), "New", "web", 9],
    ["T1", datetime(2024, 3, 1, 10, 0), "Closed", "web", 7.5],
    [],  # an empty sheet row: not an event
    ["T2", datetime(2024, 3, 2, 8, 0), "New", "phone", None],
    ["T2", datetime(2024, 3, 2, 8, 0), "New", "phone", None],  # identical to the row above
]
XLSX_MAPPING = ColumnMapping.of(
    journey="ticket", timestamp="when", activity="status", channel="status (2)", nps="score"
)


def test_xlsx_first_sheet_imports_like_a_csv(engine, tmp_path):
    path = tmp_path / "tickets.xlsx"
    path.write_bytes(_workbook({"Export": SHEET, "Notes": [["just", "notes"]]}))
    preview = read_preview(path)
    assert (preview.kind, preview.sheets, preview.sheet) == ("xlsx", ("Export", "Notes"), "Export")
    assert preview.headers == ["ticket", "when", "status", "status (2)", "score"]
    assert preview.frame["when"].tolist()[0] == "2024-03-01T09:30:00"
    result = import_event_log(path, name="xlsx", mapping=XLSX_MAPPING, options=ImportOptions(timezone="Europe/Paris"))
    assert (result.rows_read, result.events, result.identical_rows, result.identical_rows_dropped) == (4, 4, 1, 0)
    assert "Excel workbook: sheet 'Export' (the first) of 2." in result.notes
    stored = _stored(result).sort_values("file_row")
    assert stored["channel"].tolist() == ["web", "web", "phone", "phone"]
    assert stored["nps"].tolist()[:2] == [9.0, 7.5]
    # Naive Excel times are read in the chosen zone: 09:30 in Paris is 08:30 UTC.
    assert stored["timestamp"].iloc[0] == pd.Timestamp("2024-03-01 08:30", tz="UTC")


def test_xlsx_named_sheet_and_its_problems_named_by_sheet_row(engine, tmp_path):
    bad = [["ticket", "when", "status"], ["T1", "2024-03-01", "New"], ["T1", "not a date", "Closed"]]
    path = tmp_path / "two.xlsx"
    path.write_bytes(_workbook({"Readme": [["about"]], "Events": bad}))
    mapping = ColumnMapping.of(journey="ticket", timestamp="when", activity="status")
    with pytest.raises(BadInputError) as info:
        import_event_log(path, name="x", mapping=mapping, options=ImportOptions(sheet="Events"))
    message = str(info.value)
    assert "Unreadable timestamp at line 3 of the file" in message and info.value.row == 2, message
    with pytest.raises(BadInputError) as info:
        import_event_log(path, name="x", mapping=mapping, options=ImportOptions(sheet="Event"))
    assert "Sheet not found in the workbook. The nearest is 'Events'" in str(info.value)
    result = import_event_log(
        path, name="x", mapping=mapping, options=ImportOptions(sheet="Events", allow_bad_rows=True)
    )
    assert (result.rows_read, result.events, result.rejected_rows) == (2, 1, 1)


def test_a_sheet_named_for_a_csv_is_refused(engine):
    with pytest.raises(BadInputError) as info:
        import_event_log(REPEATED.encode(), name="x", mapping=MAPPING_MIN, options=ImportOptions(sheet="Sheet1"))
    assert "not an Excel workbook" in str(info.value)


def test_parquet_imports_like_a_csv(engine, tmp_path):
    import pyarrow as pa

    table = pa.table(
        {
            "case": ["a", "a", "b", "b"],
            "ts": pa.array(
                [datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 11), datetime(2024, 1, 2), datetime(2024, 1, 2)],
                pa.timestamp("ns", tz="UTC"),
            ),
            "act": ["Visit", "Buy", "Visit", "Visit"],
            "amount": [1.5, None, 2.0, 2.0],
        }
    )
    path = tmp_path / "log.parquet"
    pq.write_table(table, path)
    preview = read_preview(path)
    assert preview.kind == "parquet" and preview.headers == ["case", "ts", "act", "amount"]
    mapping = ColumnMapping.of(journey="case", timestamp="ts", activity="act", value="amount")
    result = import_event_log(path, name="pq", mapping=mapping)
    assert (result.rows_read, result.events, result.identical_rows) == (4, 4, 1)
    stored = _stored(result).sort_values("file_row")
    assert stored["timestamp"].tolist()[1] == pd.Timestamp("2024-01-01 11:00", tz="UTC")
    assert stored["value"].tolist()[0] == 1.5 and pd.isna(stored["value"].tolist()[1])


@pytest.mark.parametrize(
    ("data", "message", "todo"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "Excel 97-2003 workbook (.xls)", "save it as .xlsx or CSV"),
        (b"%PDF-1.4\n", "This looks like a PDF document", "export the data as CSV"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "This looks like a PNG image", "export the data itself"),
        (b"\xff\xd8\xff\xe0" + bytes(40), "This looks like a JPEG image", "export the data itself"),
    ],
)
def test_files_that_are_not_tables_say_what_they_look_like_and_what_to_do(engine, tmp_path, data, message, todo):
    path = tmp_path / "events.csv"  # the name does not matter: the first bytes do
    path.write_bytes(data)
    for call in (lambda: read_preview(path), lambda: import_event_log(path, name="x", mapping=MAPPING_MIN)):
        with pytest.raises(BadInputError) as info:
            call()
        assert message in str(info.value) and todo in str(info.value)


def test_a_zip_archive_says_to_extract_it(engine, tmp_path):
    import zipfile

    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("events.csv", REPEATED)
    with pytest.raises(BadInputError) as info:
        read_preview(path)
    assert "This is a ZIP archive" in str(info.value) and "extract it" in str(info.value)


def test_a_repeated_bad_row_is_counted_and_rejected_with_its_copy(engine):
    data = b"case,when,step\nc1,2024-01-01,A\nc1,never,B\nc1,never,B\nc1,2024-01-03,C\n"
    mapping = ColumnMapping.of(journey="case", timestamp="when", activity="step")
    options = ImportOptions(allow_bad_rows=True, drop_identical_rows=True)
    result = import_event_log(data, name="bad twice", mapping=mapping, options=options)
    assert (result.rows_read, result.events, result.rejected_rows) == (4, 2, 2)
    assert (result.identical_rows, result.identical_rows_dropped) == (1, 0)
