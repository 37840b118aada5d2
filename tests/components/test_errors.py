"""components.errors.user_errors: the one root's errors become a message; any other exception stays the
bug it is (a ValueError from pandas is not a user's mistake)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _app(raised: str) -> AppTest:
    def script(raised: str) -> None:
        from components.errors import user_errors
        from core.errors import BadInputError

        with user_errors():
            if raised == "bad input":
                raise BadInputError.invalid("Promoters target", 250, "a number from 0 to 100")
            if raised == "value error":
                raise ValueError("cannot convert float NaN to integer")
            if raised == "key error":
                raise KeyError("touchpoint")

    return AppTest.from_function(script, args=(raised,), default_timeout=30).run()


def test_a_user_error_is_shown_as_its_message():
    at = _app("bad input")
    assert [e.value for e in at.error] == ["Promoters target: 250 is not valid; expected a number from 0 to 100."]
    assert not at.exception


def test_a_value_error_or_key_error_from_a_bug_is_not_dressed_as_a_users_mistake():
    # Before: a ValueError (from pandas, numpy, a bug) was shown as a friendly st.error.
    for raised in ("value error", "key error"):
        at = _app(raised)
        assert not at.error and at.exception, raised
