"""delivery engine: target states, resend approvals, attempt bodies, key order

Revision ID: 0020
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0001"
branch_labels = ("delivery_engine",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "target_states",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_by", sa.String(length=80), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "resend_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_resend_requests_delivery_id", "resend_requests", ["delivery_id"]
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("business_key", sa.String(length=120), nullable=True)
        )
        batch_op.create_index(
            "ix_deliveries_key", ["target", "business_key", "created_at"]
        )
    op.execute(
        "UPDATE deliveries SET business_key = "
        "(SELECT business_key FROM events WHERE events.id = deliveries.event_id)"
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("response_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_column("response_text")
        batch_op.drop_column("request_text")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_key")
        batch_op.drop_column("business_key")
    op.drop_index("ix_resend_requests_delivery_id", table_name="resend_requests")
    op.drop_table("resend_requests")
    op.drop_table("target_states")
