"""`api_tokens` and `revoked_sessions`: access to the routes beside the pages.

A personal API token is stored as its SHA-256 only (shown once when made), with its owner,
role and a revocation time. A signed-in browser session that signed out is remembered by the
SHA-256 of its sign-in cookie until the cookie would have expired, so a copy of the cookie kept
from before sign-out opens nothing, in any process sharing the store.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column(
            "token_hash", sa.String(64), primary_key=True, comment="SHA-256 hex of the token"
        ),
        sa.Column("owner", sa.String(320), nullable=False, comment="the signed-in address"),
        sa.Column("role", sa.String(20), nullable=False, comment="the owner's role when made"),
        sa.Column("label", sa.String(200), nullable=False, comment="what the owner named it"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True), comment="no longer accepted after"),
    )
    op.create_table(
        "revoked_sessions",
        sa.Column(
            "cookie_hash", sa.String(64), primary_key=True, comment="SHA-256 of the sign-in cookie"
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "expires_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when the cookie would have expired: the row can go after",
        ),
    )


def downgrade() -> None:
    op.drop_table("revoked_sessions")
    op.drop_table("api_tokens")
