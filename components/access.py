"""What the signed-in person may do on a page: pages hide editing controls from viewers.

The services refuse a viewer's writes by themselves (db/access.py); this only keeps the page
honest, showing one line instead of buttons that would be refused.
"""

from __future__ import annotations

import streamlit as st

from db.access import AccessRole, can

ADMIN_ONLY = "Deleting and restoring need the admin role of this workspace."


def can_edit() -> bool:
    """True for editors and admins (everyone without sign-in)."""
    return can(AccessRole.EDITOR)


def can_admin() -> bool:
    """True for admins (everyone without sign-in): deletes, restores, demo reset."""
    return can(AccessRole.ADMIN)


def editing_allowed(what: str = "change this") -> bool:
    """Whether editing controls may be drawn; for a viewer, says once why they are not there."""
    if can_edit():
        return True
    st.caption(f":material/visibility: You are a viewer here: you can browse and download, not {what}.")
    return False
