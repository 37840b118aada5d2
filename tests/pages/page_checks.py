"""Checks and set-up shared by the AppTests of the analysis pages that bring their own dataset."""

from __future__ import annotations

import pytest

from tests.pages.conftest import run_page


@pytest.fixture(autouse=True)
def no_demo(monkeypatch):
    """These tests bring their own dataset (and check the empty state): no demo seeding."""
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")


def assert_says_no_dataset(page: str, title: str) -> None:
    """Without any dataset, ``page`` shows its ``title`` and says where to import one."""
    at = run_page(page)
    assert at.title[0].value == title
    assert any("No dataset yet" in i.value for i in at.info)
