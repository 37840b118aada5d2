"""Optional OIDC sign-in: off without [auth]; with it, pages wait for sign-in and admit allowed accounts only."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.auth import email_allowed
from tests.pages.conftest import run_page

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-only-secret",
    "client_id": "journeylens",
    "client_secret": "test-only",
    "server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
}


def _run(secrets: dict | None = None, user: dict | None = None) -> AppTest:
    return run_page("app.py", secrets=secrets, user=user)


def test_without_auth_section_pages_open_directly(monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    at = _run()
    assert at.title[0].value == "Overview"
    assert not [b for b in at.button if b.label == "Sign in"]


def test_with_auth_section_nothing_shows_before_sign_in(monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    at = _run({"auth": AUTH}, {"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in"]
    assert [t.value for t in at.title] == ["JourneyLens"]  # the Overview did not run


def test_signed_in_user_from_another_domain_is_turned_away(monkeypatch):
    monkeypatch.setenv("JOURNEYLENS_NO_DEMO", "1")
    secrets = {"auth": AUTH, "journeylens": {"allowed_domains": ["example.com"]}}
    at = _run(secrets, {"is_logged_in": True, "email": "mallory@evil.example", "name": "Mallory"})
    assert any("may not open this workspace" in e.value for e in at.error)
    assert not [t for t in at.title if t.value == "Overview"]
    at = _run(secrets, {"is_logged_in": True, "email": "ana@example.com", "name": "Ana"})
    assert [t.value for t in at.title] == ["Overview"]


@pytest.mark.parametrize(
    ("email", "domains", "allowed"),
    [
        ("ana@example.com", ["example.com"], True),
        ("ana@EXAMPLE.com", ["@example.com"], True),
        ("ana@example.com.evil.test", ["example.com"], False),
        ("ana@sub.example.com", ["example.com"], False),
        (None, ["example.com"], False),
        ("not-an-email", ["example.com"], False),
        ("anyone@anywhere.test", None, True),
    ],
)
def test_email_allowed(email, domains, allowed):
    assert email_allowed(email, domains) is allowed
