"""The maps the templates and the demo create, exported as map documents, are exactly the maps they
created before both were moved onto the map document's one writer (``services.map_io``).

The expectations in ``golden/`` were exported from the code before that change (templates: a map
per template named "From <key>", and an empty map; demo: ``seed_demo`` on 2026-11-24).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlmodel import col, select

from db.engine import read_session
from db.models import JourneyMap, MapPersona, Persona
from services import demo
from services import maps as map_service
from services.map_io import export_map_document
from services.templates import list_templates

GOLDEN = Path(__file__).parent / "golden"
TODAY = date(2026, 11, 24)


def _golden(name: str) -> dict:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def test_every_template_creates_the_same_map_as_before(engine):
    expected = _golden("template_maps.json")
    keys = [t.key for t in list_templates()]
    assert keys == [k for k in expected if k != "(empty)"]  # same templates, same order
    for key in keys:
        map_id = map_service.create_map_from_template(template_key=key, name=f"From {key}")
        assert export_map_document(map_id) == expected[key], key


def test_an_empty_map_has_the_fields_given_and_nothing_else(engine):
    map_id = map_service.create_map_from_template(
        template_key=None, name="Empty", description="d", owner="o", review_by=date(2027, 1, 2), state="future"
    )
    assert export_map_document(map_id) == _golden("template_maps.json")["(empty)"]


def test_the_demo_creates_the_same_maps_as_before(engine):
    expected = _golden("demo_maps.json")
    ids = demo.seed_demo(today=TODAY)
    documents = {doc["map"]["name"]: doc for doc in map(export_map_document, ids)}
    assert list(documents) == list(expected)
    for name, doc in documents.items():
        assert doc == expected[name], name
    with read_session() as session:
        assert all(m.is_demo for m in session.exec(select(JourneyMap)).all())
        linked = set(session.exec(select(MapPersona.persona_id)).all())
        demo_personas = session.exec(select(Persona).where(col(Persona.is_demo))).all()
        assert {p.id for p in demo_personas} == linked  # every demo persona is on a demo map
        assert len(demo_personas) == len(session.exec(select(Persona)).all())


def test_every_template_file_is_a_listed_valid_map_document():
    from services.map_io import parse_map_document
    from services.templates import FOLDER, TEMPLATE_KEYS, TEMPLATES

    assert sorted(p.stem for p in FOLDER.glob("*.json")) == sorted(TEMPLATE_KEYS)
    for key, template in TEMPLATES.items():
        parse_map_document(dict(template.document))  # raises BadInputError naming a bad field
        assert template.document["map"]["template_key"] == key


def test_demo_documents_are_valid_map_documents_dated_from_the_seeding_day():
    from services.map_io import parse_map_document

    documents = demo.demo_map_documents(TODAY)
    for doc in documents:
        parse_map_document(doc)
    dues = [a["due_date"] for a in documents[0]["actions"]]
    assert min(dues) < TODAY.isoformat() < max(dues)
    assert (
        documents[0]["map"]["review_by"] == _golden("demo_maps.json")[documents[0]["map"]["name"]]["map"]["review_by"]
    )
