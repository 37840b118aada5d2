"""One home per concept of the upper floors: the status colours, the palette's named colours, the
status badges, the flash helpers and the URL-binding select box are each defined in one module; no
public name of the app is defined in two modules, and no module of the app passes 900 lines."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests import ROOT

PALETTE = ("STATUS_COLOURS", "SEVERITY_COLOURS", "PERSONA_COLOURS", "POSITIVE")
# The themes are charts.palette's GRID_LIGHT and PAGE_LIGHT (and DARK): no module-level LIGHT or DARK.
HOMES: dict[str, str | None] = {name: "charts/palette.py" for name in PALETTE} | {"LIGHT": None, "DARK": None}
HOMES |= {"STATUS_BADGE": "components/badges.py", "query_select": "components/url_select.py"}
HOMES |= {name: "components/flash.py" for name in ("FLASH_KEY", "flash", "show_flash")}


def _definitions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    files = [p for d in ("charts", "components", "pages", "services") for p in (ROOT / d).rglob("*.py")]
    for path in [*files, ROOT / "app.py"]:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            else:
                continue
            for name in names:
                if name in HOMES:
                    found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_each_concept_is_defined_in_its_one_home():
    found = _definitions()
    assert found.get("STATUS_COLOURS") == ["charts/palette.py"]  # the check can see a definition
    wrong = {name: where for name, where in found.items() if where != ([HOMES[name]] if HOMES[name] else [])}
    assert not wrong, wrong


def test_the_map_grid_figure_and_its_html_twin_colour_a_severity_alike():
    from charts.map_grid import _severity_colour
    from charts.palette import GRID_LIGHT, SEVERITY_COLOURS

    assert [_severity_colour(s, GRID_LIGHT) for s in range(1, 6)] == [SEVERITY_COLOURS[s] for s in range(1, 6)]


# --------------------------------------------------------------------------- every public name, every module
# The app's modules: every package the app and the CLI import. Pages are scripts (their top-level
# names are script variables, not an API); tests and migrations are not the app.
PACKAGES = ("core", "db", "analytics", "charts", "services", "components", "commands")
MAX_LINES = 900
# Each module of commands/ registers its subcommands through the same function, ``add(sub)``: one
# protocol implemented per module, not one concept defined twice.
PROTOCOL = {"commands": {"add"}}


def _modules() -> list[Path]:
    files = [ROOT / "app.py", ROOT / "cli.py"]
    for package in PACKAGES:
        files += [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    return sorted(p for p in files if p.exists())


def _bound(target: ast.expr) -> list[str]:
    """The names an assignment target binds, tuple targets too (``START_CODE, GOAL_CODE = -1, -2``);
    not ``d[key] = ...`` or ``obj.attr = ...``."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [n for t in target.elts for n in _bound(t)]
    if isinstance(target, ast.Starred):
        return _bound(target.value)
    return []


def public_names(path: Path) -> set[str]:
    """Names a module defines at its top level that do not start with an underscore."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(n for t in node.targets for n in _bound(t))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    protocol = PROTOCOL.get(path.parent.name, set())
    return {n for n in names if not n.startswith("_") and n not in {"main", "logger"} | protocol}


def defined_twice(paths: list[Path]) -> dict[str, list[str]]:
    homes: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        for name in public_names(path):
            homes[name].append(str(path.relative_to(ROOT)))
    return {name: sorted(where) for name, where in sorted(homes.items()) if len(where) > 1}


def test_no_public_name_is_defined_in_two_modules():
    twice = defined_twice(_modules())
    assert not twice, f"one home per name; defined in more than one module: {twice}"


def test_the_check_finds_a_name_defined_twice(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("def load_map_view():\n    pass\n\n_private = 1\nSTART_CODE, GOAL = -1, -2\n", encoding="utf-8")
    b.write_text(
        "load_map_view = None\nOTHER: str = 'x'\nSTART_CODE, (_X, NULL) = -1, (0, -3)\nD[GOAL] = 1\n", encoding="utf-8"
    )
    homes = defaultdict(list)
    for path in (a, b):
        for name in public_names(path):
            homes[name].append(path.name)
    twice = {n: w for n, w in homes.items() if len(w) > 1}
    assert twice == {"load_map_view": ["a.py", "b.py"], "START_CODE": ["a.py", "b.py"]}


def test_no_module_is_over_900_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
