"""Alembic revisions, one file a step of the schema's history (see ../README.md)."""
