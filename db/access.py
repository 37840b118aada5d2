"""Who may change what: viewer, editor, admin; checked by the storage layer itself.

Roles come from ``.streamlit/secrets.toml`` in a shared deployment (sign-in on)::

    [journeylens.roles]
    admin = ["ana@example.com"]               # e-mails or domains ("example.com" or "@example.com")
    editor = ["example.com"]
    viewer = ["partner.example"]
    default = "viewer"                         # anyone let in but not listed (default: viewer)

An e-mail listed by itself wins over its domain (an admin can make one person of an editor domain
a viewer); among entries equally specific, the highest role wins.

- viewer: browses everything and downloads, changes nothing;
- editor: maps, datasets, links, conversion definitions (every write);
- admin: also deletes maps, datasets, snapshots and personas, restores (snapshots and backups),
  resets the demo.

Without sign-in (a local install, the CLI) nobody is set and everyone is admin, as before. A page
sets the signed-in person for its script run with :func:`acting_as`; every write session calls
:func:`require` (``db.engine.write_session``), and the services that delete or restore ask for
admin, so a viewer's write is refused by the service itself, whichever page or script calls it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

# AccessDeniedError lives with the other typed errors; imported from here as before.
from core.errors import AccessDeniedError, BadInputError


class AccessRole(IntEnum):
    VIEWER = 1
    EDITOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Actor:
    """Who is acting: the signed-in e-mail (or "local" / "system") and the role given to them."""

    name: str
    role: AccessRole


LOCAL = Actor("local", AccessRole.ADMIN)
_current: ContextVar[Actor | None] = ContextVar("journeylens_actor", default=None)


def current_actor() -> Actor:
    """The person acting now; :data:`LOCAL` (admin) when nobody signed in."""
    return _current.get() or LOCAL


def can(role: AccessRole) -> bool:
    return current_actor().role >= role


def require(role: AccessRole, action: str) -> None:
    """Refuse (:class:`AccessDeniedError`) unless the person acting has ``role`` or a higher one."""
    actor = current_actor()
    if actor.role < role:
        raise AccessDeniedError(actor, role, action)


def set_actor(actor: Actor | None) -> None:
    """Set who acts for the rest of this context (a Streamlit script run sets it once, at the top)."""
    _current.set(actor)


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def as_system(what: str) -> Iterator[None]:
    """Work the app does by itself whoever is looking (seeding the demo on first start)."""
    with acting_as(Actor(f"system ({what})", AccessRole.ADMIN)):
        yield


def _entries(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    return [str(v).strip().lower() for v in (value or []) if str(v).strip()]


def role_for(email: str | None, roles: Mapping[str, Any] | None) -> AccessRole:
    """The role of ``email`` under a ``[journeylens.roles]`` table (see the module docstring).

    Unknown role names in the table are refused (a typo must not give or take rights silently).
    """
    roles = dict(roles or {})
    default_name = str(roles.pop("default", "viewer")).strip().lower()
    known = {r.label: r for r in AccessRole}
    unknown = sorted(set(roles) - set(known)) + ([default_name] if default_name not in known else [])
    if unknown:
        raise BadInputError(
            f"[journeylens.roles] names unknown roles {unknown}; the roles are {', '.join(known)} (and default)"
        )
    email = (email or "").strip().lower()
    domain = email.rsplit("@", 1)[1] if "@" in email else None
    exact = [known[name] for name, entries in roles.items() if email and email in _entries(entries)]
    if exact:
        return max(exact)
    by_domain = [
        known[name]
        for name, entries in roles.items()
        if domain and domain in {e.lstrip("@") for e in _entries(entries) if "@" not in e.lstrip("@")}
    ]
    if by_domain:
        return max(by_domain)
    return known[default_name]
