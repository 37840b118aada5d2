"""A process's start-up: the cyclic garbage collector paused while the process imports what it needs.

Those imports (pandas, Ibis, SQLModel, Streamlit's elements and ours) make hundreds of thousands of
objects, none of them garbage, and the collector's passes over them took about a sixth of the CPU
of an `analyze` process and of the app's first page (``bench/startup.py``). :func:`pause_gc` is
called before the first import (``python cli.py``; the app's entry point), :func:`resume_gc` once
they are done: the collector then runs as usual, and with ``freeze`` it leaves the objects made so
far (modules, classes, functions) out of its passes for good. Once per process: a second pause (a
rerun of the entry point) does nothing.
"""

from __future__ import annotations

import gc

_state = {"paused": False, "started": False}


def pause_gc() -> None:
    """Pause the collector until :func:`resume_gc` (only the first time in a process)."""
    if not _state["started"] and gc.isenabled():
        gc.disable()
        _state["paused"] = True
    _state["started"] = True


def resume_gc(*, freeze: bool = True) -> None:
    """The imports are done: the collector runs again (a no-op unless :func:`pause_gc` paused it)."""
    if _state["paused"]:
        _state["paused"] = False
        if freeze:
            gc.freeze()
        gc.enable()


def gc_paused() -> bool:
    """True while :func:`pause_gc` holds the collector."""
    return _state["paused"]
