"""users bound to an X.509 certificate (partners that sign)

Revision ID: 0015
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0003"
branch_labels = ("signed_partners",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certificate_pem", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("certificate_sha256", sa.String(length=64), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_users_certificate_sha256"),
            ["certificate_sha256"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_certificate_sha256"))
        batch_op.drop_column("certificate_sha256")
        batch_op.drop_column("certificate_pem")
