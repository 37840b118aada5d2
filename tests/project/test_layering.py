"""Imports point down only: cli.py → commands → services, charts; app.py, pages → components → services,
charts → analytics, db → core. Pages lay out (no analytics); services compute (no charts); commands and
components are siblings (neither imports the other)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests import ROOT

# The upper floors: core, analytics and db import none of them.
UPPER = {"services", "charts", "components", "pages", "cli", "commands"}
# For each layer, the project packages it must not import.
FORBIDDEN: dict[str, set[str]] = {
    "core": {"streamlit", "sqlmodel", "sqlalchemy", "ibis", "duckdb", "pandas", "plotly", "analytics", "db"} | UPPER,
    "analytics": {"streamlit", "sqlmodel", "sqlalchemy", "db"} | UPPER,
    "db": {"streamlit", "analytics"} | UPPER,
    "charts": {"streamlit", "sqlmodel", "db", "services", "components", "pages", "cli", "commands"},
    "services": {"streamlit", "charts", "components", "pages", "cli", "commands"},
    "components": {"pages", "cli", "commands", "duckdb", "sqlmodel"},
    "pages": {"analytics", "db", "sqlmodel", "sqlalchemy", "duckdb", "ibis", "cli", "commands"},
    "commands": {"streamlit", "components", "pages", "cli"},
}
ENGINE_MODULE = ROOT / "analytics" / "engine.py"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _files(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_point_down(layer):
    bad = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[layer])
        for path in _files(layer)
        if _imports(path) & FORBIDDEN[layer]
    }
    assert not bad, f"{layer}/ imports what it must not: {bad}"


def test_app_entry_point_is_thin():
    assert not _imports(ROOT / "app.py") & FORBIDDEN["pages"]


def _reexported_from(module: str) -> dict[str, str]:
    """The names project module ``module`` ("charts.attribution") binds by importing them: name → package."""
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        return {}
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update({(a.asname or a.name): node.module.split(".")[0] for a in node.names})
    return found


def _reached_through(path: Path) -> set[str]:
    """The packages whose names ``path`` takes through another module's import of them."""
    reached = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            passed_on = _reexported_from(node.module)
            reached.update(passed_on[a.name] for a in node.names if a.name in passed_on)
    return reached


@pytest.mark.parametrize("layer", ["pages", "app.py"])
def test_a_page_does_not_reach_a_forbidden_floor_through_a_re_export(layer):
    # Before: pages/11_Outlook.py took analytics.outlook.compute_probability_bands from charts.attribution.
    files = [ROOT / "app.py"] if layer == "app.py" else _files(layer)
    bad = {
        str(p.relative_to(ROOT)): sorted(_reached_through(p) & FORBIDDEN["pages"])
        for p in files
        if _reached_through(p) & FORBIDDEN["pages"]
    }
    assert not bad, f"names of a floor the pages must not import, taken through another module: {bad}"


def test_the_cli_entry_point_keeps_to_the_commands_floor():
    # cli.py is a module, not a cli/ package: the parametrised check above finds no file of its "cli" layer.
    assert not _imports(ROOT / "cli.py") & FORBIDDEN["commands"]


def test_only_the_gateway_talks_to_the_engine():
    offenders = [
        str(p.relative_to(ROOT))
        for layer in ("analytics", "services", "charts", "components", "pages", "db")
        for p in _files(layer)
        if p != ENGINE_MODULE and "duckdb" in _imports(p)
    ]
    assert not offenders, f"only analytics/engine.py may import duckdb: {offenders}"


def _cache_decorated(path: Path) -> list[str]:
    """The functions of ``path`` decorated with ``st.cache_data`` (called or not)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if isinstance(target, ast.Attribute) and target.attr == "cache_data":
                    found.append(f"{path.relative_to(ROOT)}:{node.name}")
    return found


def test_every_cached_loader_lives_in_one_module():
    """One home for cached reads, with one cache-key rule: components/loaders.py."""
    files = [ROOT / "app.py", *_files("pages"), *_files("components"), *_files("charts"), *_files("services")]
    elsewhere = [f for path in files if path.name != "loaders.py" for f in _cache_decorated(path)]
    assert elsewhere == []
    assert _cache_decorated(ROOT / "components" / "loaders.py")  # the check sees the decorators it looks for
