"""payment orders: details, withholdings, status changes, sync index

Revision ID: 0014
Revises: 0003
Create Date: 2026-12-04 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0003"
branch_labels = ("payment_orders",)
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_payment_orders_sync", "payment_orders", ["updated_at", "id"], unique=False
    )

    op.create_table(
        "payment_order_details",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("gross_amount", sa.Numeric(precision=17, scale=2), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("barcode", sa.String(length=44), nullable=True),
        sa.Column("digitable_line", sa.String(length=47), nullable=True),
        sa.Column("pix_key_type", sa.String(length=10), nullable=True),
        sa.Column("pix_key", sa.String(length=100), nullable=True),
        sa.Column("bank_code", sa.String(length=3), nullable=True),
        sa.Column("agency", sa.String(length=5), nullable=True),
        sa.Column("agency_digit", sa.String(length=1), nullable=True),
        sa.Column("account", sa.String(length=20), nullable=True),
        sa.Column("account_digit", sa.String(length=1), nullable=True),
        sa.Column("account_type", sa.String(length=20), nullable=True),
        sa.Column("holder_tax_id", sa.String(length=14), nullable=True),
        sa.Column("deposit_bank", sa.String(length=3), nullable=True),
        sa.Column("guide_number", sa.String(length=30), nullable=True),
        sa.Column("judicial_account", sa.String(length=30), nullable=True),
        sa.Column("deposit_cnj_number", sa.String(length=20), nullable=True),
        sa.Column("court_unit", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["payment_orders.id"]),
        sa.PrimaryKeyConstraint("order_id"),
    )

    op.create_table(
        "payment_order_withholdings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=2), nullable=False),
        sa.Column("description", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["payment_orders.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "position"),
    )
    with op.batch_alter_table("payment_order_withholdings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_order_withholdings_order_id"),
            ["order_id"],
            unique=False,
        )

    op.create_table(
        "payment_order_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=250), nullable=True),
        sa.Column("document_number", sa.String(length=100), nullable=True),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("receipt", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["payment_orders.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payment_order_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_order_changes_order_id"),
            ["order_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_order_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_order_changes_order_id"))
    op.drop_table("payment_order_changes")

    with op.batch_alter_table("payment_order_withholdings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_order_withholdings_order_id"))
    op.drop_table("payment_order_withholdings")

    op.drop_table("payment_order_details")

    op.drop_index("ix_payment_orders_sync", table_name="payment_orders")
