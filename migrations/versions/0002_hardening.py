"""hardening: refresh-token rotation with replay detection, per-address staff back-off,
single-clearing of upload pending keys, verified unit-directory names

Revision ID: 0002_hardening
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002_hardening"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rotated_refresh_token",
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("rotated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["auth_session.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("rotated_refresh_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rotated_refresh_token_session_id"), ["session_id"], unique=False
        )
    # the account-wide lock let anyone lock any reviewer out; back-off is now per address.
    # Plain ALTER TABLE (SQLite 3.35+ drops columns natively): recreating staff_account in
    # batch mode would trip the foreign keys of auth_session on SQLite.
    op.add_column(
        "staff_account",
        sa.Column("login_epoch", sa.Integer(), nullable=False, server_default="0"),
    )
    op.drop_column("staff_account", "failed_attempts")
    op.drop_column("staff_account", "locked_until")
    # the sweep deletes the pending key of every upload whose policy expired, once
    op.add_column(
        "upload",
        sa.Column("pending_cleared", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # names learned from approvals are unverified; imported ones are
    op.add_column(
        "unit_directory_entry",
        sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.execute(sa.text("UPDATE unit_directory_entry SET verified = false WHERE source <> 'IMPORT'"))
    op.add_column(
        "work_unit_section",
        sa.Column(
            "directory_unit_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
        ),
    )


def downgrade() -> None:
    op.drop_column("work_unit_section", "directory_unit_name")
    op.drop_column("unit_directory_entry", "verified")
    op.drop_column("upload", "pending_cleared")
    op.add_column(
        "staff_account",
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.add_column(
        "staff_account",
        sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.drop_column("staff_account", "login_epoch")
    with op.batch_alter_table("rotated_refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rotated_refresh_token_session_id"))
    op.drop_table("rotated_refresh_token")
