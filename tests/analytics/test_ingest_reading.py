"""Reading CSV files: encodings, delimiters, records, day order, mapping suggestions (no database)."""

from __future__ import annotations

import codecs
import gzip

import pytest

from analytics.ingest.parse import detect_day_order
from analytics.ingest.read import scan_csv
from analytics.ingest.sniff import detect_delimiter, detect_encoding, normalise_delimiter
from analytics.schema import Role
from core.errors import BadInputError
from services.importer import header_signature, suggest_mapping, suggest_where
from tests.corpus.make_corpus import encode_cp1258

FRENCH = "id,activité,étape\n1,Réunion découverte,Considération\n2,Prévisualisation,Décision\n"
VIETNAMESE = "id,hoạt động\n1,Đăng ký dùng thử\n2,Gọi điện tư vấn\n3,Hợp đồng đã ký\n"
THAI = "id,กิจกรรม\n1,ลงทะเบียน\n2,สาธิตสินค้า\n3,ปิดการขาย\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"id,name\n1,plain ascii\n", "utf-8"),
        (FRENCH.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + FRENCH.encode("utf-8"), "utf-8-sig"),
        (FRENCH.encode("utf-16"), "utf-16"),
        (FRENCH.encode("utf-16-le"), "utf-16-le"),
        (FRENCH.encode("utf-16-be"), "utf-16-be"),
        (FRENCH.encode("utf-32"), "utf-32"),
        (FRENCH.encode("cp1252"), "cp1252"),
        ("id,name\n1,Müller GmbH\n2,Ærø Ltd\n3,Caffè Nero\n".encode("cp1252"), "cp1252"),
        (encode_cp1258(VIETNAMESE), "cp1258"),
        (THAI.encode("cp874"), "cp874"),
    ],
)
def test_detect_encoding(data, expected):
    assert detect_encoding(data) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ('a,b;c\n"x;y",2;3\n', ","),
        ("single\nvalue\n", ","),
    ],
)
def test_detect_delimiter(text, expected):
    assert detect_delimiter(text) == expected


def test_normalise_delimiter_names():
    assert normalise_delimiter("tab") == "\t" and normalise_delimiter("semicolon") == ";"
    with pytest.raises(BadInputError):
        normalise_delimiter('"')


def test_scan_numbers_rows_and_lines_across_quotes_and_blank_lines(tmp_path):
    text = 'h1,h2\n\na,"multi\nline"\n\n\nb,2\n"c ""quoted""",3\n'
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    result = scan_csv(path)
    frame = result.frame
    assert result.headers == ["h1", "h2"]
    assert frame["file_row"].tolist() == [1, 2, 3]
    assert frame["file_line"].tolist() == [3, 7, 8]
    assert frame["h1"].tolist() == ["a", "b", 'c "quoted"']
    assert frame["h2"].tolist() == ["multi\nline", "2", "3"]


def test_quoted_export_reads_the_same_through_arrow_and_the_exact_path(tmp_path, monkeypatch):
    """A CRM-style export (every text value quoted) goes through Arrow's quoted parser when every
    quote is well formed; the values, row and line numbers match the exact per-record path."""
    from analytics.ingest import read as ingest_read

    rows = [f'"j{i % 97}","2024-01-{1 + i % 28:02d}","Step ""{i % 5}"", with comma","{i}"' for i in range(3000)]
    path = tmp_path / "quoted.csv"
    path.write_text('"case","when","step","n"\n' + "\n".join(rows) + "\n", encoding="utf-8")
    fast = scan_csv(path).frame
    calls = []
    real_fast = ingest_read._Scanner._fast
    monkeypatch.setattr(
        ingest_read._Scanner, "_fast", lambda self, block, **kw: calls.append(kw) or real_fast(self, block, **kw)
    )
    assert scan_csv(path).frame.equals(fast)
    assert {"quoted": True} in calls  # the Arrow path did read it
    monkeypatch.setattr(ingest_read._Scanner, "_simply_quoted", lambda self, block: False)
    exact = scan_csv(path).frame
    assert exact.equals(fast)
    assert fast["step"].iloc[3] == 'Step "3", with comma' and fast["file_line"].iloc[-1] == 3001


def _log_file(tmp_path, header: str, rows: list[str]):  # noqa: ANN202 - a Path
    path = tmp_path / "log.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_text_after_a_closing_quote_is_still_reported_in_a_quoted_export(tmp_path):
    rows = [f'"j{i}","2024-01-02","A"' for i in range(500)]
    rows[250] = '"j250","2024-01-02","A"x'
    result = scan_csv(_log_file(tmp_path, '"case","when","step"', rows), allow_bad_rows=True)
    assert len(result.frame) == 499
    (reject,) = result.rejects
    assert (reject.row, reject.line, reject.reason) == (251, 252, "Text follows a closing quote")


def test_scan_reads_gzip_crlf_and_trims(tmp_path):
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\r\n x ,\xc2\xa0y\xc2\xa0\r\n"))
    result = scan_csv(path)
    assert result.frame[["a", "b"]].values.tolist() == [["x", "y"]]


def test_scan_where_keeps_matching_rows_and_remembers_values(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,t\n1,START\n2,COMPLETE\n3,complete\n", encoding="utf-8")
    result = scan_csv(path, where=(("t", "COMPLETE"),))
    assert result.frame["a"].tolist() == ["2"]
    assert result.where_values["t"] == ["COMPLETE", "START", "complete"]


def test_scan_big_block_with_bad_row_keeps_numbering(tmp_path):
    rows = [f"j{i},2024-01-01,A" for i in range(20_000)]
    rows[12_345] = "j,broken"
    result = scan_csv(_log_file(tmp_path, "case,when,step", rows), allow_bad_rows=True)
    assert [r.row for r in result.rejects] == [12_346]
    assert [r.line for r in result.rejects] == [12_347]
    assert result.rows_read == 20_000 and result.rows_kept == 19_999
    assert result.frame["file_row"].iloc[12_345] == 12_347


def test_detect_day_order():
    assert detect_day_order(["01/02/2024", "25/02/2024"]).dayfirst is True
    assert detect_day_order(["02/25/2024 10:00 PM"]).dayfirst is False
    ambiguous = detect_day_order(["01/02/2024"], delimiter=";")
    assert ambiguous.dayfirst is True and "assumed" in ambiguous.note
    assert detect_day_order(["2024-01-02"]).note == ""
    assert detect_day_order(["25/02/2024"], dayfirst=False).dayfirst is False


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["case:concept:name", "concept:name", "time:timestamp", "lifecycle:transition", "org:resource"],
            {Role.JOURNEY: "case:concept:name", Role.ACTIVITY: "concept:name", Role.TIMESTAMP: "time:timestamp"},
        ),
        (
            ["journey_id", "account_id", "contact_id", "timestamp", "activity", "channel", "stage", "outcome", "value"],
            {Role.JOURNEY: "journey_id", Role.ACCOUNT: "account_id", Role.CONTACT: "contact_id", Role.VALUE: "value",
             Role.OUTCOME: "outcome", Role.STAGE: "stage", Role.CHANNEL: "channel"},
        ),
        (
            ["Opportunity ID", "Company", "Contact Role", "Event Date", "Event Name", "Deal Stage", "NPS Score",
             "CSAT", "Customer Effort", "First Contact Resolution", "Amount"],
            {Role.JOURNEY: "Opportunity ID", Role.ACCOUNT: "Company", Role.ROLE: "Contact Role",
             Role.TIMESTAMP: "Event Date", Role.ACTIVITY: "Event Name", Role.STAGE: "Deal Stage", Role.NPS: "NPS Score",
             Role.CSAT: "CSAT", Role.EFFORT: "Customer Effort", Role.FCR: "First Contact Resolution",
             Role.VALUE: "Amount"},
        ),
        (["Ticket case ID", "Event timestamp", "Activity name"],
         {Role.JOURNEY: "Ticket case ID", Role.TIMESTAMP: "Event timestamp", Role.ACTIVITY: "Activity name"}),
    ],
)  # fmt: skip
def test_suggest_mapping(headers, expected):
    mapping = suggest_mapping(headers).as_dict()
    assert {r: mapping.get(r) for r in expected} == expected
    assert len(set(mapping.values())) == len(mapping)  # a column plays one role


def test_suggest_mapping_segments_and_filter():
    headers = ["case:concept:name", "concept:name", "time:timestamp", "lifecycle:transition", "org:resource", "region"]
    assert suggest_mapping(headers).segments == ("org:resource", "region")
    assert suggest_where(headers) == (("lifecycle:transition", "COMPLETE"),)
    assert suggest_where(["a", "b"]) == ()


def test_header_signature_ignores_case_and_spaces_only():
    assert header_signature(["Case", " When "]) == header_signature(["case", "when"])
    assert header_signature(["case", "when"]) != header_signature(["when", "case"])
