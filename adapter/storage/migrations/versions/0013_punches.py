"""time-clock punches and AFD files

Revision ID: 0013
Revises: 0003
Create Date: 2026-12-04 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0003"
branch_labels = ("punches",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "afd_files",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("employer_tax_id", sa.String(length=14), nullable=False),
        sa.Column("layout", sa.String(length=4), nullable=False),
        sa.Column("layout_version", sa.String(length=3), nullable=True),
        sa.Column("rep_id", sa.String(length=17), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("local_zone", sa.String(length=64), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=80), nullable=False),
        sa.Column("accepted_count", sa.Integer(), nullable=False),
        sa.Column("refused_count", sa.Integer(), nullable=False),
        sa.Column("refused_lines", sa.Text(), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    with op.batch_alter_table("afd_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_afd_files_employer_tax_id"), ["employer_tax_id"]
        )

    op.create_table(
        "time_punches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("origin", sa.String(length=3), nullable=False),
        sa.Column("source_system", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=80), nullable=True),
        sa.Column("afd_file_id", sa.String(length=36), nullable=True),
        sa.Column("nsr", sa.Integer(), nullable=True),
        sa.Column("record_type", sa.Integer(), nullable=True),
        sa.Column("employee_cpf", sa.String(length=11), nullable=True),
        sa.Column("employee_pis", sa.String(length=11), nullable=True),
        sa.Column("punched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_time", sa.Boolean(), nullable=False),
        sa.Column("local_zone", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("collector", sa.String(length=40), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(origin = 'afd' AND afd_file_id IS NOT NULL AND nsr IS NOT NULL)"
            " OR (origin = 'api' AND external_id IS NOT NULL)",
            name="ck_time_punches_origin",
        ),
        sa.CheckConstraint(
            "employee_cpf IS NOT NULL OR employee_pis IS NOT NULL",
            name="ck_time_punches_employee",
        ),
        sa.ForeignKeyConstraint(["afd_file_id"], ["afd_files.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("afd_file_id", "nsr"),
        sa.UniqueConstraint("source_system", "external_id"),
    )
    with op.batch_alter_table("time_punches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_time_punches_cpf_time", ["employee_cpf", "punched_at", "id"]
        )
        batch_op.create_index(
            "ix_time_punches_pis_time", ["employee_pis", "punched_at", "id"]
        )
        batch_op.create_index(
            "ix_time_punches_file_time", ["afd_file_id", "punched_at", "id"]
        )
        batch_op.create_index(batch_op.f("ix_time_punches_created_at"), ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("time_punches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_time_punches_created_at"))
        batch_op.drop_index("ix_time_punches_file_time")
        batch_op.drop_index("ix_time_punches_pis_time")
        batch_op.drop_index("ix_time_punches_cpf_time")
    op.drop_table("time_punches")
    with op.batch_alter_table("afd_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_afd_files_employer_tax_id"))
    op.drop_table("afd_files")
