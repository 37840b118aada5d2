"""Test helpers: small event logs in the stored layout, as Ibis tables or as datasets on disk.

Independent of the importer on purpose: ``to_stored_layout`` + ``write_parquet`` + a ``Dataset`` row
is exactly what an import leaves behind, so analytics, services, pages and browser tests can run on
hand-made logs.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from analytics.engine import execute, memtable
from analytics.layout import to_stored_layout, write_parquet
from analytics.schema import STORED_COLUMN, ColumnMapping, EventSchema, Role, segment_column

BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)


def log_frame(
    rows: Iterable[Sequence[object]], columns: Sequence[str] = ("journey_id", "timestamp", "activity")
) -> pd.DataFrame:
    """A canonical event frame from rows. A numeric ``timestamp`` means days after ``BASE_TIME``."""
    frame = pd.DataFrame([list(r) for r in rows], columns=list(columns))
    if (
        "timestamp" in frame
        and len(frame)
        and not isinstance(frame["timestamp"].iloc[0], datetime | str | pd.Timestamp)
    ):
        frame["timestamp"] = [BASE_TIME + timedelta(days=float(d)) for d in frame["timestamp"]]
    return frame


def schema_of(frame: pd.DataFrame, segments: Sequence[str] = ()) -> EventSchema:
    """The schema whose roles are the canonical columns present in ``frame``."""
    by_column = {column: role for role, column in STORED_COLUMN.items()}
    roles = {by_column[c] for c in frame.columns if c in by_column}
    return EventSchema(roles=frozenset(roles | {Role.JOURNEY, Role.TIMESTAMP, Role.ACTIVITY}), segments=tuple(segments))


def stored(frame: pd.DataFrame, segments: Sequence[str] = ()) -> tuple[pd.DataFrame, EventSchema]:
    """(stored-layout frame, schema) for a canonical frame; ``segments`` are source names of
    ``segment:<name>`` columns already in ``frame``."""
    schema = schema_of(frame, segments)
    missing = [segment_column(s) for s in segments if segment_column(s) not in frame]
    if missing:
        raise KeyError(f"segment columns missing from the frame: {missing}")
    return to_stored_layout(frame, schema), schema


def events_of(frame: pd.DataFrame, segments: Sequence[str] = ()):  # noqa: ANN201 - an Ibis table
    """(Ibis table of the stored layout, schema) for a canonical frame."""
    layout, schema = stored(frame, segments)
    return memtable(layout), schema


def create_dataset(
    frame: pd.DataFrame,
    *,
    name: str = "Test log",
    segments: Sequence[str] = (),
    map_id: int | None = None,
    is_demo: bool = False,
    engine: Engine | None = None,
) -> int:
    """Store ``frame`` as a dataset in the current data directory (Parquet + ``Dataset`` row). Returns its id."""
    layout, schema = stored(frame, segments)
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(layout, index=False).values.tobytes() + name.encode()
    ).hexdigest()
    return save_dataset(
        layout,
        schema,
        name=name,
        content_hash=digest,
        engine=engine,
        source_name=f"{name}.csv",
        column_mapping={r.value: STORED_COLUMN[r] for r in schema.roles},
        map_id=map_id,
        is_demo=is_demo,
    )


def save_dataset(
    layout: pd.DataFrame, schema: EventSchema, *, name: str, content_hash: str, engine: Engine | None = None, **fields
) -> int:
    """Write a stored-layout frame as ``datasets/<id>/events.parquet`` with its ``Dataset`` row (the
    counts and time span taken from ``layout``; ``fields`` are further columns). Returns its id."""
    from db.engine import data_dir, write_session
    from db.models import Dataset

    with write_session(engine) as session:
        dataset = Dataset(
            name=name,
            content_hash=content_hash,
            import_options={"schema": schema.to_dict()},
            events=len(layout),
            journeys=int(layout["journey_id"].nunique()),
            accounts=int(layout["account_id"].nunique()),
            activities=int(layout["activity"].nunique()),
            first_timestamp=layout["timestamp"].min().to_pydatetime(),
            last_timestamp=layout["timestamp"].max().to_pydatetime(),
            **fields,
        )
        session.add(dataset)
        session.flush()
        dataset_id = int(dataset.id or 0)
        relative = f"datasets/{dataset_id}/events.parquet"
        path = data_dir() / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        write_parquet(layout, str(path))
        dataset.storage_path = relative
        session.add(dataset)
    return dataset_id


def b2b_log(journeys: int = 60, seed: int = 7) -> pd.DataFrame:
    """A small seeded B2B log: accounts with contacts, stages with loops, channels, outcomes, a segment.

    Stages Awareness → Consideration → Decision → Onboarding; some journeys loop back, some drop off.
    """
    import random

    rng = random.Random(seed)
    stages = {
        "Awareness": ["Blog post", "Webinar", "Online ad"],
        "Consideration": ["Case study", "Demo", "Pricing page"],
        "Decision": ["Proposal", "Contract signed"],
        "Onboarding": ["Kickoff call", "Training"],
    }
    order = list(stages)
    rows = []
    for j in range(journeys):
        account = f"ACC-{j // 3:03d}"
        region = "EMEA" if j % 2 else "NA"
        t = float(j % 30)
        stage_i = 0
        journey_rows = []
        for _ in range(rng.randint(2, 9)):
            stage = order[stage_i]
            activity = rng.choice(stages[stage])
            channel = rng.choice(["web", "email", "sales"])
            role = rng.choice(["champion", "decision maker", "user/practitioner"])
            journey_rows.append([f"C{j:03d}", account, t, activity, channel, stage, role, region])
            t += rng.choice([0.0, 0.5, 1.0, 3.0, 7.0])
            move = rng.random()
            if move < 0.55 and stage_i < len(order) - 1:
                stage_i += 1
            elif move < 0.7 and stage_i > 0:
                stage_i -= 1
        reached_decision = any(r[5] in ("Decision", "Onboarding") for r in journey_rows)
        outcome = "won" if reached_decision and rng.random() < 0.7 else rng.choice(["lost", "open"])
        rows += [(*r, outcome) for r in journey_rows]
    frame = log_frame(
        rows,
        ("journey_id", "account_id", "timestamp", "activity", "channel", "stage", "role", "segment:region", "outcome"),
    )
    return frame


# b2b_log as the CSV an analyst would upload (its segment a plain "region" column), and the mapping
# that reads it: for tests that go through the importer rather than ``create_dataset``.
B2B_MAPPING = ColumnMapping.of(
    segments=["region"],
    journey="journey_id",
    account="account_id",
    **{role: role for role in ("timestamp", "activity", "channel", "stage", "role", "outcome")},  # named as their roles
)


def b2b_csv(frame: pd.DataFrame) -> bytes:
    """A b2b_log frame (perhaps altered) as CSV bytes that :data:`B2B_MAPPING` reads."""
    out = frame.rename(columns={"segment:region": "region"}).copy()
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out.to_csv(index=False).encode("utf-8")


def database_at(path: Path, revision: str) -> Engine:
    """An engine on a new SQLite file at ``path`` migrated only up to ``revision`` (an older schema)."""
    from alembic import command
    from alembic.config import Config

    import db.engine as db_engine

    eng = db_engine.create_db_engine(f"sqlite:///{path}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(db_engine.__file__).parent / "migrations"))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return eng


def staged_frame(journeys: dict[str, list[tuple[float, str, str | None]]]) -> pd.DataFrame:
    """``log_frame`` of journeys given as ``{journey_id: [(day, activity, stage), ...]}``, in that order."""
    rows = [(journey, *event) for journey, events in journeys.items() for event in events]
    return log_frame(rows, ("journey_id", "timestamp", "activity", "stage"))


def result_tables(result: object) -> dict[str, pd.DataFrame]:
    """The tables of an analysis result, to compare two runs of it: a frame, a list (with each value's
    position), an Ibis table (run), or a result object holding frames (by field name)."""
    if isinstance(result, pd.DataFrame):
        return {"": result}
    if isinstance(result, list):
        return {"": pd.DataFrame({"value": result, "position": range(len(result))})}
    if hasattr(result, "execute") and hasattr(result, "schema"):
        return {"": execute(result)}
    if dataclasses.is_dataclass(result):
        return {
            f.name: getattr(result, f.name)
            for f in dataclasses.fields(result)
            if isinstance(getattr(result, f.name), pd.DataFrame)
        }
    raise TypeError(f"cannot compare a {type(result).__name__}")
