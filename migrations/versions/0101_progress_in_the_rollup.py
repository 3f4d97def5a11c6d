"""progress in the rollup: the statistics buckets count filed, started and warned projects
and sum the investment completed, so the dashboard reads construction progress from them

Revision ID: 0101
Revises: 0100
Create Date: 2026-12-02 09:35:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0101'
down_revision = '0100'
branch_labels = None
depends_on = None

COUNTS = ('filed', 'started', 'warned')


def upgrade():
    with op.batch_alter_table('stats_buckets', schema=None) as batch_op:
        for name in COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('completed_yuan', sa.BigInteger(), server_default='0',
                                      nullable=False))
    # what the projects already hold, counted into their buckets (4: the rollup's shards)
    same = ("p.jurisdiction_code = stats_buckets.jurisdiction_code "
            "AND COALESCE(p.batch_year, 0) = stats_buckets.batch_year "
            "AND p.status = stats_buckets.status "
            "AND COALESCE(p.industry, '') = stats_buckets.industry "
            "AND p.id % 4 = stats_buckets.shard")
    op.execute(
        "UPDATE stats_buckets SET "
        f"filed = (SELECT COUNT(p.filed_at) FROM projects p WHERE {same}), "
        f"started = (SELECT COUNT(p.actual_start_on) FROM projects p WHERE {same}), "
        f"warned = (SELECT COUNT(p.stall_warned_at) FROM projects p WHERE {same}), "
        "completed_yuan = (SELECT COALESCE(SUM(p.investment_completed_yuan), 0) "
        f"FROM projects p WHERE {same})")


def downgrade():
    with op.batch_alter_table('stats_buckets', schema=None) as batch_op:
        batch_op.drop_column('completed_yuan')
        for name in reversed(COUNTS):
            batch_op.drop_column(name)
