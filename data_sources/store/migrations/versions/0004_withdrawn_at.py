"""`observations.withdrawn_at`: when a complete re-read of a dataset no longer held a figure.

Revisions already carry their retrieval time, which is all an as-of view needs for added and
revised figures; a figure that disappears from its dataset needs the time it went, so that a
view as of an earlier moment still shows it and the change list can name it withdrawn.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: a plain ADD COLUMN on SQLite (no copy of the figures), on PostgreSQL too
    with op.batch_alter_table("observations") as batch:
        batch.add_column(
            sa.Column(
                "withdrawn_at",
                sa.DateTime(timezone=True),
                comment="when a complete re-read of the figure's dataset no longer held it",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("withdrawn_at")
