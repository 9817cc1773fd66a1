"""auth_session.previous_refresh_token_hash: a rotated-away refresh token presented again
revokes its session (refresh-token reuse)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "previous_refresh_token_hash",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=True,
            )
        )
        batch_op.create_index(
            batch_op.f("ix_auth_session_previous_refresh_token_hash"),
            ["previous_refresh_token_hash"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_session_previous_refresh_token_hash"))
        batch_op.drop_column("previous_refresh_token_hash")
