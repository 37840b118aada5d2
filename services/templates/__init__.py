"""Journey map templates from the practice JourneyLens serves (PRODUCT.md, "Templates").

A template is a map document (the format of ``services.map_io``) kept beside this module as
``<key>.json``: the document's map name and description are the template's, ``map.template_key`` is
its key, and its stages (goals, outcomes, revisit flag) and touchpoints (channel, owner team, who is
Responsible, the activity names that link them to an event log) are what a new map starts with.
Fields left out take the document's defaults. A ``template`` block holds what is not part of a map:
the lanes the template adds to thinking, doing and feeling (always shown), and its suggested
committee roles.

``services.maps.create_map_from_template`` writes a template through the map document's one writer,
``map_io.import_map_document``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import UnknownNameError
from core.journey_map import DEFAULT_LANES

FOLDER = Path(__file__).resolve().parent
# Display order (the Maps page's "Start from" list and ``python cli.py templates``).
TEMPLATE_KEYS = (
    "b2b-5-stage",
    "lifecycle-7-stage",
    "b2b-4-stage",
    "b2b-6-stage",
    "comparison-5-stage",
    "buying-committee",
    "professional-services",
    "non-linear",
    "ownership",
)


@dataclass(frozen=True)
class Template:
    """A template's name and lanes, and the map document a new map is written from."""

    key: str
    name: str
    description: str
    document: Mapping[str, Any]
    lanes: tuple[str, ...] = DEFAULT_LANES
    committee_roles: tuple[str, ...] = ()

    @property
    def stages(self) -> list[Mapping[str, Any]]:
        """The document's stages, each with its ``touchpoints``."""
        return list(self.document.get("stages", []))


def load_template(key: str) -> Template:
    """Read ``<key>.json``; its ``map.template_key`` must be ``key``."""
    document = json.loads((FOLDER / f"{key}.json").read_text(encoding="utf-8"))
    extra = document.get("template", {})
    if document["map"].get("template_key") != key:
        raise ValueError(f"{key}.json: map.template_key is {document['map'].get('template_key')!r}, not {key!r}")
    return Template(
        key=key,
        name=document["map"]["name"],
        description=document["map"].get("description", ""),
        document=document,
        lanes=tuple(extra.get("lanes", DEFAULT_LANES)),
        committee_roles=tuple(extra.get("committee_roles", ())),
    )


TEMPLATES: dict[str, Template] = {key: load_template(key) for key in TEMPLATE_KEYS}


def list_templates() -> list[Template]:
    return list(TEMPLATES.values())


def get_template(key: str) -> Template:
    """The template ``key``; an unknown key is refused with the nearest real one."""
    if key not in TEMPLATES:
        # The one nearest-name rule (imported here: it loads the query engine, and only a refusal needs it).
        from core.errors import close_names

        nearest = close_names(key, list(TEMPLATES))  # all are listed
        known = ", ".join(TEMPLATES)
        raise UnknownNameError("template", key, nearest, message=f"unknown template {key!r}; known templates: {known}")
    return TEMPLATES[key]
