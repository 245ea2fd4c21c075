"""employees from HR systems

Revision ID: 0012
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0003"
branch_labels = ("employees",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "employees",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source_system", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=80), nullable=False),
        sa.Column("cpf", sa.String(length=11), nullable=False),
        sa.Column("registration_number", sa.String(length=30), nullable=False),
        sa.Column("employer_tax_id", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("admission_date", sa.Date(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.Column("termination_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_system", "external_id"),
    )
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_employees_cpf"), ["cpf"], unique=False)
        batch_op.create_index(
            "ix_employees_registration",
            ["employer_tax_id", "registration_number"],
            unique=False,
        )
        batch_op.create_index("ix_employees_sync", ["updated_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_index("ix_employees_sync")
        batch_op.drop_index("ix_employees_registration")
        batch_op.drop_index(batch_op.f("ix_employees_cpf"))
    op.drop_table("employees")
