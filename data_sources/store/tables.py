"""The store's tables (SQLAlchemy Core) and the keys that identify a series and a provenance."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


places = sa.Table(
    "places",
    metadata,
    sa.Column(
        "place_id",
        sa.String(64),
        primary_key=True,
        comment="geonames:<id> for a city, adm2:<ISO3>:<p-code or name> for a district, "
        "adm1:<ISO3>:<p-code or name> for a governorate, country:<ISO3>, region:<slug>",
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("country_iso3", sa.String(3), nullable=False, default=""),
    sa.Column("lat", sa.Float),
    sa.Column("lon", sa.Float),
    sa.Column("population", sa.BigInteger, comment="GeoNames population (no census year given)"),
    sa.Column("geonames_id", sa.Integer),
    # districts and governorates (0003): their p-code when the source gave one, the place that
    # contains them (a governorate, a country) and the city that is their seat, when known;
    # plain ids, no foreign keys: a parent is stored when a figure needs it, not before
    sa.Column("pcode", sa.String(64), comment="p-code of a district or governorate"),
    sa.Column("parent_id", sa.String(64), comment="the governorate or country containing it"),
    sa.Column("seat_id", sa.String(64), comment="its seat city's place_id, when known"),
    sa.CheckConstraint(
        "kind in ('city', 'district', 'governorate', 'country', 'region')", name="place_kind"
    ),
)


provenance = sa.Table(
    "provenance",
    metadata,
    sa.Column("provenance_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("prov_key", sa.String(40), nullable=False, unique=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_url", sa.Text, nullable=False, default=""),
    sa.Column("citation", sa.Text, nullable=False, default=""),
    sa.Column(
        "quote",
        sa.Text,
        nullable=False,
        default="",
        comment="verbatim sentence a reported figure was read from",
    ),
    sa.Column("licence", sa.String(200), nullable=False, default=""),
)


series = sa.Table(
    "series",
    metadata,
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
    sa.Column("place_raw", sa.String(200), nullable=False, default=""),
    sa.Column("admin1", sa.String(200), nullable=False, default=""),
    sa.Column("admin2", sa.String(200), nullable=False, default=""),
    sa.Column("pcode", sa.String(64), nullable=False, default=""),
    sa.Column("match_method", sa.String(16), nullable=False, default=""),
    sa.Column("match_score", sa.Float),
    sa.CheckConstraint("estimate in ('best', 'low', 'high', 'reported')", name="estimate_kind"),
)


sa.Index("ix_series_place_metric", series.c.place_id, series.c.metric)


fetch_log = sa.Table(
    "fetch_log",
    metadata,
    sa.Column("fetch_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("target", sa.Text, nullable=False, comment="file, URL (without secrets) or query"),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),  # running | ok | failed
    sa.Column("rows_in", sa.Integer, default=0),
    sa.Column("rows_new", sa.Integer, default=0),
    sa.Column("rows_revised", sa.Integer, default=0),
    sa.Column("rows_unchanged", sa.Integer, default=0),
    sa.Column("rows_rejected", sa.Integer, default=0),
    sa.Column("error", sa.Text, default=""),
    sa.Column("pages", sa.Integer, default=0, comment="responses fetched (live feeds)"),
    sa.Column("requests", sa.Integer, default=0, comment="HTTP requests sent, retries included"),
    sa.Column("pages_not_modified", sa.Integer, default=0, comment="304 answers to revalidation"),
    sa.Column("pages_cached", sa.Integer, default=0, comment="pages served from the local cache"),
    sa.Column(
        "rows_added_up",
        sa.Integer,
        default=0,
        comment="event rows summed into a figure with other events (aggregate.py)",
    ),
)


observations = sa.Table(
    "observations",
    metadata,
    sa.Column("series_id", sa.Integer, sa.ForeignKey("series.series_id"), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("period_end", sa.Date, primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("is_current", sa.Boolean, nullable=False),
    sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "provenance_id", sa.Integer, sa.ForeignKey("provenance.provenance_id"), nullable=False
    ),
    sa.Column("fetch_id", sa.Integer, sa.ForeignKey("fetch_log.fetch_id"), nullable=False),
    sa.Column(
        "withdrawn_at",
        sa.DateTime(timezone=True),
        comment="when a complete re-read of the figure's dataset no longer held it",
    ),
    sa.CheckConstraint("period_end >= period_start", name="period_order"),
    sa.CheckConstraint("revision >= 1", name="revision_positive"),
    # The natural key is the primary key, and on SQLite the table is clustered by it (no rowid):
    # one B-tree to maintain per insert, and one series' figures lie together on disk, which is
    # exactly how pages read them ("this series over time").
    sqlite_with_rowid=False,
)


rejects = sa.Table(
    "rejects",
    metadata,
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
    sa.Column("dataset", sa.String(200), nullable=False, default=""),
    sa.Column("row_ref", sa.String(300), nullable=False, default=""),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False, comment="the rejected input as JSON"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


locks = sa.Table(
    "locks",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True, comment="what is locked, e.g. 'refresh'"),
    sa.Column("holder", sa.String(200), nullable=False, comment="host:pid:token of the holder"),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "expires_at",
        sa.DateTime(timezone=True),
        nullable=False,
        comment="end of the lease: renewed while the holder works, free for others after",
    ),
    sa.Column(
        "detail", sa.Text, nullable=False, default="", comment="what the holder is doing, for pages"
    ),
)


api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True, comment="SHA-256 hex of the token"),
    sa.Column("owner", sa.String(320), nullable=False, comment="the signed-in address"),
    sa.Column("role", sa.String(20), nullable=False, comment="the owner's role when made"),
    sa.Column("label", sa.String(200), nullable=False, comment="what the owner named it"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True), comment="no longer accepted after"),
)


revoked_sessions = sa.Table(
    "revoked_sessions",
    metadata,
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


meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


SERIES_KEY = ["source", "dataset", "metric", "qualifier", "site", "place_id", "unit", "estimate"]


PROVENANCE_KEY = ["source", "source_url", "citation", "quote", "licence"]
