"""The journey analytics core on Ibis expressions (no Streamlit, no SQLModel).

Importing the package installs one import hook, for start-up time: Ibis's
``ibis.backends.sql.compilers`` package imports the SQL compiler of every backend (and with them
sqlglot's dialects) as soon as any backend connects, while JourneyLens runs on DuckDB and, on a
cluster, on one other backend. With the hook, that package loads a backend's compiler when it is
first asked for (``sc.duckdb``, ``sc.PySparkCompiler``, ``ibis.to_sql(expr, dialect=...)``), and
nothing else changes. It stands aside when the package has already been imported, or when its
``__init__`` no longer has the shape it reads (then the real one runs).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_COMPILERS = "ibis.backends.sql.compilers"
# The lines of Ibis's compilers/__init__.py that import each compiler class from its module.
_IMPORT_LINE = re.compile(r"^from ibis\.backends\.sql\.compilers\.(\w+) import (\w+)\s*$", re.MULTILINE)


def compiler_modules(init_source: str) -> dict[str, str] | None:
    """Compiler class name → its module's short name, read off the package's ``__init__``; None when
    the file does anything else than import compilers (the real module must then run)."""
    found = {cls: module for module, cls in _IMPORT_LINE.findall(init_source)}
    code = [
        line
        for line in _IMPORT_LINE.sub("", init_source).splitlines()
        if line.strip() and not line.startswith(("from __future__", "__all__", " ", ")", "]", '"', "#"))
    ]
    return found if found and not code else None


class _LazyCompilersLoader(importlib.abc.Loader):
    def __init__(self, real: Any, classes: dict[str, str]) -> None:
        self.real, self.classes = real, classes

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        classes = self.classes

        def __getattr__(name: str) -> Any:  # noqa: N807 - a module's __getattr__ (PEP 562)
            short = classes.get(name, name)
            if name.startswith("__") or not short.isidentifier():
                raise AttributeError(name)
            try:
                sub = importlib.import_module(f"{_COMPILERS}.{short}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{_COMPILERS}.{short}":
                    raise  # the compiler exists but needs something missing: say so
                raise AttributeError(f"module {_COMPILERS!r} has no attribute {name!r}") from None
            return getattr(sub, name) if name in classes else sub

        module.__all__ = list(classes)  # type: ignore[attr-defined]
        module.__getattr__ = __getattr__  # type: ignore[method-assign]


class _LazyCompilersFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != _COMPILERS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not spec.origin:
            return spec
        try:
            classes = compiler_modules(Path(spec.origin).read_text(encoding="utf-8"))
        except OSError:
            classes = None
        if classes:
            spec.loader = _LazyCompilersLoader(spec.loader, classes)
        return spec


def _install() -> None:
    if _COMPILERS in sys.modules or any(isinstance(f, _LazyCompilersFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _LazyCompilersFinder())


_install()
