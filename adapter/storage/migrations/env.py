"""Alembic environment: runs on the connection that ``db.migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from adapter.storage.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # the alembic command line, for new revisions
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        context.configure(
            connection=conn, target_metadata=Base.metadata, render_as_batch=True
        )
        context.run_migrations()
else:
    context.configure(
        connection=connection, target_metadata=Base.metadata, render_as_batch=True
    )
    context.run_migrations()
