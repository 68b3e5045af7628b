"""Baseline: the schema as released at commit 44ede93.

Written out in full, never imported from `store.py`: a migration describes one step of the
schema's history and must not change when today's tables do.

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "places",
        sa.Column(
            "place_id",
            sa.String(64),
            primary_key=True,
            comment="geonames:<id> for a city, country:<ISO3>, region:<slug>",
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country_iso3", sa.String(3), nullable=False),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column(
            "population", sa.BigInteger, comment="GeoNames population (no census year given)"
        ),
        sa.Column("geonames_id", sa.Integer),
        sa.CheckConstraint("kind in ('city', 'country', 'region')", name="place_kind"),
    )
    op.create_table(
        "provenance",
        sa.Column("provenance_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("prov_key", sa.String(40), nullable=False, unique=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_url", sa.Text, nullable=False),
        sa.Column("citation", sa.Text, nullable=False),
        sa.Column(
            "quote",
            sa.Text,
            nullable=False,
            comment="verbatim sentence a reported figure was read from",
        ),
        sa.Column("licence", sa.String(200), nullable=False),
    )
    op.create_table(
        "series",
        sa.Column("series_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("series_key", sa.String(40), nullable=False, unique=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("qualifier", sa.String(200), nullable=False),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("place_id", sa.String(64), sa.ForeignKey("places.place_id"), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("estimate", sa.String(16), nullable=False),
        sa.Column("place_raw", sa.String(200), nullable=False),
        sa.Column("admin1", sa.String(200), nullable=False),
        sa.Column("admin2", sa.String(200), nullable=False),
        sa.Column("pcode", sa.String(64), nullable=False),
        sa.Column("match_method", sa.String(16), nullable=False),
        sa.Column("match_score", sa.Float),
        sa.CheckConstraint("estimate in ('best', 'low', 'high', 'reported')", name="estimate_kind"),
    )
    op.create_index("ix_series_place_metric", "series", ["place_id", "metric"])
    op.create_table(
        "fetch_log",
        sa.Column("fetch_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column(
            "target", sa.Text, nullable=False, comment="file, URL (without secrets) or query"
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_in", sa.Integer),
        sa.Column("rows_new", sa.Integer),
        sa.Column("rows_revised", sa.Integer),
        sa.Column("rows_unchanged", sa.Integer),
        sa.Column("rows_rejected", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("pages", sa.Integer, comment="responses fetched (live feeds)"),
        sa.Column("requests", sa.Integer, comment="HTTP requests sent, retries included"),
    )
    op.create_table(
        "observations",
        sa.Column("series_id", sa.Integer, sa.ForeignKey("series.series_id"), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column("period_end", sa.Date, primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "provenance_id",
            sa.Integer,
            sa.ForeignKey("provenance.provenance_id"),
            nullable=False,
        ),
        sa.Column("fetch_id", sa.Integer, sa.ForeignKey("fetch_log.fetch_id"), nullable=False),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
        sa.CheckConstraint("revision >= 1", name="revision_positive"),
        # clustered by the natural key on SQLite: one series over time lies together on disk
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rejects",
        sa.Column("reject_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "reject_key",
            sa.String(40),
            nullable=False,
            unique=True,
            comment="hash of source, row and reason: the same refusal is recorded once",
        ),
        sa.Column("fetch_id", sa.Integer, sa.ForeignKey("fetch_log.fetch_id"), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("row_ref", sa.String(300), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False, comment="the rejected input as JSON"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("meta", "rejects", "observations", "fetch_log", "series", "provenance"):
        op.drop_table(table)
    op.drop_table("places")
