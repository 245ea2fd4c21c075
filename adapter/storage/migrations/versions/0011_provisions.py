"""provisions: deleted provisions, their movements, and keyset paging

Revision ID: 0011
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0003"
branch_labels = ("provisions",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deleted_provisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source_system", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=80), nullable=False),
        sa.Column("lawsuit_id", sa.String(length=36), nullable=False),
        sa.Column("reporting_date", sa.Date(), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lawsuit_id"], ["lawsuits.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deleted_provisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deleted_provisions_key", ["source_system", "external_id"], unique=True
        )
        batch_op.create_index(
            "ix_deleted_provisions_sync", ["updated_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deleted_provisions_lawsuit_id"), ["lawsuit_id"], unique=False
        )

    op.create_table(
        "provision_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provision_id", sa.String(length=36), nullable=False),
        sa.Column("lawsuit_id", sa.String(length=36), nullable=False),
        sa.Column("reporting_date", sa.Date(), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("debit", sa.String(length=30), nullable=True),
        sa.Column("credit", sa.String(length=30), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(length=80), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["lawsuit_id"], ["lawsuits.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("provision_movements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provision_movements_lawsuit_id"),
            ["lawsuit_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_provision_movements_provision_id"),
            ["provision_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_provision_movements_unsent", ["sent_at", "id"], unique=False
        )

    with op.batch_alter_table("provisions", schema=None) as batch_op:
        batch_op.create_index("ix_provisions_sync", ["updated_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("provisions", schema=None) as batch_op:
        batch_op.drop_index("ix_provisions_sync")

    with op.batch_alter_table("provision_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_provision_movements_unsent")
        batch_op.drop_index(batch_op.f("ix_provision_movements_provision_id"))
        batch_op.drop_index(batch_op.f("ix_provision_movements_lawsuit_id"))
    op.drop_table("provision_movements")

    with op.batch_alter_table("deleted_provisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deleted_provisions_lawsuit_id"))
        batch_op.drop_index("ix_deleted_provisions_sync")
        batch_op.drop_index("ix_deleted_provisions_key")
    op.drop_table("deleted_provisions")
