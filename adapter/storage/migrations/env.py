"""Alembic environment: runs on the connection that ``db.migrate`` hands over."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import create_engine

from adapter.storage.models import Base, UtcDateTime

config = context.config


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write UtcDateTime as the plain type, so migrations do not import models."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


connection = config.attributes.get("connection")

if connection is None:  # the alembic command line, for new revisions
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        context.configure(
            connection=conn,
            target_metadata=Base.metadata,
            render_as_batch=True,
            render_item=render_item,
        )
        context.run_migrations()
else:
    context.configure(
        connection=connection, target_metadata=Base.metadata, render_as_batch=True
    )
    context.run_migrations()
