"""Link a dataset to a journey map: which touchpoint each activity of the event log stands for.

Suggestions, in this order of precedence (the ``match`` column says which one applied):

1. ``saved``: a link saved for this dataset and map (possibly "no touchpoint");
2. ``activity name``: the activity is listed in a touchpoint's activity names (exactly);
3. ``name``: the activity and a touchpoint name (or one of its activity names) are equal once
   case, accents, spacing and punctuation are ignored;
4. ``similar``: the closest touchpoint name with a similarity ratio of at least 0.85 (difflib,
   on the same normalised text);
5. ``none``: no touchpoint.

Touchpoint *labels* are what analyses show: a touchpoint's name, or ``name (stage)`` when the same
name occurs in several stages of the map, so relabelling events never merges two touchpoints.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from analytics.dataset_profile import compute_activity_profile, compute_stage_profile
from analytics.engine import events_table
from core.errors import BadInputError
from db import crud
from db.engine import read_session, write_session
from db.models import ActivityLink, Dataset, Touchpoint
from services.datasets import get_event_source

LINK_COLUMNS = ["activity", "touchpoint_id", "touchpoint", "stage", "match", "events"]
SIMILARITY_THRESHOLD = 0.85
MAX_DRAFT_TOUCHPOINTS = 150
DRAFT_SINGLE_STAGE = "Journey"
DRAFT_OTHER_STAGE = "Other"

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_name(text: str) -> str:
    """Compare-friendly form of a name: no accents, case, punctuation or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


@dataclass(frozen=True)
class TouchpointRef:
    """A touchpoint of a map as analyses see it: ``label`` is its node name (the one owner of
    touchpoint labels: the name, or ``name (stage)`` when the name occurs in several stages, then
    `` 2``, `` 3`` for the same name twice in one stage, so relabelling events never merges two)."""

    id: int
    name: str
    label: str
    stage: str
    stage_id: int
    activity_names: tuple[str, ...] = ()


def _map_touchpoints(session: Session, map_id: int) -> list[TouchpointRef]:
    crud.get_map(session=session, map_id=map_id)
    stages = {s.id: s.name for s in crud.list_stages(session=session, map_id=map_id)}
    rows = crud.list_touchpoints(session=session, map_id=map_id)
    name_stages: dict[str, set[str]] = {}
    for t in rows:
        name_stages.setdefault(t.name, set()).add(stages.get(t.stage_id, ""))
    out: list[TouchpointRef] = []
    seen: set[str] = set()
    for t in rows:
        stage = stages.get(t.stage_id, "")
        label = t.name if len(name_stages[t.name]) == 1 else f"{t.name} ({stage})"
        base, n = label, 2
        while label in seen:  # the same name twice in one stage
            label, n = f"{base} {n}", n + 1
        seen.add(label)
        out.append(TouchpointRef(t.id or 0, t.name, label, stage, t.stage_id, tuple(t.activity_names or ())))
    return out


def map_touchpoints(map_id: int, *, engine: Engine | None = None) -> tuple[TouchpointRef, ...]:
    """A map's touchpoints in display order, with their labels."""
    with read_session(engine) as session:
        return tuple(_map_touchpoints(session, map_id))


def touchpoint_labels(map_id: int, *, engine: Engine | None = None) -> dict[str, int]:
    """Touchpoint label → touchpoint id for a map, in map order (labels as analyses show them)."""
    with read_session(engine) as session:
        return {t.label: t.id for t in _map_touchpoints(session, map_id)}


def _activity_profile(dataset_id: int, engine: Engine | None) -> pd.DataFrame:
    source, schema = get_event_source(dataset_id, engine=engine)
    return compute_activity_profile(events_table(source), schema)


def _suggest_one(activity: str, touchpoints: list[TouchpointRef]) -> tuple[TouchpointRef | None, str]:
    for t in touchpoints:
        if activity in t.activity_names:
            return t, "activity name"
    key = normalise_name(activity)
    for t in touchpoints:
        if key and (key == normalise_name(t.name) or key in {normalise_name(a) for a in t.activity_names}):
            return t, "name"
    best, best_ratio = None, 0.0
    for t in touchpoints:
        ratio = difflib.SequenceMatcher(None, key, normalise_name(t.name)).ratio()
        if ratio > best_ratio:
            best, best_ratio = t, ratio
    if best is not None and best_ratio >= SIMILARITY_THRESHOLD:
        return best, "similar"
    return None, "none"


def _saved_links(session: Session, dataset_id: int, map_id: int) -> dict[str, int | None]:
    rows = session.exec(
        select(ActivityLink).where(ActivityLink.dataset_id == dataset_id, ActivityLink.map_id == map_id)
    ).all()
    return {r.activity: r.touchpoint_id for r in rows}


def suggest_links(dataset_id: int, map_id: int, *, engine: Engine | None = None) -> pd.DataFrame:
    """One row per activity of the dataset (most events first) with its suggested touchpoint.

    Columns: ``activity, touchpoint_id (nullable), touchpoint (label), stage, match, events``;
    ``match`` is one of ``saved``, ``activity name``, ``name``, ``similar``, ``none`` (module docstring).
    """
    profile = _activity_profile(dataset_id, engine)
    with read_session(engine) as session:
        crud.get_dataset(session=session, dataset_id=dataset_id)
        touchpoints = _map_touchpoints(session, map_id)
        saved = _saved_links(session, dataset_id, map_id)
    by_id = {t.id: t for t in touchpoints}
    rows = []
    for activity, events in zip(profile["activity"], profile["events"], strict=True):
        if activity in saved and (saved[activity] is None or saved[activity] in by_id):
            tp_id = saved[activity]
            tp, match = (by_id[tp_id] if tp_id is not None else None), "saved"
        else:
            tp, match = _suggest_one(activity, touchpoints)
        rows.append(
            {
                "activity": activity,
                "touchpoint_id": tp.id if tp else None,
                "touchpoint": tp.label if tp else None,
                "stage": tp.stage if tp else None,
                "match": match,
                "events": int(events),
            }
        )
    frame = pd.DataFrame(rows, columns=LINK_COLUMNS)
    frame["touchpoint_id"] = frame["touchpoint_id"].astype("Int64")
    frame["events"] = frame["events"].astype("int64")
    return frame


def _write_links(
    session: Session, dataset: Dataset, map_id: int, links: dict[str, int | None], valid_ids: set[int]
) -> None:
    for tp_id in links.values():
        if tp_id is not None and not pd.isna(tp_id) and int(tp_id) not in valid_ids:
            raise BadInputError.invalid("touchpoint", tp_id, f"a touchpoint of map {map_id}")
    session.exec(delete(ActivityLink).where(ActivityLink.dataset_id == dataset.id, ActivityLink.map_id == map_id))
    for activity, tp_id in sorted(links.items()):
        session.add(
            ActivityLink(
                dataset_id=dataset.id or 0,
                map_id=map_id,
                activity=activity,
                touchpoint_id=None if tp_id is None or pd.isna(tp_id) else int(tp_id),
            )
        )
    dataset.map_id = map_id
    session.add(dataset)
    session.flush()


def save_links(dataset_id: int, map_id: int, links: dict[str, int | None], *, engine: Engine | None = None) -> None:
    """Replace the dataset's links to ``map_id`` with ``links`` (activity → touchpoint id or None).

    Also makes ``map_id`` the dataset's map. Activities must be the dataset's own; touchpoints must
    belong to the map (otherwise BadInputError, nothing saved).
    """
    known = set(_activity_profile(dataset_id, engine)["activity"])
    _save_checked_links(dataset_id, map_id, links, known, engine)


def _save_checked_links(
    dataset_id: int, map_id: int, links: dict[str, int | None], known: set[str], engine: Engine | None
) -> None:
    """Save ``links`` after checking their activities against ``known`` (the dataset's activities)."""
    unknown = sorted(set(links) - known)
    if unknown:
        raise BadInputError.invalid("activity", unknown[0], "an activity of this dataset")
    with write_session(engine) as session:
        dataset = crud.get_dataset(session=session, dataset_id=dataset_id)
        valid = {t.id for t in _map_touchpoints(session, map_id)}
        _write_links(session, dataset, map_id, links, valid)


def link_dataset_to_map(dataset_id: int, map_id: int, *, engine: Engine | None = None) -> None:
    """Link a dataset to a map by saving the suggestions as they are.

    The suggestions already hold every activity of the dataset, so the profile is read once.
    """
    suggestions = suggest_links(dataset_id, map_id, engine=engine)
    links = {
        a: (None if pd.isna(t) else int(t))
        for a, t in zip(suggestions["activity"], suggestions["touchpoint_id"], strict=True)
    }
    _save_checked_links(dataset_id, map_id, links, set(links), engine)


def get_journey_labels(
    dataset_id: int, map_id: int | None = None, *, engine: Engine | None = None
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """``(touchpoint_of, stage_of)`` for :class:`analytics.journeys.JourneyQuery`.

    ``touchpoint_of``: activity → touchpoint label, for linked activities (saved links; the
    suggestions when none are saved for that map). ``stage_of``: touchpoint label → stage name,
    for every touchpoint of the map. ``map_id`` None: the dataset's own map. Both empty when the
    dataset is not linked to any map. Sorted, so equal links give equal (cache-friendly) tuples.
    """
    with read_session(engine) as session:
        dataset = crud.get_dataset(session=session, dataset_id=dataset_id)
        map_id = map_id if map_id is not None else dataset.map_id
        if map_id is None:
            return (), ()
        touchpoints = _map_touchpoints(session, map_id)
    links = suggest_links(dataset_id, map_id, engine=engine)
    linked = links[links["touchpoint"].notna()]
    touchpoint_of = tuple(sorted(zip(linked["activity"], linked["touchpoint"], strict=True)))
    stage_of = tuple(sorted((t.label, t.stage) for t in touchpoints))
    return touchpoint_of, stage_of


def compute_coverage(dataset_id: int, map_id: int, *, engine: Engine | None = None) -> tuple[list[str], list[str]]:
    """``(unmatched activities, unreached touchpoints)``: activities no touchpoint claims (most
    events first) and touchpoint labels no activity reaches (in map order)."""
    links = suggest_links(dataset_id, map_id, engine=engine)
    unmatched = links.loc[links["touchpoint_id"].isna(), "activity"].tolist()
    reached = set(links["touchpoint_id"].dropna().astype(int))
    with read_session(engine) as session:
        touchpoints = _map_touchpoints(session, map_id)
    unreached = [t.label for t in touchpoints if t.id not in reached]
    return unmatched, unreached


def foreign_map_note(dataset_id: int, map_id: int, *, engine: Engine | None = None) -> str | None:
    """What a view of ``dataset_id`` through ``map_id`` says when the dataset is not linked to that
    map (None when it is): how much of the log the map's touchpoints claim (saved links, else names
    that match) and that the rest keep the log's own names, so no number seen through another map is
    read as the linked map's."""
    with read_session(engine) as session:
        dataset = crud.get_dataset(session=session, dataset_id=dataset_id)
        if dataset.map_id == map_id:
            return None
        name = crud.get_map(session=session, map_id=map_id).name
        own = crud.get_map(session=session, map_id=dataset.map_id).name if dataset.map_id is not None else None
    links = suggest_links(dataset_id, map_id, engine=engine)
    claimed = links[links["touchpoint_id"].notna()]
    events = int(links["events"].sum())
    share = f" ({int(claimed['events'].sum()) / events:.0%} of its events)" if events else ""
    activities = f"{len(links):,} activit{'y' if len(links) == 1 else 'ies'}"
    if len(claimed):
        how = "saved links" if (claimed["match"] == "saved").all() else "names that match"
        claims = f"that map's touchpoints claim {len(claimed):,} of its {activities}{share}, by {how}; the others keep"
    else:
        claims = f"that map's touchpoints claim none of its {activities}; they all keep"
    if own is not None:
        head = f"This event log is linked to “{own}”, not to “{name}”"
        differ = "so the numbers differ from those seen through the map it is linked to"
    else:
        head = f"This event log is not linked to any map, so not to “{name}” either"
        differ = "so the numbers are the log's own where the map claims nothing"
    return (
        f"{head}: {claims} the log's own names and stages, {differ}. Link it to this map on the Data page to "
        "see it through this one."
    )


def renamed_in_draft(map_id: int, *, engine: Engine | None = None) -> list[tuple[str, str]]:
    """``(activity, touchpoint name)`` of each touchpoint of a drafted map whose name is not its one
    activity's: cut to the longest name, or told apart from another by " (2)" (:func:`draft_map_from_dataset`)."""
    with read_session(engine) as session:
        touchpoints = crud.list_touchpoints(session=session, map_id=map_id)
    return [
        (t.activity_names[0], t.name)
        for t in touchpoints
        if len(t.activity_names) == 1 and t.activity_names[0] != t.name
    ]


def draft_map_from_dataset(dataset_id: int, name: str, *, engine: Engine | None = None) -> int:
    """Create a map from a dataset and link the dataset to it. Returns the new map's id.

    Stages: the dataset's stage values in their typical order (see
    :func:`analytics.dataset_profile.compute_stage_profile`), or one stage ``Journey`` when it has
    no stage column; activities that never carry a stage go to a last stage ``Other``.
    Touchpoints: one per activity (the ``MAX_DRAFT_TOUCHPOINTS`` most frequent), in the stage its
    events carry most often, ordered by typical position; each lists its activity name. The other
    activities stay unmatched.
    """
    source, schema = get_event_source(dataset_id, engine=engine)
    events = events_table(source)
    activities = compute_activity_profile(events, schema).head(MAX_DRAFT_TOUCHPOINTS)
    stages = compute_stage_profile(events, schema)["stage"].tolist()
    if not stages:
        stages = [DRAFT_SINGLE_STAGE]
        activities["stage"] = DRAFT_SINGLE_STAGE
    elif activities["stage"].isna().any():
        stages.append(DRAFT_OTHER_STAGE if DRAFT_OTHER_STAGE not in stages else f"{DRAFT_OTHER_STAGE} activities")
        activities["stage"] = activities["stage"].fillna(stages[-1])
    activities = activities.sort_values(["typical_position", "activity"], kind="stable")
    with write_session(engine) as session:
        dataset = crud.get_dataset(session=session, dataset_id=dataset_id)
        journey_map = crud.create_map(
            session=session,
            name=name,
            description=f"Drafted from the event log {dataset.name!r}: its stages and activities.",
        )
        assert journey_map.id is not None
        links: dict[str, int | None] = {}
        # Values that differ only in case or spaces at the ends, or agree in their first 200 characters,
        # are told apart by " (2)"…: a map's stages, and a stage's touchpoints, each have a name of their own.
        stage_names: set[str] = set()
        for s_pos, stage_name in enumerate(stages):
            shown = crud.unique_name(str(stage_name), stage_names)
            stage_names.add(crud.name_key(shown))
            stage = crud.create_stage(session=session, map_id=journey_map.id, name=shown, position=s_pos)
            members = activities[activities["stage"] == stage_name]
            touchpoint_names: set[str] = set()
            for t_pos, activity in enumerate(members["activity"]):
                shown = crud.unique_name(str(activity), touchpoint_names)
                touchpoint_names.add(crud.name_key(shown))
                touchpoint = crud.create_touchpoint(
                    session=session, stage=stage, name=shown, position=t_pos, activity_names=[activity]
                )
                links[activity] = touchpoint.id
        valid = set(session.exec(select(col(Touchpoint.id)).where(Touchpoint.map_id == journey_map.id)).all())
        _write_links(session, dataset, journey_map.id, links, valid)  # type: ignore[arg-type]
        return journey_map.id
