"""One home per concept of the upper floors: the status colours, the palette's named colours, the
status badges, the flash helpers and the URL-binding select box are each defined in one module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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
