"""The refresh worker's lease table (`locks`) and two page counts in `fetch_log`.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "locks",
        sa.Column(
            "name", sa.String(64), primary_key=True, comment="what is locked, e.g. 'refresh'"
        ),
        sa.Column("holder", sa.String(200), nullable=False, comment="host:pid:token of the holder"),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "expires_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="end of the lease: renewed while the holder works, free for others after",
        ),
        sa.Column("detail", sa.Text, nullable=False, comment="what the holder is doing, for pages"),
    )
    # batch mode: on SQLite a plain ADD COLUMN (no table copy); elsewhere ordinary ALTERs
    with op.batch_alter_table("fetch_log") as batch:
        batch.add_column(
            sa.Column("pages_not_modified", sa.Integer, comment="304 answers to revalidation")
        )
        batch.add_column(
            sa.Column("pages_cached", sa.Integer, comment="pages served from the local cache")
        )


def downgrade() -> None:
    with op.batch_alter_table("fetch_log") as batch:
        batch.drop_column("pages_cached")
        batch.drop_column("pages_not_modified")
    op.drop_table("locks")
