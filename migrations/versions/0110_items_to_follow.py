"""items to follow (容缺受理): the documents a declaration was accepted without, owed by the
enterprise under its written commitment by a working day

Revision ID: 0110_items_to_follow
Revises: 0102
Create Date: 2026-12-02 11:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0110_items_to_follow'
down_revision = '0102'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('items_to_follow', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('items_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('items_commitment', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_projects_items_due', ['items_due_on'], unique=False,
                              sqlite_where=sa.text('items_to_follow IS NOT NULL'),
                              postgresql_where=sa.text('items_to_follow IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_items_due')
        batch_op.drop_column('items_commitment')
        batch_op.drop_column('items_due_on')
        batch_op.drop_column('items_to_follow')
