"""Static check: no user value reaches raw HTML in the app.

Sinks: any call with ``unsafe_allow_html`` not literally False, ``st.html``, and the
``components.v1.html`` iframe; ``unsafe_allow_javascript`` is refused outright. What a sink renders
must be built only from string literals, numbers (``int()``, ``float()``, ``len()``, ``round()``),
and calls of an escaping helper (``html.escape``, ``escape_html``, ``escape_markdown``, any
``escape*``) or of a builder listed in ``SAFE_BUILDERS``, through f-strings, ``+``, ``%``, ``str.format`` and ``str.join``. A local name is
followed to its assignments; a function parameter is followed to every call of that function in
the scanned files. Anything else (an attribute, a subscript, a value from a service) is a finding.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import ROOT

NUMERIC = {"int", "float", "len", "round", "abs"}
# HTML builders that escape every user value themselves; each has a test feeding markup into every user
# field and asserting none of it survives (map_grid_html: tests/charts/test_for_people.py).
SAFE_BUILDERS = {"map_grid_html"}
MAX_DEPTH = 6


def scanned_files() -> list[Path]:
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "components").rglob("*.py"))]
    return [f for f in files if f.exists()]


def _name_of(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _dotted(node: ast.expr) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.why}"


class Project:
    """The parsed files, with parents, functions by name and calls by function name."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.trees = {path: ast.parse(src) for path, src in sources.items()}
        self.parent: dict[ast.AST, ast.AST] = {}
        self.functions: dict[str, list[ast.FunctionDef]] = {}
        self.calls: dict[str, list[ast.Call]] = {}
        for tree in self.trees.values():
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    self.parent[child] = node
                if isinstance(node, ast.FunctionDef):
                    self.functions.setdefault(node.name, []).append(node)
                elif isinstance(node, ast.Call):
                    self.calls.setdefault(_name_of(node.func), []).append(node)

    def enclosing(self, node: ast.AST) -> ast.AST:
        """The function (or module) whose body holds ``node``."""
        while node in self.parent:
            node = self.parent[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return node
        return node

    def assignments(self, scope: ast.AST, name: str) -> list[ast.expr] | None:
        """Values assigned to ``name`` in ``scope`` (None: bound some other way, e.g. a loop)."""
        values: list[ast.expr] = []
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        values.append(node.value)
                    elif any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target)):
                        return None  # tuple unpacking: value unknown
            elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
                if node.target.id == name:
                    if node.value is None:
                        continue
                    values.append(node.value)
            elif isinstance(node, ast.For | ast.comprehension | ast.With | ast.NamedExpr):
                if any(
                    isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(node)
                ):
                    if not isinstance(node, ast.NamedExpr):
                        return None
        return values

    def argument_values(self, func: ast.FunctionDef, param: str) -> list[ast.expr] | None:
        """What every call of ``func`` passes for ``param`` (None: some call cannot be followed)."""
        params = [a.arg for a in func.args.posonlyargs + func.args.args]
        defaults = dict(
            zip([a.arg for a in func.args.args][len(func.args.args) - len(func.args.defaults) :], func.args.defaults)
        )
        defaults.update({a.arg: d for a, d in zip(func.args.kwonlyargs, func.args.kw_defaults) if d is not None})
        values: list[ast.expr] = []
        for call in self.calls.get(func.name, []):
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                return None
            by_keyword = {k.arg: k.value for k in call.keywords}
            offset = 1 if params[:1] in (["self"], ["cls"]) and isinstance(call.func, ast.Attribute) else 0
            if param in by_keyword:
                values.append(by_keyword[param])
            elif param in params and params.index(param) - offset < len(call.args):
                values.append(call.args[params.index(param) - offset])
            elif param in defaults:
                values.append(defaults[param])
            else:
                return None
        return values

    def is_safe(self, node: ast.expr | None, depth: int = 0) -> bool:
        if node is None or depth > MAX_DEPTH:
            return False
        safe = lambda n: self.is_safe(n, depth + 1)  # noqa: E731
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.JoinedStr):
            return all(safe(v.value) for v in node.values if isinstance(v, ast.FormattedValue))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            right = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            return safe(node.left) and all(safe(r) for r in right)
        if isinstance(node, ast.IfExp):
            return safe(node.body) and safe(node.orelse)
        if isinstance(node, ast.Tuple | ast.List):
            return all(safe(e) for e in node.elts)
        if isinstance(node, ast.ListComp | ast.GeneratorExp):
            return safe(node.elt)
        if isinstance(node, ast.Call):
            name = _name_of(node.func)
            if name.startswith("escape") or name in NUMERIC or name in SAFE_BUILDERS:
                return True
            if name in ("format", "join") and isinstance(node.func, ast.Attribute) and safe(node.func.value):
                return all(safe(a) for a in node.args) and all(safe(k.value) for k in node.keywords)
            return False
        if isinstance(node, ast.Name):
            scope = self.enclosing(node)
            if isinstance(scope, ast.FunctionDef):
                params = {a.arg for a in scope.args.posonlyargs + scope.args.args + scope.args.kwonlyargs}
                if node.id in params:
                    passed = self.argument_values(scope, node.id)
                    return passed is not None and bool(passed) and all(safe(v) for v in passed)
            values = self.assignments(scope, node.id)
            if not values and not isinstance(scope, ast.Module):  # a module-level constant, maybe
                module = scope
                while module in self.parent:
                    module = self.parent[module]
                values = self.assignments(module, node.id)
            return bool(values) and all(safe(v) for v in values)
        return False

    def findings(self) -> list[Finding]:
        found = []
        for path, tree in self.trees.items():
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                keywords = {k.arg: k.value for k in node.keywords}
                dotted = _dotted(node.func)
                for flag in ("unsafe_allow_javascript",):
                    if flag in keywords and not (
                        isinstance(keywords[flag], ast.Constant) and keywords[flag].value is False
                    ):
                        found.append(Finding(path, node.lineno, f"{flag} is never allowed"))
                html_sink = dotted in ("st.html", "html") and _name_of(node.func) == "html"
                iframe_sink = dotted.endswith("components.v1.html") or dotted in ("components.html", "stc.html")
                unsafe = keywords.get("unsafe_allow_html")
                raw_markdown = unsafe is not None and not (isinstance(unsafe, ast.Constant) and unsafe.value is False)
                if not (html_sink or iframe_sink or raw_markdown):
                    continue
                body = node.args[0] if node.args else keywords.get("body")
                if not self.is_safe(body):
                    snippet = ast.unparse(body)[:80] if body is not None else "(no body)"
                    found.append(
                        Finding(path, node.lineno, f"{dotted}(...) renders a value that is not escaped: {snippet}")
                    )
        return found


def test_no_user_value_reaches_raw_html():
    sources = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in scanned_files()}
    findings = Project(sources).findings()
    assert not findings, "\n".join(str(f) for f in findings)


def test_the_scan_covers_the_app():
    names = {p.name for p in scanned_files()}
    assert "app.py" in names and "bootstrap.py" in names
    assert len([p for p in scanned_files() if p.parent.name == "pages"]) >= 2


# The checker itself: what it must flag and what it must let through.
BAD = [
    "st.markdown(name, unsafe_allow_html=True)",
    "st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)",
    "st.html(row['cell'])",
    "st.html('<p>' + m.name + '</p>')",
    "st.caption('<i>%s</i>' % user, unsafe_allow_html=True)",
    "st.write('<u>{}</u>'.format(user), unsafe_allow_html=True)",
    "import streamlit.components.v1 as components\ncomponents.html(payload)",
    "st.components.v1.html(payload)",
    "st.html('<b>x</b>', unsafe_allow_javascript=True)",
    "x = load()\nst.html(x)",
    "for x in rows:\n    st.html(x)",
    "def show(v):\n    st.html(f'<b>{v}</b>')\nshow(user.name)",
    "def show(v):\n    st.html(v)\nshow('<b>ok</b>')\nshow(data)",
    "st.markdown(', '.join(names), unsafe_allow_html=True)",
    "flag = True\nst.markdown(name, unsafe_allow_html=flag)",
]
GOOD = [
    "st.markdown('<br>', unsafe_allow_html=True)",
    "st.markdown(name)",
    "st.markdown(name, unsafe_allow_html=False)",
    "st.html(f'<b>{escape_html(name)}</b>')",
    "import html\nst.html('<p>' + html.escape(m.name) + '</p>')",
    "st.html(f'<div style=\"width: {int(w)}px\"></div>')",
    "CSS = '<style>p {}</style>'\nst.html(CSS)",
    "def show(key):\n    st.html(f'<style>.st-key-{key} {{}}</style>')\nshow('grid')\nshow(key='plain')",
    "st.markdown(''.join(f'<li>{escape_markdown(n)}</li>' for n in names), unsafe_allow_html=True)",
    "st.html('<i>{}</i>'.format(escape(user)))",
]


@pytest.mark.parametrize("source", BAD)
def test_checker_flags(source):
    assert Project({"x.py": source}).findings(), source


@pytest.mark.parametrize("source", GOOD)
def test_checker_allows(source):
    assert Project({"x.py": source}).findings() == [], source
