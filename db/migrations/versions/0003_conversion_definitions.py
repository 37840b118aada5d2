"""conversion defined once: one definition per dataset, and per map linked to it

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversion_definition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("map_id", sa.Integer(), nullable=True),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("within_days", sa.Float(), nullable=True),
        sa.Column("lost_goals", sa.JSON(), nullable=False),
        sa.Column("lost_outcomes", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["map_id"], ["journey_map.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conversion_definition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversion_definition_dataset_id"), ["dataset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversion_definition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversion_definition_dataset_id"))
    op.drop_table("conversion_definition")
