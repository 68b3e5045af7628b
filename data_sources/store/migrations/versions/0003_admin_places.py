"""Districts and governorates as places of their own; event rows added up in `fetch_log`.

`places` gains `pcode`, `parent_id` and `seat_id`, and its kinds `district` (admin 2) and
`governorate` (admin 1); `fetch_log` gains `rows_added_up` (event rows summed into a figure
with other events, so that rows in = new + revised + unchanged + rejected + added up).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_KINDS = "kind in ('city', 'country', 'region')"
NEW_KINDS = "kind in ('city', 'district', 'governorate', 'country', 'region')"


def upgrade() -> None:
    # SQLite cannot change a check constraint in place: batch mode copies the table (foreign
    # keys are off during migrations, see migrations/__init__.py); PostgreSQL ALTERs it
    with op.batch_alter_table("places", recreate="auto") as batch:
        batch.add_column(
            sa.Column("pcode", sa.String(64), comment="p-code of a district or governorate")
        )
        batch.add_column(
            sa.Column(
                "parent_id", sa.String(64), comment="the governorate or country containing it"
            )
        )
        batch.add_column(
            sa.Column("seat_id", sa.String(64), comment="its seat city's place_id, when known")
        )
        batch.drop_constraint("place_kind", type_="check")
        batch.create_check_constraint("place_kind", sa.text(NEW_KINDS))
        batch.alter_column(
            "place_id",
            existing_type=sa.String(64),
            existing_nullable=False,
            comment="geonames:<id> for a city, adm2:<ISO3>:<p-code or name> for a district, "
            "adm1:<ISO3>:<p-code or name> for a governorate, country:<ISO3>, region:<slug>",
        )
    with op.batch_alter_table("fetch_log") as batch:
        batch.add_column(
            sa.Column(
                "rows_added_up",
                sa.Integer,
                comment="event rows summed into a figure with other events (aggregate.py)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("fetch_log") as batch:
        batch.drop_column("rows_added_up")
    op.execute("DELETE FROM places WHERE kind IN ('district', 'governorate')")
    with op.batch_alter_table("places", recreate="auto") as batch:
        batch.drop_constraint("place_kind", type_="check")
        batch.create_check_constraint("place_kind", sa.text(OLD_KINDS))
        batch.drop_column("seat_id")
        batch.drop_column("parent_id")
        batch.drop_column("pcode")
        batch.alter_column(
            "place_id",
            existing_type=sa.String(64),
            existing_nullable=False,
            comment="geonames:<id> for a city, country:<ISO3>, region:<slug>",
        )
