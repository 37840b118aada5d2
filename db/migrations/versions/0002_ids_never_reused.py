"""ids of deleted maps and datasets are never reused (AUTOINCREMENT)

SQLite gives a new row the highest id in use plus one, so deleting the newest map and creating
another handed the new map the deleted one's id: a save still aimed at the deleted map (a page
opened before the delete) could land on the new map. With AUTOINCREMENT SQLite remembers the
highest id ever given (``sqlite_sequence``). SQLite cannot add it to an existing table, so both
tables are recreated with their rows, ids and indexes (``db.engine.upgrade`` runs migrations with
foreign keys off and checks them before committing).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("journey_map", "dataset")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
