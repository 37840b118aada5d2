"""Every page's tables are written for people (charts.labels.for_people or column labels): on the demo, no
visible column name is a machine name (an underscore, or a lower-case identifier such as ``row_kind`` or
``stage``) and no cell shows "None" (Streamlit writes a missing value as a grey "None")."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.pages.conftest import ROOT, run_page

PAGES = ["app.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))]
STUDIO_TABS = ["Grid", "Stages & touchpoints", "Lanes", "Pain points & opportunities", "Action plan", "Personas",
               "Versions", "Export"]  # fmt: skip
# Frames shown as a preview of a download, kept in its machine form on purpose (the file's own header).
# An editable number where empty means "no score": an editor's cell cannot hold a dash.
EMPTY_ALLOWED = {("Lanes", 0, "emotion")}
DOWNLOAD_PREVIEWS = {("Export", 0)}  # the map's cells as the CSV file has them


def shown_columns(frame) -> list[str]:
    """The column headers a person sees: a column_config label where there is one, else the column name; hidden
    columns (an editor's row ids) left out."""
    config = json.loads(frame.proto.columns or "{}")
    return [str((config.get(str(c)) or {}).get("label") or c) for c in visible(frame)]


def visible(frame) -> list:
    """The columns on screen: those of ``column_order`` when it is set, less any hidden by column_config."""
    config = json.loads(frame.proto.columns or "{}")
    order = list(frame.proto.column_order)
    columns = [c for c in frame.value.columns if not order or str(c) in order]
    return [c for c in columns if not (config.get(str(c)) or {}).get("hidden")]


def machine_names(names: list[str]) -> list[str]:
    return [n for n in names if "_" in n or (n.isidentifier() and n == n.lower())]


def none_cells(value: pd.DataFrame) -> list[str]:
    shown = value.astype(object)
    bad = shown.isna() | shown.map(lambda v: isinstance(v, str) and v.strip() in ("None", "nan", "NaN", "<NA>", "NaT"))
    return [str(c) for c in value.columns if bad[c].any()]


def _problems(at, where: str) -> list[str]:
    out = []
    for i, frame in enumerate(at.dataframe):
        if (where, i) in DOWNLOAD_PREVIEWS:
            continue
        machine = machine_names(shown_columns(frame))
        empty = [c for c in none_cells(frame.value[visible(frame)]) if (where, i, c) not in EMPTY_ALLOWED]
        if machine or empty:
            out.append(f"{where} table {i}: machine names {machine}, None in {empty}")
    return out


def test_the_checks_catch_machine_names_and_none():
    assert machine_names(["Stage", "row_kind", "stage", "Touchpoint id", "NPS"]) == ["row_kind", "stage"]
    assert none_cells(pd.DataFrame({"A": ["x", None], "B": ["y", "None"], "C": ["–", "z"]})) == ["A", "B"]


@pytest.mark.parametrize("page", PAGES)
def test_page_tables_use_the_shared_formatting(demo_engine, page):
    at = run_page(page, timeout=300)
    assert not _problems(at, page), _problems(at, page)


@pytest.mark.parametrize("tab", STUDIO_TABS)
def test_map_studio_tables_use_the_shared_formatting(demo_engine, tab):
    at = run_page("pages/2_Map_studio.py", timeout=300, query={"tab": tab})
    assert not _problems(at, tab), _problems(at, tab)
