"""Golden files, one per encoding: detected right, stored exactly as expected (NFC, UTC, order)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from services.datasets import get_event_source
from services.importer import ImportOptions, import_event_log, read_preview, suggest_mapping
from tests.corpus.make_golden import GOLDEN_DIR, GOLDENS, expected_json


@pytest.mark.parametrize("golden", GOLDENS, ids=[g.name for g in GOLDENS])
def test_committed_golden_files_are_what_the_script_writes(golden):
    assert (GOLDEN_DIR / f"{golden.name}.csv").read_bytes() == golden.data()
    assert (GOLDEN_DIR / f"{golden.name}.expected.json").read_text(encoding="utf-8") == expected_json(golden)


@pytest.mark.parametrize("golden", GOLDENS, ids=[g.name for g in GOLDENS])
def test_golden_file_imports_as_expected(golden, engine):
    path = GOLDEN_DIR / f"{golden.name}.csv"
    preview = read_preview(path)
    assert preview.encoding == golden.encoding
    assert preview.delimiter == golden.delimiter
    assert preview.headers == ["journey_id", "timestamp", "activity", "channel", "stage", "value"]
    mapping = suggest_mapping(preview.headers)
    result = import_event_log(path, name=golden.name, mapping=mapping, options=ImportOptions(**(golden.options or {})))
    assert result.encoding == golden.encoding

    source, _ = get_event_source(result.dataset_id)
    stored = pd.read_parquet(source.parquet_path)
    expected = json.loads((GOLDEN_DIR / f"{golden.name}.expected.json").read_text(encoding="utf-8"))["events"]
    got = [
        {
            "journey_id": r.journey_id,
            "seq": int(r.seq),
            "timestamp": r.timestamp.isoformat(),
            "activity": r.activity,
            "channel": r.channel,
            "stage": r.stage,
            "value": None if pd.isna(r.value) else float(r.value),
        }
        for r in stored.itertuples()
    ]
    assert got == expected
