"""The one error root: every typed error is a JourneyLensError carrying its context; a wrong name is
refused with a typed error naming the nearest real ones, never a KeyError."""

from __future__ import annotations

import ast

import pytest

from analytics.registry import run_analysis
from analytics.schema import EventSchema, Role
from core import errors
from core.errors import BadInputError, JourneyLensError, UnknownColumnError, UnknownNameError
from services.templates import get_template
from tests import ROOT

APP_PACKAGES = ("analytics", "charts", "components", "core", "db", "pages", "services")


def test_every_error_of_the_app_derives_from_the_one_root():
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)]
    assert len(classes) > 10
    assert all(issubclass(c, JourneyLensError) for c in classes)
    # An error class defined elsewhere (beside the types its context needs) extends one of core/errors.py.
    elsewhere = []
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "core" / "errors.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                bases = [b.id for b in getattr(node, "bases", ()) if isinstance(b, ast.Name)]
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name.endswith("Error")
                    and not any(isinstance(getattr(errors, b, None), type) for b in bases)
                ):
                    elsewhere.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert not elsewhere, elsewhere


def test_bad_input_names_the_field_the_value_and_what_was_expected():
    exc = BadInputError.invalid("stage.name", "x" * 200, "a non-empty name")
    assert (exc.field, exc.expected) == ("stage.name", "a non-empty name")
    assert str(exc).startswith("stage.name: 'xxx") and str(exc).endswith("; expected a non-empty name.")
    assert len(str(exc)) < 160  # a 200-character value is cut
    exc = BadInputError("Unreadable number", row=4, column="value", value="abc", expected="a number")
    assert str(exc) == "Unreadable number (row 4; column 'value'; value 'abc'; expected a number)"
    assert (exc.row, exc.column, exc.field, exc.value) == (4, "value", "value", "abc")


def test_an_unknown_template_is_refused_with_the_nearest_keys():
    with pytest.raises(UnknownNameError) as info:
        get_template("b2b-4-stag")
    assert "b2b-4-stage" in info.value.nearest
    assert "unknown template 'b2b-4-stag'" in str(info.value)


def test_an_unknown_analysis_is_refused_with_the_nearest_names():
    with pytest.raises(UnknownNameError) as info:
        run_analysis("funel", None)  # type: ignore[arg-type]  # refused before the inputs are read
    assert "funnel" in info.value.nearest and "no analysis named 'funel'" in str(info.value)
    with pytest.raises(UnknownNameError) as info:
        run_analysis("FUNNEL", None)  # type: ignore[arg-type]  # case alone is near (core.errors.is_close)
    assert info.value.nearest[0] == "funnel"
    with pytest.raises(UnknownNameError) as info:
        run_analysis("qqqqqq", None)  # type: ignore[arg-type]
    assert not info.value.nearest  # nothing near: the message lists the analyses instead


def test_a_missing_role_is_a_typed_error_not_a_key_error():
    with pytest.raises(UnknownColumnError, match="this dataset has no stage column"):
        EventSchema().column(Role.STAGE)


def test_no_key_error_is_caught_as_a_user_error():
    offenders = []
    paths = [p for package in (*APP_PACKAGES, "cli") for p in (ROOT / package).rglob("*.py")]
    for path in [*paths, *ROOT.glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                if "KeyError" in {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_names_offered_as_nearest_are_near_and_ids_list_the_real_ones():
    near = UnknownNameError("goal", "Pricng", ["Pricing page"])
    assert str(near).endswith("; nearest: 'Pricing page'")
    # Before: "nearest: 'Blog', 'Case studies', 'Chatbot'" for a name like none of them.
    far = UnknownNameError("goal", "wonn", ["Blog", "Case studies", "Chatbot"])
    assert str(far).endswith("; nothing close; some that exist: 'Blog', 'Case studies', 'Chatbot'")
    ids = UnknownNameError("map", 999, ["1 (Plan)"], message="There is no map 999")
    assert str(ids) == "There is no map 999; existing: '1 (Plan)'"
