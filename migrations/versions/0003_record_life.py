"""the life of a record: one approved and one open registration per person, changes, forwards

Revision ID: 0003_record_life
Revises: 0002_hardening

Adds ``registration.kind`` (INITIAL, CHANGE) and ``registration.amends_id``,
``registration_event.previous_department_code`` (forwards), the
``work_unit_section.is_first_employer`` answer, and the partial unique index that allows at most
one APPROVED registration per person. Before the index is created, people who already hold
several APPROVED registrations keep the newest one (latest decision, then latest creation);
the older ones become SUPERSEDED.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_record_life"
down_revision: str | None = "0002_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPROVED_ONLY = "status = 'APPROVED'"

# every APPROVED registration but the newest of its person becomes SUPERSEDED
RESOLVE_DUPLICATES = """
UPDATE registration SET status = 'SUPERSEDED'
WHERE status = 'APPROVED' AND EXISTS (
    SELECT 1 FROM registration AS newer
    WHERE newer.person_id = registration.person_id
      AND newer.status = 'APPROVED'
      AND newer.id <> registration.id
      AND (
        COALESCE(newer.decided_at, newer.created_at)
            > COALESCE(registration.decided_at, registration.created_at)
        OR (
          COALESCE(newer.decided_at, newer.created_at)
              = COALESCE(registration.decided_at, registration.created_at)
          AND (newer.created_at > registration.created_at
               OR (newer.created_at = registration.created_at AND newer.id > registration.id))
        )
      )
)
"""


def upgrade() -> None:
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("INITIAL", "CHANGE", name="registrationkind", native_enum=False, length=32),
                server_default="INITIAL",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("amends_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_registration_amends_id_registration", "registration", ["amends_id"], ["id"]
        )
    with op.batch_alter_table("work_unit_section", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_first_employer", sa.Boolean(), nullable=True))
    with op.batch_alter_table("registration_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "previous_department_code",
                sqlmodel.sql.sqltypes.AutoString(length=6),
                nullable=True,
            )
        )
    op.execute(RESOLVE_DUPLICATES)
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.create_index(
            "uq_registration_approved_per_person",
            ["person_id"],
            unique=True,
            sqlite_where=sa.text(APPROVED_ONLY),
            postgresql_where=sa.text(APPROVED_ONLY),
        )


def downgrade() -> None:
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_registration_approved_per_person",
            sqlite_where=sa.text(APPROVED_ONLY),
            postgresql_where=sa.text(APPROVED_ONLY),
        )
    with op.batch_alter_table("registration_event", schema=None) as batch_op:
        batch_op.drop_column("previous_department_code")
    with op.batch_alter_table("work_unit_section", schema=None) as batch_op:
        batch_op.drop_column("is_first_employer")
    # the earlier schema knows no SUPERSEDED record and no change requests' links
    op.execute("UPDATE registration SET status = 'WITHDRAWN' WHERE status = 'SUPERSEDED'")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_constraint("fk_registration_amends_id_registration", type_="foreignkey")
        batch_op.drop_column("amends_id")
        batch_op.drop_column("kind")
