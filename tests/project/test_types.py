"""The type checker of CI: mypy on the packages pyproject.toml names (analytics/, db/, core/), clean."""

from __future__ import annotations

import pytest
from mypy import api

from tests import ROOT


def test_mypy_finds_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the config's file list is relative to the project root
    report, errors, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, report + errors
    assert "Success: no issues found" in report
