"""The tests mirror the code: a test file sits in tests/<dir> where <dir> is a directory of the code
(tests/analytics for analytics/, tests/pages for pages/, ...) or one of the declared extra ones, and
every test directory is a package (so two floors may each have a test_funnel.py)."""

from __future__ import annotations

from pathlib import Path

from tests import ROOT

# Test directories that mirror no code directory, each for a reason.
EXTRA = {
    "e2e": "browser tests of the whole app",
    "spark": "agreement tests on a Spark cluster",
    "corpus": "generators of test files and their golden outputs",
    "project": "checks over the whole tree (layering, one home, types, requirements, ...)",
}


def code_dirs(root: Path) -> set[Path]:
    """Every directory of the code holding Python files, relative to ``root`` (tests/ excluded)."""
    found = set()
    for path in root.rglob("*.py"):
        rel = path.parent.relative_to(root)
        if rel.parts and rel.parts[0] != "tests" and not any(p.startswith((".", "__")) for p in rel.parts):
            found.add(rel)
    return found


def misplaced(root: Path) -> list[str]:
    """Test files whose directory mirrors no code directory, and test directories that are no package."""
    mirrors = code_dirs(root)
    problems = []
    for path in sorted((root / "tests").rglob("test_*.py")):
        rel = path.parent.relative_to(root / "tests")
        if not rel.parts:
            problems.append(f"{path.relative_to(root)}: directly in tests/, not in the directory of what it tests")
        elif rel.parts[0] not in EXTRA and rel not in mirrors:
            problems.append(f"{path.relative_to(root)}: {rel}/ is no directory of the code nor one of {sorted(EXTRA)}")
        elif not (path.parent / "__init__.py").exists():
            problems.append(f"{path.relative_to(root)}: tests/{rel}/ has no __init__.py")
    return problems


def test_every_test_file_mirrors_a_code_directory():
    assert not misplaced(ROOT)


def test_the_check_finds_a_test_outside_the_mirror(tmp_path):
    for rel in ("analytics/funnel.py", "tests/analytics/__init__.py", "tests/analytics/test_funnel.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("", encoding="utf-8")
    assert misplaced(tmp_path) == []
    for rel in ("tests/unit/__init__.py", "tests/unit/test_funnel.py", "tests/test_loose.py", "tests/db/test_x.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("", encoding="utf-8")
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "engine.py").write_text("", encoding="utf-8")
    assert [p.split(":")[0] for p in misplaced(tmp_path)] == [
        "tests/db/test_x.py",  # no __init__.py
        "tests/test_loose.py",
        "tests/unit/test_funnel.py",
    ]


def test_the_extra_directories_exist():
    assert all((ROOT / "tests" / name).is_dir() for name in EXTRA)
