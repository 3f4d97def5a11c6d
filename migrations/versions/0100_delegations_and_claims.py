"""acting for a colleague and claiming a step: delegations, the holder of an owed step, the
head-of-section flag, and whom an event was taken for

Revision ID: 0100
Revises: 0081
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0100'
down_revision = '0081'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'delegations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('deputy_id', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_delegations_organization_id_organizations')),
        sa.ForeignKeyConstraint(['officer_id'], ['users.id'],
                                name=op.f('fk_delegations_officer_id_users')),
        sa.ForeignKeyConstraint(['deputy_id'], ['users.id'],
                                name=op.f('fk_delegations_deputy_id_users')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_delegations_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delegations')),
    )
    op.create_index(op.f('ix_delegations_organization_id'), 'delegations', ['organization_id'])
    op.create_index(op.f('ix_delegations_officer_id'), 'delegations', ['officer_id'])
    op.create_index(op.f('ix_delegations_deputy_id'), 'delegations', ['deputy_id'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_head', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('held_since', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_deadlines_holder_id_users'), 'users',
                                    ['holder_id'], ['id'])
    with op.batch_alter_table('workflow_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_behalf_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_workflow_events_on_behalf_of_id_users'), 'users',
                                    ['on_behalf_of_id'], ['id'])


def downgrade():
    with op.batch_alter_table('workflow_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_workflow_events_on_behalf_of_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('on_behalf_of_id')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_deadlines_holder_id_users'), type_='foreignkey')
        batch_op.drop_column('held_since')
        batch_op.drop_column('holder_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_head')
    op.drop_index(op.f('ix_delegations_deputy_id'), table_name='delegations')
    op.drop_index(op.f('ix_delegations_officer_id'), table_name='delegations')
    op.drop_index(op.f('ix_delegations_organization_id'), table_name='delegations')
    op.drop_table('delegations')
