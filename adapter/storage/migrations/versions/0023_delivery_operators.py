"""delivery operators: per-delivery controls, attempt triggers, resend actions

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_controls",
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("schedule_base", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=True),
        sa.Column("triggered_by", sa.String(length=80), nullable=True),
        sa.Column("resend_request_id", sa.String(length=36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"]),
        sa.PrimaryKeyConstraint("delivery_id"),
    )
    op.create_table(
        "attempt_triggers",
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("operator", sa.String(length=80), nullable=False),
        sa.Column("resend_request_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"]),
        sa.PrimaryKeyConstraint("attempt_id"),
    )
    with op.batch_alter_table("resend_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resend_requests", schema=None) as batch_op:
        batch_op.drop_column("action")
    op.drop_table("attempt_triggers")
    op.drop_table("delivery_controls")
