"""The persona form (every field of PRODUCT.md) shared by creating and editing a persona.

A refused new persona keeps what was typed; an accepted one is drawn afresh, empty, on the next run
(:func:`components.flash.form_key`, :func:`components.flash.form_saved`)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.flash import form_key
from core.journey_map import PersonaView
from services.personas import COMMITTEE_ROLES

NO_ROLE = "(no committee role)"


def persona_form(key: str, persona: PersonaView | None, *, submit: str) -> dict[str, Any] | None:
    """Draw the persona form; returns the entered values when submitted (validated by the service).

    A new persona's form keeps what was typed until the page, once the persona is saved, calls
    :func:`components.flash.form_saved` with ``key`` (a refused save leaves it as typed)."""
    p = persona
    new = persona is None
    form = form_key(key) if new else key

    def k(field: str) -> str | None:
        # A new persona's widgets are keyed by the form's generation, so a saved one leaves them empty.
        return f"{form}:{field}" if new else None

    with st.form(form):
        c1, c2 = st.columns([2, 1])
        name = c1.text_input(
            "Name", value=p.name if p else "", max_chars=200, placeholder="e.g. Dana, Head of RevOps", key=k("name")
        )
        roles = [NO_ROLE, *COMMITTEE_ROLES]
        current = p.committee_role if p and p.committee_role in COMMITTEE_ROLES else NO_ROLE
        role = c2.selectbox("Buying-committee role", roles, index=roles.index(current), key=k("role"))
        description = st.text_area("Description", value=p.description if p else "", height=68, key=k("description"))
        st.markdown("**Professional profile**")
        c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
        job_title = c1.text_input("Job title", value=p.job_title if p else "", max_chars=200, key=k("job_title"))
        company_size = c2.text_input(
            "Company size", value=p.company_size if p else "", max_chars=200, key=k("company_size")
        )
        industry = c3.text_input("Industry", value=p.industry if p else "", max_chars=200, key=k("industry"))
        c4.markdown("&nbsp;")
        decision_maker = c4.checkbox(
            "Decision maker", value=p.is_decision_maker if p else False, key=k("decision_maker")
        )
        demographics = st.text_input("Demographics", value=p.demographics if p else "", key=k("demographics"))
        c1, c2 = st.columns(2)
        goals = c1.text_area("Goals", value=p.goals if p else "", height=90, key=k("goals"))
        pain_points = c2.text_area("Pain points", value=p.pain_points if p else "", height=90, key=k("pain_points"))
        buying_behaviour = c1.text_area(
            "Buying behaviour", value=p.buying_behaviour if p else "", height=90, key=k("buying_behaviour")
        )
        channels = c2.text_area("Channels and media", value=p.channels if p else "", height=90, key=k("channels"))
        if not st.form_submit_button(submit, type="primary"):
            return None
    values = {
        "name": name,
        "committee_role": None if role == NO_ROLE else role,
        "description": description,
        "job_title": job_title,
        "company_size": company_size,
        "industry": industry,
        "is_decision_maker": decision_maker,
        "demographics": demographics,
        "goals": goals,
        "pain_points": pain_points,
        "buying_behaviour": buying_behaviour,
        "channels": channels,
    }
    return values
