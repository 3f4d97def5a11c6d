"""indexes for a project's bank claims, a bank's lead projects, open deadlines by role

At national size a project page looked up its bank claims, and a bank's home page its
lead projects, by scanning (only partial indexes covered `bank_claims.project_id`); the
national overdue counts read every open deadline row. The deadlines' role index becomes
a partial one over open deadlines only, with the level.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


OPEN = "met_at IS NULL"


def upgrade():
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_open_due')
        batch_op.create_index('ix_deadlines_open_role', ['role', 'level', 'due_on'],
                              unique=False, postgresql_where=sa.text(OPEN),
                              sqlite_where=sa.text(OPEN))
    with op.batch_alter_table('bank_claims', schema=None) as batch_op:
        batch_op.create_index('ix_bank_claims_project', ['project_id', 'bank_id'], unique=False)
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index('ix_projects_lead_bank', ['lead_bank_id', 'updated_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_lead_bank')
    with op.batch_alter_table('bank_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_claims_project')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_open_role', postgresql_where=sa.text(OPEN),
                            sqlite_where=sa.text(OPEN))
        batch_op.create_index('ix_deadlines_open_due', ['role', 'due_on'], unique=False)
