"""owed items for everyone: a deadline row may be owed by one organisation (an enterprise,
a bank) and have no time limit; reminders and escalations are marked on it

- deadlines: `org_id` (the owing organisation; none for an agency role), `sla_days` and
  `due_on` nullable (an enterprise's or a bank's step has no time limit), `reminded_at`,
  `escalated_at` and `escalated_to`; one row per step and owing organisation.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_constraint('uq_deadlines_step', type_='unique')
        batch_op.add_column(sa.Column('org_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('escalated_to', sa.String(length=6), nullable=True))
        batch_op.alter_column('sla_days', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('due_on', existing_type=sa.Date(), nullable=True)
        batch_op.create_foreign_key(op.f('fk_deadlines_org_id_organizations'), 'organizations',
                                    ['org_id'], ['id'])
    op.create_index('uq_deadlines_step', 'deadlines', ['project_id', 'role', 'level', 'trigger'],
                    unique=True, postgresql_where=sa.text('org_id IS NULL'),
                    sqlite_where=sa.text('org_id IS NULL'))
    op.create_index('uq_deadlines_org_step', 'deadlines',
                    ['project_id', 'role', 'level', 'trigger', 'org_id'], unique=True,
                    postgresql_where=sa.text('org_id IS NOT NULL'),
                    sqlite_where=sa.text('org_id IS NOT NULL'))
    op.create_index('ix_deadlines_escalated', 'deadlines', ['escalated_to', 'due_on'],
                    postgresql_where=sa.text('escalated_to IS NOT NULL AND met_at IS NULL'),
                    sqlite_where=sa.text('escalated_to IS NOT NULL AND met_at IS NULL'))
    op.create_index('ix_deadlines_open_org', 'deadlines', ['org_id'],
                    postgresql_where=sa.text('met_at IS NULL'),
                    sqlite_where=sa.text('met_at IS NULL'))


def downgrade():
    op.drop_index('ix_deadlines_open_org', table_name='deadlines')
    op.drop_index('ix_deadlines_escalated', table_name='deadlines')
    op.drop_index('uq_deadlines_org_step', table_name='deadlines')
    op.drop_index('uq_deadlines_step', table_name='deadlines')
    op.execute("DELETE FROM deadlines WHERE org_id IS NOT NULL OR due_on IS NULL")
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_deadlines_org_id_organizations'), type_='foreignkey')
        batch_op.alter_column('due_on', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('sla_days', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('escalated_to')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('org_id')
        batch_op.create_unique_constraint('uq_deadlines_step',
                                          ['project_id', 'role', 'level', 'trigger'])
