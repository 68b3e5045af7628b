"""Alembic's environment: runs the revisions in versions/ on the connection it is given.

`data_sources.store.migrations.upgrade` passes an open connection (already holding the migration
lock, inside its transaction) in `config.attributes["connection"]`; nothing else is read. The
`alembic` command line also works (`alembic -x url=sqlite:///data/x.sqlite ...` with a
`script_location` pointing here), though the store never needs it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from data_sources.store.engine import database_url
from data_sources.store.tables import metadata

config = context.config


def _configure(connection) -> None:
    # target_metadata only serves `alembic revision --autogenerate`: revisions never import it
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
url = context.get_x_argument(as_dictionary=True).get("url") or database_url()
if connection is not None:
    _configure(connection)
elif context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        _configure(conn)
    engine.dispose()
