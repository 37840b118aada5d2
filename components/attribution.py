"""Streamlit pieces of the Attribution and Outlook pages: the models' formulas and the outlook's settings."""

from __future__ import annotations

import streamlit as st

from analytics.attribution import MODEL_FORMULAS, MODEL_LABELS
from analytics.outlook import DEFAULT_ACTIVE_DAYS, DEFAULT_MIN_TRANSITIONS
from components.url_select import query_choice, query_number


def render_model_formulas() -> None:
    """The attribution models' formulas, one line each."""
    st.markdown("\n".join(f"- **{MODEL_LABELS[k]}**: {v}" for k, v in MODEL_FORMULAS.items()))


def render_active_days() -> int:
    """How many days without an event close a journey (``?active_days=``; default the outlook's)."""
    return query_number(
        st,
        "number_input",
        "Active in the last (days)",
        lo=1,
        hi=3650,
        value=DEFAULT_ACTIVE_DAYS,
        key="active_days",
        help="A journey with no event for longer is closed as gone quiet.",
    )


def render_model_settings() -> tuple[str, int]:
    """The outlook's model and the support a next best action needs (``?model=``, ``?min_transitions=``),
    with what the models do."""
    # Open when the link sets them: what changes the numbers is in sight, with any warning about it.
    with st.expander("Model settings", expanded=any(k in st.query_params for k in ("model", "min_transitions"))):
        model = query_choice(
            st,
            "Model",
            ["learned", "markov"],
            default="learned",
            key="model",
            format_func=lambda m: {"learned": "Learned (the default)", "markov": "Markov chain"}[m],
        )
        min_transitions = query_number(
            st,
            "number_input",
            "Suggest an action only when at least this many similar journeys took it",
            lo=1,
            hi=1000,
            value=DEFAULT_MIN_TRANSITIONS,
            key="min_transitions",
        )
        st.markdown(
            "The **learned model** sees the whole journey so far: which touchpoints and how often, the last "
            "three in order, the time since the start and since the last event, the channels, at account level "
            "how many people and roles of the buying committee are involved, the value so far, the segments, and "
            "what followed the same last one to four touchpoints in other journeys. Gradient boosting "
            "gives the probability of converting, calibrated on the most recent fifth of the closed journeys; a "
            "random forest gives the likely next touchpoints. The **next best action** is the touchpoint after "
            "which similar journeys (standing on the same touchpoint) converted most often, taken by at least the "
            "number above; the **lift** is how far their rate lies above this journey's own probability (no action is "
            "shown where no touchpoint's rate does). The **factors** are what moves this journey's "
            "probability most: each is set to a typical value and the change is shown. The **Markov chain** "
            "(the baseline) knows only the touchpoint a journey stands on. The backtest below shows which is right "
            "more often."
        )
    return model, min_transitions
