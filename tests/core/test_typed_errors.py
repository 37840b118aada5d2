"""The typed errors added to core/errors.py: a missing conversion definition, too little data, and the
refused write (AccessDeniedError, moved here from db/access.py, which still offers it)."""

from __future__ import annotations

import pytest

from core import errors
from core.errors import (
    AccessDeniedError,
    BadInputError,
    ConversionUndefinedError,
    JourneyLensError,
    NotEnoughDataError,
    UnknownNameError,
)


def test_conversion_undefined_has_one_wording_and_is_bad_input():
    exc = ConversionUndefinedError("the outlook")
    assert str(exc) == "the outlook needs conversion defined: goal nodes or outcome values"
    assert isinstance(exc, BadInputError) and isinstance(exc, JourneyLensError)
    assert (exc.analysis, exc.field, exc.expected) == ("the outlook", "conversion", errors.CONVERSION_EXPECTED)
    assert (exc.row, exc.column, exc.value) == (None, None, None)


def test_not_enough_data_is_a_journeylens_error():
    assert issubclass(NotEnoughDataError, JourneyLensError)
    assert str(NotEnoughDataError("this dataset has no events to look at")) == "this dataset has no events to look at"


def test_access_denied_lives_in_core_and_db_access_still_offers_it():
    from db import access

    assert access.AccessDeniedError is AccessDeniedError
    assert AccessDeniedError.__module__ == "core.errors"
    viewer = access.Actor("v@example.com", access.AccessRole.VIEWER)
    with access.acting_as(viewer), pytest.raises(AccessDeniedError) as info:
        access.require(access.AccessRole.EDITOR, "edit maps")
    assert str(info.value) == (
        "v@example.com is a viewer here and may not edit maps (it needs the editor role). Nothing was changed; "
        "ask an admin of this workspace for the role (it is set in `.streamlit/secrets.toml` under "
        "[journeylens.roles])."
    )
    assert (info.value.actor, info.value.needed, info.value.action) == (viewer, access.AccessRole.EDITOR, "edit maps")


def test_a_refusal_that_lists_some_of_the_real_names_says_how_many_more_there_are():
    # Before: "There is no dataset 99; existing: '1 (…)', …, '5 (…)'" with datasets 6 to 8 left out unsaid.
    error = UnknownNameError("dataset", 99, ["1 (a)", "2 (b)"], message="There is no dataset 99", more=3)
    assert str(error) == "There is no dataset 99; existing: '1 (a)', '2 (b)', and 3 more"
    assert str(UnknownNameError("dataset", 99, ["1 (a)"], message="There is no dataset 99", more=-4)).endswith(
        "'1 (a)'"
    )
