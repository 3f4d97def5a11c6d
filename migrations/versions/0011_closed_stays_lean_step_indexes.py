"""stays are written when they end; no index a step writes for nothing; agencies by kind

A project's current stay is its status since `status_changed_at`; the stay row is written
once, complete, by the step that ends it. Open rows (left_at NULL) go, with the index that
found them. `ix_deadlines_project_id` repeated the leading column of `uq_deadlines_step`.
Every step writes these tables, and each index costs each write. A step that now waits for
an agency finds that agency's users through `ix_organizations_agencies`, not by reading
every organisation of the place.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 22:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

AGENCY = "kind = 'agency'"


def upgrade():
    op.execute("DELETE FROM stage_times WHERE left_at IS NULL")
    with op.batch_alter_table('stage_times', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_times_status_open')
        batch_op.alter_column('left_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column('working_days', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_project_id')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.create_index('ix_organizations_agencies', ['agency_kind', 'jurisdiction_code'],
                              unique=False, postgresql_where=sa.text(AGENCY),
                              sqlite_where=sa.text(AGENCY))


def downgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index('ix_organizations_agencies', postgresql_where=sa.text(AGENCY),
                            sqlite_where=sa.text(AGENCY))
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_deadlines_project_id', ['project_id'], unique=False)
    with op.batch_alter_table('stage_times', schema=None) as batch_op:
        batch_op.alter_column('working_days', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('left_at', existing_type=sa.DateTime(), nullable=True)
        batch_op.create_index('ix_stage_times_status_open', ['status', 'left_at'], unique=False)
    op.execute("INSERT INTO stage_times (project_id, status, entered_at) "
               "SELECT id, status, status_changed_at FROM projects")
