"""access-control flags of people, one row per justifying lawsuit or contract

Revision ID: 0021
Revises: 0001
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0001"
branch_labels = ("access_flags",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_flags",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("party_id", sa.String(length=36), nullable=False),
        sa.Column("cpf", sa.String(length=11), nullable=True),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("justification", sa.String(length=20), nullable=False),
        sa.Column("justification_id", sa.String(length=36), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("announced_event_id", sa.String(length=36), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("ended_event_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["party_id"], ["parties.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("access_flags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_flags_party_id"), ["party_id"], unique=False
        )
        batch_op.create_index(
            "ix_access_flags_justification",
            ["justification", "justification_id"],
            unique=False,
        )
        batch_op.create_index("ix_access_flags_open", ["cpf", "ended_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_access_flags_open")
        batch_op.drop_index("ix_access_flags_justification")
        batch_op.drop_index(batch_op.f("ix_access_flags_party_id"))
    op.drop_table("access_flags")
