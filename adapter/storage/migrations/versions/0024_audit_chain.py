"""audit chain: entries chained by hash, the chain head, the attempt-body archive

Entries written before this revision are chained here, in id order, with the
same hash as the writer's (``adapter.audit.chain``, which imports nothing of
Ponte's and keeps its version-1 serialisation for as long as entries exist).

Revision ID: 0024
Revises: 0001
Create Date: 2026-12-11
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

from adapter.audit.chain import GENESIS, HASHED, fields_hash

revision = "0024"
down_revision = "0001"
branch_labels = ("audit_chain",)
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_sha256", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("response_sha256", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(64), nullable=True))
    seq, last_hash = _chain_existing_entries()
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        for name in ("seq", "prev_hash", "hash"):
            batch_op.alter_column(name, nullable=False)
        batch_op.create_index(
            "ix_audit_entries_record", ["record_type", "record_id"], unique=False
        )
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": seq, "hash": last_hash}])
    op.create_table(
        "audit_attempt_bodies",
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_body", sa.LargeBinary(), nullable=True),
        sa.Column("request_size", sa.Integer(), nullable=True),
        sa.Column("request_sha256", sa.String(length=64), nullable=True),
        sa.Column("request_truncated", sa.Boolean(), nullable=False),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("response_size", sa.Integer(), nullable=True),
        sa.Column("response_sha256", sa.String(length=64), nullable=True),
        sa.Column("response_truncated", sa.Boolean(), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"]),
        sa.PrimaryKeyConstraint("attempt_id"),
    )
    with op.batch_alter_table("audit_attempt_bodies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_attempt_bodies_archived_at"),
            ["archived_at"],
            unique=False,
        )


def _chain_existing_entries() -> tuple[int, str]:
    """Give every existing entry its seq and hashes; return the last (seq, hash)."""
    entries = sa.table(
        "audit_entries",
        sa.column("id", sa.Integer()),
        *(
            sa.column(name, sa.DateTime(timezone=True) if name == "at" else None)
            for name in HASHED
            if name != "seq"
        ),
        sa.column("seq", sa.Integer()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    columns = [entries.c.id, *(entries.c[n] for n in HASHED if n != "seq")]
    update = (
        entries.update()
        .where(entries.c.id == sa.bindparam("entry_id"))
        .values(
            seq=sa.bindparam("new_seq"),
            prev_hash=sa.bindparam("new_prev"),
            hash=sa.bindparam("new_hash"),
        )
    )
    connection = op.get_bind()
    seq, prev_hash, after = 0, GENESIS, 0
    while True:
        rows = connection.execute(
            sa.select(*columns)
            .where(entries.c.id > after)
            .order_by(entries.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return seq, prev_hash
        changes = []
        for row in rows:
            seq += 1
            at = row[1] if row[1].tzinfo else row[1].replace(tzinfo=dt.UTC)
            digest = fields_hash((seq, at, *row[2:]), prev_hash)
            changes.append(
                {
                    "entry_id": row[0],
                    "new_seq": seq,
                    "new_prev": prev_hash,
                    "new_hash": digest,
                }
            )
            prev_hash = digest
        connection.execute(update, changes)
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("audit_attempt_bodies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_attempt_bodies_archived_at"))
    op.drop_table("audit_attempt_bodies")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_record")
        for name in ("hash", "prev_hash", "seq", "response_sha256", "request_sha256"):
            batch_op.drop_column(name)
