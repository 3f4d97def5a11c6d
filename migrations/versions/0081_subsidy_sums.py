"""subsidy sums: a project keeps the sums of its subsidy claims (claimed, approved, paid,
clawed back) and the statistics rollup sums them by place, year, status and industry

Revision ID: 0081
Revises: 0080
Create Date: 2026-12-02 08:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0081'
down_revision = '0080'
branch_labels = None
depends_on = None

SUMS = ('claimed', 'approved', 'paid', 'clawed_back')


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        for name in SUMS:
            batch_op.add_column(sa.Column(f'{name}_total_yuan', sa.BigInteger(),
                                          server_default='0', nullable=False))
    with op.batch_alter_table('stats_buckets', schema=None) as batch_op:
        for name in SUMS:
            batch_op.add_column(sa.Column(f'{name}_yuan', sa.BigInteger(), server_default='0',
                                          nullable=False))


def downgrade():
    with op.batch_alter_table('stats_buckets', schema=None) as batch_op:
        for name in reversed(SUMS):
            batch_op.drop_column(f'{name}_yuan')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        for name in reversed(SUMS):
            batch_op.drop_column(f'{name}_total_yuan')
