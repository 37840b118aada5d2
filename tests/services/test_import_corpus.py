"""Every file of the malformed corpus is refused with its message, and nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from analytics.schema import ColumnMapping
from core.errors import BadInputError
from db.engine import read_session
from db.models import Dataset
from services.importer import ImportOptions, import_event_log
from tests.corpus.make_corpus import cases, write_corpus

CASES = cases()
ROW_LEVEL = [c for c in CASES if c.row_level]


def _nothing_stored(data_dir: Path) -> None:
    with read_session() as session:
        assert session.exec(select(Dataset)).all() == []
    leftovers = list((data_dir / "datasets").glob("*")) if (data_dir / "datasets").exists() else []
    assert leftovers == [], f"files left behind: {leftovers}"


def test_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert len(ROW_LEVEL) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_file_is_refused_with_its_message(case, engine, data_dir, tmp_path):
    path = tmp_path / f"{case.name}{case.suffix}"
    path.write_bytes(case.data)
    with pytest.raises(BadInputError) as info:
        import_event_log(
            path, name=case.name, mapping=ColumnMapping.from_json(case.mapping), options=ImportOptions(**case.options)
        )
    message = str(info.value)
    assert case.message in message, message
    if case.row is not None:
        assert info.value.row == case.row, message
        assert f"row {case.row}" in message
    if case.column is not None:
        assert info.value.column == case.column, message
        assert repr(case.column) in message
    if case.line is not None:
        assert f"at line {case.line} of the file" in message
    _nothing_stored(data_dir)


@pytest.mark.parametrize("case", ROW_LEVEL, ids=[c.name for c in ROW_LEVEL])
def test_bad_row_is_skipped_and_reported_when_allowed(case, engine, tmp_path):
    path = tmp_path / f"{case.name}{case.suffix}"
    path.write_bytes(case.data)
    options = ImportOptions(**{**case.options, "allow_bad_rows": True})
    result = import_event_log(path, name=case.name, mapping=ColumnMapping.from_json(case.mapping), options=options)
    assert result.created
    assert result.rejected_rows == 1
    report = result.rejected
    assert list(report.columns[:4]) == ["row", "line", "column", "value"]
    assert set(report["row"]) == {case.row}
    assert case.message in report["reason"].iloc[0]
    if case.column is not None:
        assert report["column"].iloc[0] == case.column
    if case.line is not None:
        assert report["line"].iloc[0] == case.line
    # Every other row made it.
    assert result.events == result.rows_read - 1
    assert result.events >= 1


def test_corpus_script_writes_every_case(tmp_path):
    paths = write_corpus(tmp_path / "corpus")
    assert len(paths) == len(CASES)
    assert all(p.exists() for p in paths)
