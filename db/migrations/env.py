"""Alembic environment: runs on the connection JourneyLens hands it (db.engine.upgrade)."""

from alembic import context
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table on SQLModel.metadata)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    from db.engine import create_db_engine, database_url

    connection = create_db_engine(context.config.get_main_option("sqlalchemy.url") or database_url()).connect()

# SQLite cannot ALTER most things in place: batch mode recreates tables, keeping the data.
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
