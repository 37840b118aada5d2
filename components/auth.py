"""Optional sign-in for shared deployments: OpenID Connect through Streamlit's ``st.login``.

Nothing changes until ``.streamlit/secrets.toml`` holds an ``[auth]`` section (see the README).
Then every page asks for sign-in before it draws anything, and shows who is signed in with a
sign-out button. An optional ``[journeylens]`` section narrows who may sign in::

    [journeylens]
    allowed_domains = ["example.com"]     # e-mail domains let in (a Google provider lets anyone sign in)

    [journeylens.roles]                   # viewer / editor / admin by e-mail or domain (db/access.py)
    admin = ["ana@example.com"]
    editor = ["example.com"]
    default = "viewer"

Streamlit switches XSRF and CORS protection on by itself when ``[auth]`` is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from components.text import escape_markdown
from core.errors import BadInputError
from db.access import Actor, role_for, set_actor


def _secrets_section(name: str) -> Mapping[str, Any] | None:
    try:
        section = st.secrets.get(name)
    except Exception:  # no secrets.toml at all (StreamlitSecretNotFoundError), or an unreadable one
        return None
    return section if isinstance(section, Mapping) else None


def auth_configured() -> bool:
    """True when secrets.toml has an ``[auth]`` section (sign-in required)."""
    return _secrets_section("auth") is not None


def email_allowed(email: str | None, allowed_domains: list[str] | tuple[str, ...] | None) -> bool:
    """Whether ``email`` belongs to one of ``allowed_domains`` (no list: everyone the provider lets in)."""
    if not allowed_domains:
        return True
    if not email or "@" not in email:
        return False
    domain = email.rsplit("@", 1)[1].strip().lower()
    return domain in {d.strip().lower().lstrip("@") for d in allowed_domains}


def require_sign_in() -> None:
    """With ``[auth]`` configured: stop the page until the user has signed in (and is allowed), then
    act as them with their role for this run (``[journeylens.roles]``, see db/access.py).
    Without it: nobody is set, everyone is admin (a local install)."""
    set_actor(None)
    if not auth_configured():
        return
    user = st.user
    if not user.get("is_logged_in"):
        st.title("JourneyLens")
        st.info("This workspace is shared: sign in to continue.", icon=":material/lock:")
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    options = _secrets_section("journeylens") or {}
    email = user.get("email")
    if not email_allowed(email, options.get("allowed_domains")) or user.get("email_verified") is False:
        st.error(f"{escape_markdown(email or 'This account')} may not open this workspace.", icon=":material/block:")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    try:
        role = role_for(email, options.get("roles"))
    except BadInputError as exc:  # a typo in secrets.toml: nobody gets rights by accident
        st.error(f"The workspace's roles are misconfigured: {escape_markdown(str(exc))}", icon=":material/block:")
        st.stop()
    set_actor(Actor(str(email), role))
    with st.sidebar:
        st.caption(f"Signed in as {escape_markdown(user.get('name') or email or 'you')} ({role.label})")
        st.button("Sign out", on_click=st.logout, key="journeylens_sign_out")
