"""What every command shares: the parser (one-line errors, the options given), JSON on standard
output, comma lists, dates and numbers read from flags."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NoReturn

from core.start_up import resume_gc


def start_up_done(*, freeze: bool = True) -> None:
    """The command has imported what it needs: the garbage collector runs again (``python cli.py``
    pauses it at start: ``core.start_up``; a no-op in a process that calls ``cli.main()`` itself)."""
    resume_gc(freeze=freeze)


# The namespace attribute holding the dests of the options written on the command line (not defaulted).
OPTIONS_GIVEN = "options_given"


class Parser(argparse.ArgumentParser):
    """The parser of ``cli.py`` and of every command (sub-parsers take their parent's class).

    - A wrong value is refused in one line on standard error, ``error: argument --report: invalid
      choice: 'summry' (nearest: summary)``, exit status 2: no usage block (``--help`` shows it).
    - The namespace says which options were written (``OPTIONS_GIVEN``: their dests), so a command
      can tell "given, and equal to the default" from "not given" and say when it ignores one."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {' '.join(message.split())}\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse's own check lists every choice; the product's rule is the nearest real one.
        if action.choices is None or value in action.choices:
            return
        from core.errors import close_names  # only on a refusal: the parser starts light

        choices = [str(c) for c in action.choices]
        nearest = close_names(str(value), choices)
        # "nearest" only when near; otherwise (or for a short list) every choice.
        near = f"nearest: {nearest[0]}" if nearest else ""
        every = f"one of {', '.join(choices)}" if len(choices) <= 4 or not nearest else ""
        said = "; ".join(w for w in (near, every) if w)
        if isinstance(action, argparse._SubParsersAction):  # its dest (maps_command) is no name to show
            raise argparse.ArgumentError(None, f"invalid command {value!r} of {self.prog} ({said})")
        raise argparse.ArgumentError(action, f"invalid choice: {value!r} ({said})")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        strings = list(sys.argv[1:] if args is None else args)
        namespace, extras = super().parse_known_args(strings, namespace)
        if not hasattr(namespace, OPTIONS_GIVEN):  # a sub-command's parser has set it already
            setattr(namespace, OPTIONS_GIVEN, frozenset(self._dests_given(strings)))
        return namespace, extras

    def _dests_given(self, strings: Sequence[str]) -> set[str]:
        """The dests of this parser's options in ``strings`` (``--opt=v`` and unambiguous abbreviations
        too, as argparse reads them); stops at ``--``."""
        options = self._option_string_actions
        given = set()
        for text in strings:
            if text == "--":
                break
            if not text.startswith("-") or text in ("-",) or self._negative_number_matcher.match(text):
                continue
            name = text.split("=", 1)[0]
            matches = {options[name]} if name in options else {a for o, a in options.items() if o.startswith(name)}
            if len(matches) == 1:
                given.add(next(iter(matches)).dest)
        return given


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def emit_json(payload: Any) -> None:
    """Write JSON to standard output (dates as ISO 8601)."""
    print(json.dumps(payload, default=_json_default, ensure_ascii=False, indent=2))


def csv_list(text: str | None, flag: str = "") -> tuple[str, ...]:
    """``"A, B, C"`` → ``("A", "B", "C")``; None (the flag not given) → ``()``. A blank list (``--goal ""``)
    or an empty name between commas (``"A,,B"``, a trailing comma) is refused, never dropped: it is a
    slip, and the run would silently fall back to the default or read a shorter list than written."""
    from core.errors import BadInputError

    if text is None:
        return ()
    if not text.strip():
        raise BadInputError(
            f"{flag or 'a list of names'} is empty", value=text, expected=f'"A,B,C" (or leave {flag or "the flag"} out)'
        )
    parts = tuple(part.strip() for part in text.split(","))
    if not all(parts):
        raise BadInputError("a list of names has an empty one", value=text, expected='"A,B,C" with no empty name')
    return parts


def parse_date(text: str) -> date:
    """An argparse type: ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def goals_lost(args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names of ``--goal "A,B"`` and of every ``--lost "X,Y"`` (``analyze`` and ``report``)."""
    lost = getattr(args, "lost", None)
    goals = csv_list(getattr(args, "goal", None), "--goal")
    return goals, tuple(n for item in lost or () for n in csv_list(item, "--lost"))


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a count of rows, days or steps)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def positive_days(text: str) -> float:
    """An argparse type: a number of days more than 0 (a window: 0 or less would hold no event)."""
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from exc
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 days: {text!r}")
    return value
