"""Roles are enforced by the services themselves, and every change leaves an audit trail."""

from __future__ import annotations

import json

import pytest

import cli
from analytics.conversion import Conversion
from analytics.schema import ColumnMapping
from core.errors import BadInputError
from db.access import AccessDeniedError, AccessRole, Actor, acting_as, role_for
from services import backup, conversion, datasets, demo, importer, linking, map_edits, map_view, personas, snapshots
from services import maps as map_service
from services.audit import audit_table
from tests.factories import b2b_log, create_dataset

VIEWER = Actor("val@example.com", AccessRole.VIEWER)
EDITOR = Actor("eddie@example.com", AccessRole.EDITOR)
ADMIN = Actor("ada@example.com", AccessRole.ADMIN)

ROLES = {"admin": ["ada@example.com"], "editor": ["example.com", "@partner.test"], "viewer": ["val@example.com"]}


@pytest.mark.parametrize(
    ("email", "roles", "expected"),
    [
        ("ada@example.com", ROLES, AccessRole.ADMIN),
        ("eddie@example.com", ROLES, AccessRole.EDITOR),  # by domain
        ("val@example.com", ROLES, AccessRole.VIEWER),  # an e-mail listed by itself wins over its domain
        ("pat@partner.test", ROLES, AccessRole.EDITOR),
        ("someone@else.test", ROLES, AccessRole.VIEWER),  # not listed: the default
        ("someone@else.test", {**ROLES, "default": "editor"}, AccessRole.EDITOR),
        ("eve@sub.example.com", ROLES, AccessRole.VIEWER),  # a sub-domain is another domain
        (None, ROLES, AccessRole.VIEWER),
        ("ADA@Example.com", ROLES, AccessRole.ADMIN),
    ],
)
def test_role_for(email, roles, expected):
    assert role_for(email, roles) is expected


def test_unknown_role_names_are_refused():
    # A user's (the workspace admin's) typing: the one root's BadInputError, not a ValueError a bug could raise.
    with pytest.raises(BadInputError, match="unknown roles"):
        role_for("a@b.c", {"admins": ["a@b.c"]})
    with pytest.raises(BadInputError, match="unknown roles"):
        role_for("a@b.c", {"default": "owner"})


@pytest.fixture
def world(engine):
    """A map with a stage and a touchpoint, a dataset linked to it, a snapshot and a persona."""
    map_id = map_service.create_map_from_template(template_key="b2b-4-stage", name="Shared map")
    dataset_id = create_dataset(b2b_log(journeys=20), name="Shared log", map_id=map_id)
    snapshot_id = snapshots.create_snapshot(map_id, "Before")
    persona_id = personas.create_persona("Champion")
    return {"map": map_id, "dataset": dataset_id, "snapshot": snapshot_id, "persona": persona_id}


def _version(map_id: int) -> int:
    return map_view.get_map_version(map_id)


# Each write service, with the least role allowed to call it.
WRITES = {
    "create a map": (AccessRole.EDITOR, lambda w: map_service.create_map_from_template(template_key=None, name="New")),
    "rename a map": (AccessRole.EDITOR, lambda w: map_service.rename_map(w["map"], "Renamed", expected_version=None)),
    "edit map details": (
        AccessRole.EDITOR,
        lambda w: map_edits.update_map_details(w["map"], owner="Kim", expected_version=_version(w["map"])),
    ),
    "add a stage": (
        AccessRole.EDITOR,
        lambda w: map_edits.add_stage(w["map"], "Renewal", expected_version=_version(w["map"])),
    ),
    "save links": (AccessRole.EDITOR, lambda w: linking.save_links(w["dataset"], w["map"], {})),
    "set a conversion definition": (
        AccessRole.EDITOR,
        lambda w: conversion.set_conversion(w["dataset"], Conversion(outcomes=("won",))),
    ),
    "create a snapshot": (AccessRole.EDITOR, lambda w: snapshots.create_snapshot(w["map"], "Later")),
    "create a persona": (AccessRole.EDITOR, lambda w: personas.create_persona("Buyer")),
    "delete a map": (AccessRole.ADMIN, lambda w: map_service.delete_map(w["map"])),
    "delete a dataset": (AccessRole.ADMIN, lambda w: datasets.delete_dataset(w["dataset"])),
    "delete a snapshot": (AccessRole.ADMIN, lambda w: snapshots.delete_snapshot(w["snapshot"])),
    "delete a persona": (AccessRole.ADMIN, lambda w: personas.delete_persona(w["persona"])),
    "restore a snapshot": (
        AccessRole.ADMIN,
        lambda w: snapshots.restore_snapshot(w["snapshot"], expected_version=_version(w["map"])),
    ),
    "reset the demo": (AccessRole.ADMIN, lambda w: demo.reset_demo()),
    "import a dataset": (
        AccessRole.EDITOR,
        lambda w: importer.import_event_log(
            b"case,when,step\nA,2025-01-01 10:00,Visit\nA,2025-01-02 10:00,Buy\n",
            name="Tiny",
            mapping=ColumnMapping.of(journey="case", timestamp="when", activity="step"),
        ),
    ),
    "restore a backup": (AccessRole.ADMIN, lambda w: backup.restore_backup("/nonexistent-backup")),
}


@pytest.mark.parametrize("name", sorted(WRITES))
@pytest.mark.parametrize("actor", [VIEWER, EDITOR, ADMIN], ids=lambda a: a.role.label)
def test_each_role_against_each_write_service(world, data_dir, actor, name):
    needed, call = WRITES[name]
    before = audit_table()
    if actor.role < needed:
        with acting_as(actor), pytest.raises(AccessDeniedError, match=actor.name) as info:
            call(world)
        assert actor.role < info.value.needed <= needed
        after = audit_table()
        assert len(after) == len(before)  # refused before anything was written
        assert (data_dir / "datasets" / str(world["dataset"]) / "events.parquet").exists()
        assert not list((data_dir / "datasets").glob(".import-*"))  # nothing half-written
        assert sorted(p.name for p in (data_dir / "datasets").iterdir()) == [str(world["dataset"])]
    else:
        with acting_as(actor):
            try:
                call(world)
            except AccessDeniedError:
                pytest.fail(f"{actor.role.label} was refused {name}")
            except Exception as exc:  # noqa: BLE001 - past the role check; e.g. the missing backup
                assert "backup" in name, exc


def test_without_sign_in_everyone_is_admin(world):
    map_service.delete_map(world["map"])  # nobody set: the local install, as before
    assert audit_table(world["map"])["who"].iloc[0] == "local"


def test_audit_trail_of_a_session_of_edits(world):
    m, d = world["map"], world["dataset"]
    with acting_as(EDITOR):
        map_service.rename_map(m, "Q3 journey", expected_version=None)
        map_edits.add_stage(m, "Renewal", expected_version=_version(m))
        conversion.set_conversion(d, Conversion(outcomes=("won",)), map_id=m)
        linking.save_links(d, m, {})
    with acting_as(ADMIN):
        snapshots.delete_snapshot(world["snapshot"])
    trail = audit_table(m)
    newest = trail.head(5)
    assert list(newest["who"]) == ["ada@example.com", *["eddie@example.com"] * 4]
    assert list(newest["object"]) == ["map", "link", "conversion", "map", "map"]
    assert "delete snapshot 'Before'" in newest["summary"].iloc[0]
    assert "create stage 'Renewal'" in newest["summary"].iloc[3]
    assert "update map 'Q3 journey'" in newest["summary"].iloc[4]
    # The map's creation and its dataset are on its trail too; times run backwards (newest first).
    assert {"create"} <= set(trail["action"])
    assert trail["when"].is_monotonic_decreasing


def test_cli_audit(world, capsys):
    with acting_as(EDITOR):
        map_service.rename_map(world["map"], "Renamed", expected_version=None)
    assert cli.main(["audit", "--map", str(world["map"]), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["who"] == "eddie@example.com" and rows[0]["summary"] == "update map 'Renamed'"
    assert all(r["map_id"] == world["map"] for r in rows)
    assert cli.main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "eddie@example.com\tedit\tmap" in out


def test_a_restore_is_recorded_as_a_restore(world):
    with acting_as(ADMIN):
        snapshots.restore_snapshot(world["snapshot"], expected_version=_version(world["map"]))
    latest = audit_table(world["map"]).iloc[0]
    assert (latest["who"], latest["action"], latest["object"]) == ("ada@example.com", "restore", "map")
    assert "Before restoring" in latest["summary"]


def test_audit_refuses_an_unknown_map_but_lists_a_deleted_ones_changes(world, capsys):
    from core.errors import BadInputError, UnknownNameError

    with pytest.raises(UnknownNameError, match=rf"There is no map 999; existing: '{world['map']} \(Shared map\)'"):
        audit_table(999)
    assert cli.main(["audit", "--map", "999"]) == 2
    assert capsys.readouterr().err == f"error: There is no map 999; existing: '{world['map']} (Shared map)'\n"
    map_service.delete_map(world["map"])
    assert "delete" in set(audit_table(world["map"])["action"])  # its history outlives it
    with pytest.raises(BadInputError, match="limit: -1 is not valid; expected a whole number of at least 1"):
        audit_table(limit=-1)
    with pytest.raises(SystemExit) as exited:  # refused by the parser
        cli.main(["audit", "--limit", "-1"])
    assert exited.value.code == 2
    assert "argument --limit: must be at least 1: '-1'" in capsys.readouterr().err
    assert cli.main(["audit", "--limit", "1", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
