"""Shared controls of the analysis pages, every one kept in the URL, and the one Conversion line.

- Dataset and map: ``?dataset=<id>`` and ``?map=<id>`` (default: the first dataset, and the map it
  is linked to). An id that does not exist is refused with a warning naming the real ones, and the
  page stays empty: it never shows another dataset or map instead.
- ``?goal=A,B``: converts on reaching these nodes for this view only (a shared link), checked like
  every name; otherwise the dataset's saved definition.
- Every other control is a widget bound to a query parameter of its own key, so a link reproduces
  the view.
- :func:`render_conversion_line`: "Conversion: <definition> · N of M journeys (x%)" with one control
  that changes the definition for the dataset (not for one page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import streamlit as st

from analytics.conversion import Conversion
from analytics.journeys import JourneyQuery
from analytics.schema import Role
from components import loaders as L
from components.access import can_edit
from components.bootstrap import bootstrap
from components.loaders import clear_caches, load_dataset_summaries, load_map_summaries
from components.text import escape_markdown, escape_markup
from components.url_select import (
    NO_CHOICE,
    link_index,
    link_refused,
    link_value,
    near_words,
    query_choice,
    query_date,
    query_multiselect,
    query_select,
    query_toggle,
    say_no_such,
)
from core.errors import EventsFileError, UnknownNameError
from services.context import AnalysisContext
from services.conversion import SCOPE_WORDS, clear_conversion, event_filter_note, set_conversion

LEVEL_LABELS = {"contact": "Contact", "account": "Account (buying committee)"}
THROUGH_KEY = "through"
_FILTER_PARAMS = ("from", "to", "channel", "role", "outcome", THROUGH_KEY)
# The filters by a column's values, as the Filters label them and the warnings name them.
FILTER_LABELS = {"channel": "Channels", "role": "Contact roles", "outcome": "Outcomes"}
THROUGH_LABEL = "Only journeys through"
GOAL_PARAM = "goal"
_PENDING = "_pending_through"


@dataclass(frozen=True)
class AnalysisView:
    """What the controls chose: the dataset's cache token and the one analysis context."""

    token: str
    ctx: AnalysisContext

    @property
    def dataset_id(self) -> int:
        return self.ctx.dataset_id

    @property
    def dataset_name(self) -> str:
        return self.ctx.dataset_name

    @property
    def map_id(self) -> int | None:
        return self.ctx.map_id

    @property
    def query(self) -> JourneyQuery:
        return self.ctx.query

    def has_role(self, role: str) -> bool:
        """Whether the dataset has the column of ``role`` (``"outcome"``, ``"channel"``, ...)."""
        return self.ctx.schema.has(Role(role))

    def run(self, name: str, **params: object):  # noqa: ANN201 - whatever the analysis returns
        """The analysis ``name`` of the registry on this view (cached)."""
        return L.load_analysis(name, self.token, self.ctx, **params)


def data_days(dataset_id: int) -> tuple[date | None, date | None]:
    """The days (UTC) of a dataset's first and last event, the range its date pickers offer."""
    summary = next((d for d in load_dataset_summaries() if d["id"] == dataset_id), {})
    first, last = summary.get("first_timestamp"), summary.get("last_timestamp")
    return (first.date() if first else None, last.date() if last else None)


DATASET_PICKER = "_pick_dataset"  # the key of the log picker (a page that moves the log sets its state)


def pick_dataset(
    *, label: str = "Event log", ids: list[int] | None = None, note: Callable[[int], str] | None = None
) -> tuple[int, str, str] | None:
    """The dataset of ``?dataset=`` (else the first): ``(id, cache token, name)``; None, with an
    empty state or a warning, when there is none or the link names one that does not exist. Without
    ``ids``, a link naming a map (``?map=``) puts that map's logs first and marks the others."""
    if ids is None:
        ids, note = _logs_of_the_links_map()
    datasets = load_dataset_summaries()
    if (raw := link_value("dataset")) is not None and raw not in {str(d["id"]) for d in datasets}:
        load_dataset_summaries.clear()  # one imported from the terminal since: read again before refusing
        datasets = load_dataset_summaries()
    if not datasets:
        st.info(
            "No dataset yet: import an event log on the **Data** page, then come back here.",
            icon=":material/upload_file:",
        )
        st.page_link("pages/4_Data.py", label="Open the Data page", icon=":material/upload_file:")
        return None
    by_id = {int(d["id"]): d for d in datasets}
    order = [i for i in (ids if ids is not None else list(by_id)) if i in by_id]

    def refuse(raw: str) -> None:  # a dataset that exists but is not offered here: just nothing chosen
        if raw not in {str(i) for i in by_id}:
            say_no_such("dataset", raw, [f"{i} ({by_id[i]['name']})" for i in order])

    chosen = query_select(
        label,
        order,
        param="dataset",
        format_func=lambda i: f"{by_id[i]['name']} · {by_id[i]['events']:,} events" + (note(i) if note else ""),
        refuse=refuse,
        placeholder="Choose a dataset",
        help="The event log to analyse (kept in the URL as ?dataset=).",
        key=DATASET_PICKER,
    )
    if chosen is None:
        return None
    d = by_id[chosen]
    return int(chosen), f"{chosen}:{d['created_at']}", str(d["name"])


class _Invalid:
    """A map id from the link that does not exist (the page stays empty)."""


INVALID = _Invalid()


def pick_map(
    *, label: str = "Journey map", none_label: str = "The event log's own link", required: bool = False
) -> int | None | _Invalid:
    """The map of ``?map=`` (None: the map the dataset is linked to, if any; with ``required``, the
    map the link's ``?dataset=`` is linked to, else the first map); :data:`INVALID`, with a warning, when
    the link names a map that does not exist."""
    maps = load_map_summaries()
    if (raw := link_value("map")) not in (None, NO_CHOICE) and raw not in {str(m["id"]) for m in maps}:
        load_map_summaries.clear()  # one made from the terminal since: read again before refusing
        maps = load_map_summaries()
    names = {int(m["id"]): m["name"] for m in maps}
    ids = list(names)
    unknown = link_value("map") is not None and link_index("map", ids) is None
    if unknown:  # refused: the user picks one of the real maps, nothing is shown meanwhile
        chosen = query_select(
            label,
            ids,
            param="map",
            format_func=names.get,
            refuse=lambda raw: say_no_such("map", raw, [f"{i} ({n})" for i, n in names.items()]),
            placeholder="Choose a map",
            key="_pick_map_fix",
        )
        return INVALID if chosen is None else chosen
    # Required and not in the link: the map the link's dataset is linked to (a link naming only a log opens
    # its own map), else the first.
    own = (
        next((d["map_id"] for d in load_dataset_summaries() if str(d["id"]) == link_value("dataset")), None)
        if required and link_value("dataset") is not None
        else None
    )
    return query_select(
        label,
        ids if required else [None, *ids],
        param="map",
        format_func=lambda i: none_label if i is None else names[i],
        default=(own if own in ids else ids[0]) if required and ids else None,
        help="Touchpoints and stages come from this map's links to the event log's activities.",
        key="_pick_map",
    )


def goal_override() -> Conversion | None:
    """The one-view definition of ``?goal=A,B`` (None when absent)."""
    raw = st.query_params.get(GOAL_PARAM)
    names = tuple(n.strip() for n in (raw or "").split(",") if n.strip())
    return Conversion(goals=names) if names else None


def open_view(
    dataset_id: int,
    token: str,
    map_id: int | None,
    query: JourneyQuery | None = None,
    *,
    stage_order: tuple[str, ...] = (),
    **fields: object,
) -> AnalysisView | None:
    """The view of a dataset through a map with ``query`` (or a query of these ``fields``: ``level``,
    ``collapse_repeats``, ...) and ``?goal=`` (if any); None, with a warning naming the nearest real
    names, when a name of the link does not exist."""
    if query is None:
        query = JourneyQuery(**fields)  # type: ignore[arg-type]
    try:
        ctx = L.load_context(token, dataset_id, map_id, query, goal_override(), stage_order)
    except UnknownNameError as exc:
        st.warning(escape_markup(str(exc)) + ". Nothing is shown for a name that does not exist.")
        if st.query_params.get(GOAL_PARAM):
            st.button("Use the dataset's saved definition instead", on_click=_drop_goal_param, key="_drop_goal")
        return None
    except EventsFileError as exc:  # the dataset's file is missing or damaged: say what to do, draw nothing of it
        st.error(escape_markup(str(exc)), icon=":material/broken_image:")
        return None
    return AnalysisView(token=token, ctx=ctx)


def _drop_goal_param() -> None:
    st.query_params.pop(GOAL_PARAM, None)


def _filter_choices(base: AnalysisView, column: str, key: str, label: str) -> list[str]:
    """A filter's choices: the column's most frequent values, and any other value the link names that
    the column has; a caption under the filter says when values are left out of the list."""
    from services.analysis import FILTER_CHOICES

    values = L.load_column_values(base.token, base.ctx, column)  # keyed without the link: a pick does not requery
    beyond = tuple(v for v in dict.fromkeys(st.query_params.get_all(key)) if v not in values)
    if beyond:  # a link naming values past the list: those the column has are offered too
        found = L.load_values_present(base.token, base.ctx, column, beyond)
        values = values + [v for v in beyond if v in found]
    if len(values) >= FILTER_CHOICES and (total := L.load_column_count(base.token, base.ctx, column)) > len(values):
        st.caption(
            escape_markdown(
                f"{label}: the {FILTER_CHOICES} most frequent of {total:,} values are offered; a link may name any."
            )
        )
    return values


def _filters(base: AnalysisView) -> dict:
    """Date range, channel, role, outcome, segments, through: each a bound widget."""
    from services.analysis import list_filter_columns

    columns = list_filter_columns(base.ctx)
    names = L.load_names(base.token, base.ctx)
    out: dict = {}
    # Open when the link filters: what changes the numbers is in sight, with any warning about it.
    linked = any(k in st.query_params for k in _FILTER_PARAMS) or any(k.startswith("seg_") for k in st.query_params)
    with st.expander("Filters", expanded=linked):
        c1, c2 = st.columns(2)
        first, last = data_days(base.dataset_id)
        out["date_from"] = query_date(c1, "From", key="from", lo=first, hi=last, empty="no start day")
        out["date_to"] = query_date(c2, "To", key="to", lo=first, hi=last, empty="no end day")
        c1, c2, c3 = st.columns(3)
        for col, (role, label) in zip((c1, c2, c3), FILTER_LABELS.items(), strict=True):
            if role in columns:
                out[role] = query_multiselect(
                    col, label, _filter_choices(base, role, role, label), key=role, refuse=True
                )
        segments = []
        for name in base.ctx.schema.segments:
            values = query_multiselect(
                st,
                f"Segment: {name}",
                _filter_choices(base, name, f"seg_{name}", f"Segment: {name}"),
                key=f"seg_{name}",
                refuse=True,
            )
            if values:
                segments.append((name, tuple(values)))
        out["segments"] = tuple(segments)
        _say_filters_left_out(columns, base.ctx.schema.segments)
        if _PENDING in st.session_state:  # a graph click, applied before the widget exists
            st.session_state[THROUGH_KEY] = st.session_state.pop(_PENDING)
        out["through"] = query_multiselect(
            st,
            THROUGH_LABEL,
            list(names.nodes),
            key=THROUGH_KEY,
            refuse=True,
            help="Keep journeys that reach any of these touchpoints, activities or stages (a click on a graph "
            "node sets it).",
        )
    return out


def _say_filters_left_out(columns: list[str], segments: tuple[str, ...]) -> None:
    """Name the link's filters this log has no column for (a segment it lacks, or channel, role or
    outcome where it has none): left out, never dropped silently."""
    said = []
    for role in FILTER_LABELS:
        if role not in columns and (values := st.query_params.get_all(role)):
            said.append(f"The link's {role}={', '.join(values)} was left out: this log has no {role} column.")
    for key in st.query_params:
        name = key.removeprefix("seg_")
        if key.startswith("seg_") and name not in segments:
            real = near_words(name, list(segments)) if segments else "it has none"
            said.append(f"The link's {key} was left out: this log has no segment {name} ({real}).")
    if said:
        st.warning(escape_markup(" ".join(said)))


def open_log_page(
    page: str, title: str, caption: str, *, level_help: str | None = None
) -> tuple[int, str, int | None, str]:
    """The head of a page that analyses one log as a whole (Friction, Attribution, Outlook): the page set
    up (:func:`bootstrap`), its title and caption, then :func:`pick_log`; stops the page when there is
    nothing to show."""
    bootstrap(page)
    st.title(title)
    st.caption(caption)
    picked = pick_log(level_help=level_help)
    if picked is None:
        st.stop()
    return picked


def logs_linked_first(map_id: int) -> tuple[list[int], Callable[[int], str]]:
    """``pick_dataset``'s order for a map: the logs linked to it first, the others marked as not
    linked to it."""
    datasets = load_dataset_summaries()
    linked = [int(d["id"]) for d in datasets if d["map_id"] == map_id]
    others = [int(d["id"]) for d in datasets if d["map_id"] != map_id]
    return [*linked, *others], (lambda i: "" if i in linked else " (not linked to this map)")


def _logs_of_the_links_map() -> tuple[list[int] | None, Callable[[int], str] | None]:
    """:func:`logs_linked_first` for the map the link names (``?map=``), so a map's link opens on one
    of its own logs; no order (None) when the link names none."""
    maps = [int(m["id"]) for m in load_map_summaries()]
    at = link_index("map", maps)
    return logs_linked_first(maps[at]) if at is not None else (None, None)


def say_foreign_map(dataset_id: int, map_id: int | None) -> None:
    """Under the pickers: a warning when the log is seen through a map it is not linked to."""
    note = L.load_foreign_map_note(dataset_id, map_id) if map_id is not None else None
    if note:
        st.warning(escape_markup(note), icon=":material/link_off:")


def say_filters_unused() -> None:
    """On a page that reads the whole log: a link's filters (``from``, ``to``, ``channel``, segments …, as
    Flows, Funnel and Paths write them) are said to be unused, never dropped silently."""
    given = [
        f"{k}={v}"
        for k in st.query_params
        if k in _FILTER_PARAMS or k.startswith("seg_")
        for v in st.query_params.get_all(k)
    ]
    if given:
        st.warning(
            escape_markup(
                f"The link's {'&'.join(given)} is not used: this page reads the whole log (filters are on Flows, "
                "Funnel and Paths)."
            )
        )


def pick_log(*, level_help: str | None = None) -> tuple[int, str, int | None, str] | None:
    """The event log, the map it is seen through and the journey level (``?dataset=``, ``?map=``,
    ``?level=``) of the pages that analyse one log as a whole (Friction, Attribution, Outlook):
    ``(dataset_id, cache token, map_id, level)``; None when there is nothing to show."""
    picked = pick_dataset()
    if picked is None:
        return None
    say_filters_unused()
    dataset_id, token, _name = picked
    c1, c2 = st.columns([2, 2])
    with c1:
        map_id = pick_map()
    if isinstance(map_id, _Invalid):
        return None
    say_foreign_map(dataset_id, map_id)
    with c2:
        # Contact journeys by default, as on every page, so the Conversion line reads the same everywhere.
        level = query_choice(
            st,
            "Journey level",
            list(LEVEL_LABELS),
            default="contact",
            key="level",
            help=level_help,
        )
    return dataset_id, token, map_id, level or "contact"


def render_analysis_controls(*, default_by: str = "touchpoint", conversion: bool = True) -> AnalysisView | None:
    """Draw the dataset, map, level, node, repeats and filter controls and, with ``conversion``, the
    Conversion line; None when there is nothing to show (no dataset, or a link naming one that does
    not exist)."""
    picked = pick_dataset()
    if picked is None:
        return None
    dataset_id, token, _name = picked
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1.4])
    with c1:
        map_id = pick_map()
    if isinstance(map_id, _Invalid):
        return None
    say_foreign_map(dataset_id, map_id)
    base = open_view(dataset_id, token, map_id)
    if base is None:
        return None
    from services.analysis import list_levels

    levels = list_levels(base.ctx)
    level = query_choice(
        c2,
        "Journey level",
        list(LEVEL_LABELS),
        default="contact",
        key="level",
        help="Account level merges an account's contacts into one journey (a buying committee).",
    )
    by_default = default_by if default_by in levels else "touchpoint"
    by = query_choice(c3, "Nodes", levels, default=by_default, key="by")
    collapse = query_toggle(
        c4,
        "Collapse repeats",
        value=True,
        key="collapse",
        help="Consecutive events on one node count once.",
    )
    f = _filters(base)
    refusing = [*FILTER_LABELS, *(f"seg_{name}" for name in base.ctx.schema.segments), THROUGH_KEY]
    if link_refused(*refusing):  # a filter value or node the link names that the log lacks: said above it
        return None
    query = JourneyQuery(
        level=level or "contact",
        by=by or by_default,
        collapse_repeats=bool(collapse),
        date_from=f["date_from"] if isinstance(f["date_from"], date) else None,
        date_to=f["date_to"] if isinstance(f["date_to"], date) else None,
        channels=tuple(f.get("channel") or ()),
        roles=tuple(f.get("role") or ()),
        outcomes=tuple(f.get("outcome") or ()),
        segments=f["segments"],
        through=tuple(f["through"] or ()),
    )
    view = open_view(dataset_id, token, map_id, query)
    if view is not None:
        say_when_filters_keep_nothing(view)
    if view is not None and conversion:
        render_conversion_line(view)
    return view


def filter_words(query: JourneyQuery) -> list[str]:
    """The filters of ``query`` as a person reads them ("From 2026-01-01", "Channels: email, web")."""
    words = [f"From {query.date_from.isoformat()}"] if query.date_from else []
    words += [f"To {query.date_to.isoformat()}"] if query.date_to else []
    chosen = {"channel": query.channels, "role": query.roles, "outcome": query.outcomes}
    words += [f"{FILTER_LABELS[role]}: {', '.join(values)}" for role, values in chosen.items() if values]
    words += [f"{name}: {', '.join(values)}" for name, values in query.segments]
    if query.through:
        words.append(f"{THROUGH_LABEL}: {', '.join(query.through)}")
    return words


def no_transitions_reason(view: AnalysisView) -> str:
    """Why a view has no transition, and what to change."""
    words = filter_words(view.query)
    if words:
        return f"No transitions with these filters ({' · '.join(words)}): widen them under Filters."
    return "No transitions: this dataset has no events to draw. Import its events again on the Data page."


def say_when_filters_keep_nothing(view: AnalysisView) -> None:
    """An empty result says why: when the filters keep none of the dataset's events, one warning names
    them (every figure of the page is then empty)."""
    words = filter_words(view.query)
    if words and int(view.run("summary").iloc[0]["events"]) == 0:
        st.warning(
            escape_markup(
                f"The filters keep none of this dataset's events ({' · '.join(words)}), so every figure "
                "below is empty. Widen them under Filters."
            )
        )


# --------------------------------------------------------------------------- the Conversion line


def render_conversion_line(view: AnalysisView, *, key: str = "conversion") -> None:
    """ "Conversion: <definition> · N of M journeys (x%)", where it comes from, and one control to
    change it for the dataset (every page then shows the new line)."""
    line = L.load_conversion_line(view.token, view.ctx)
    c1, c2 = st.columns([6, 1.2], vertical_alignment="center")
    with c1:
        where = SCOPE_WORDS[line.scope]
        text = escape_markdown(line.text)
        if line.scope == "none":
            st.info(
                text
                + (
                    " — define it once for this dataset with **Change**; nothing is guessed."
                    if can_edit()
                    else " — an editor defines it once for this dataset; nothing is guessed."
                )
            )
        elif line.problems:
            st.warning(f"{text} ({escape_markdown(where)})")
        else:
            st.markdown(f"**{text}**  \n:gray[{escape_markdown(where)}]")
        if note := event_filter_note(view.query):
            st.caption(escape_markdown(note))
    if can_edit():  # viewers see the definition, not the editor
        with c2, st.popover("Change", width="stretch", key=f"{key}_popover"):
            render_conversion_editor(view, key=key)


def _save(view: AnalysisView, conversion: Conversion, through_map: bool) -> None:
    set_conversion(view.dataset_id, conversion, map_id=view.map_id if through_map else None)
    st.query_params.pop(GOAL_PARAM, None)
    clear_caches()


def render_conversion_editor(view: AnalysisView, *, key: str = "conversion") -> None:
    """Define conversion for the dataset: a suggestion in one click, or goal nodes / outcome values,
    an optional time limit and what "lost" means. Saved for the dataset (or for it through this map)."""
    from components.errors import user_errors

    ctx = view.ctx
    names = L.load_names(view.token, ctx)
    if ctx.conversion_scope == "override":
        st.caption("This link sets conversion for this view only (?goal=).")
        a, b = st.columns(2)
        if a.button("Save it for the dataset", key=f"{key}_keep"):
            with user_errors():
                _save(view, ctx.conversion, False)
                st.rerun()
        b.button("Use the saved one", on_click=_drop_goal_param, key=f"{key}_drop")
    suggestions = L.load_suggestions(view.token, ctx)
    if suggestions:
        st.markdown("**Likely choices**")
        for i, s in enumerate(suggestions):
            if st.button(
                f"{s.conversion.describe()}",
                help=f"Offered because {s.why}.",
                key=f"{key}_suggest_{i}",
                width="stretch",
            ):
                with user_errors():
                    _save(view, s.conversion, False)
                    st.rerun()
    current = ctx.conversion
    lost_options = [*names.nodes, *[f"outcome: {o}" for o in names.outcomes]]
    saved_lost = [*current.lost_goals, *[f"outcome: {o}" for o in current.lost_outcomes]]
    gone = [
        *(g for g in (*current.goals, *current.lost_goals) if g not in names.nodes),
        *(f"outcome: {o}" for o in (*current.outcomes, *current.lost_outcomes) if o not in names.outcomes),
    ]
    if gone:  # a definition can outlive a relinked map or a re-import: never dropped silently
        known = [*names.nodes, *[f"outcome: {o}" for o in names.outcomes]]
        st.warning(
            escape_markup(
                "The saved definition names what this dataset does not have: "
                + "; ".join(f"{g} ({near_words(g, known)})" for g in dict.fromkeys(gone))
                + ". The form below leaves them out, so saving it drops them."
            )
        )
    with st.form(f"{key}_form", border=False):
        kinds = ["goal", "outcome"] if names.outcomes else ["goal"]
        kind = st.radio(
            "A journey converts when it",
            kinds,
            index=kinds.index("outcome") if current.outcomes and "outcome" in kinds else 0,
            format_func={"goal": "reaches any of some nodes", "outcome": "ends with one of some outcomes"}.get,
            horizontal=True,
            key=f"{key}_kind",
        )
        goals = st.multiselect(
            "Goal nodes (touchpoints, activities or stages)",
            list(names.nodes),
            default=[g for g in current.goals if g in names.nodes],
            key=f"{key}_goals",
        )
        within = st.number_input(
            "Within days of the journey's start (0: any time)",
            min_value=0.0,
            value=float(current.within_days or 0.0),
            step=1.0,
            key=f"{key}_within",
        )
        outcomes = (
            st.multiselect(
                "Outcome values",
                list(names.outcomes),
                default=[o for o in current.outcomes if o in names.outcomes],
                key=f"{key}_outcomes",
            )
            if names.outcomes
            else []
        )
        lost = st.multiselect(
            "Lost when it reaches (optional; used by the outlook and friction)",
            lost_options,
            default=[x for x in saved_lost if x in lost_options],
            key=f"{key}_lost",
        )
        through_map = False
        if view.map_id is not None:
            through_map = st.checkbox(
                "Only when this dataset is seen through this map",
                value=ctx.conversion_scope == "map",
                key=f"{key}_through_map",
            )
        saved = st.form_submit_button("Save for the dataset", type="primary")
    if saved:
        with user_errors():
            lost_outcomes = tuple(x.removeprefix("outcome: ") for x in lost if x.startswith("outcome: "))
            lost_goals = tuple(x for x in lost if not x.startswith("outcome: "))
            chosen = Conversion(
                goals=tuple(goals) if kind == "goal" else (),
                outcomes=tuple(outcomes) if kind == "outcome" else (),
                within_days=(within or None) if kind == "goal" else None,
                lost_goals=lost_goals,
                lost_outcomes=lost_outcomes,
            )
            _save(view, chosen, through_map)
            st.rerun()
    if ctx.conversion_scope in ("dataset", "map") and st.button("Clear the definition", key=f"{key}_clear"):
        with user_errors():
            clear_conversion(view.dataset_id, map_id=view.map_id if ctx.conversion_scope == "map" else None)
            clear_caches()
            st.rerun()


# --------------------------------------------------------------------------- graph clicks


def apply_node_click(clicked: str | None, *, source: str) -> None:
    """Filter the views to journeys through ``clicked`` (a graph node), once per click, and rerun.

    The graph keeps returning its last click on every rerun; ``source`` names the graph so that only
    a new click acts."""
    memo = f"_last_click_{source}"
    if clicked is None or st.session_state.get(memo) == clicked:
        return
    st.session_state[memo] = clicked
    if clicked in ("(entry)", "(exit)"):
        return
    st.session_state[_PENDING] = [clicked]
    st.rerun()


def _clear_through() -> None:
    st.session_state[THROUGH_KEY] = []


def clear_node_filter_button(view: AnalysisView) -> None:
    """A caption naming the "journeys through" filter, with a button to clear it, when it is set."""
    if view.query.through:
        c1, c2 = st.columns([4, 1])
        c1.caption(
            "Showing only journeys through " + ", ".join(f"**{escape_markdown(n)}**" for n in view.query.through)
        )
        c2.button("Clear node filter", icon=":material/filter_alt_off:", on_click=_clear_through)
