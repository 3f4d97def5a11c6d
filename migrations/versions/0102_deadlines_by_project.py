"""deadlines by project: a plain index on deadlines.project_id (the unique indexes that lead
with it became partial in 0100, so a step's lookup of its project's rows scanned the table)

Revision ID: 0102
Revises: 0101
Create Date: 2026-12-02 12:05:00.000000

"""
from alembic import op


revision = '0102'
down_revision = '0101'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_deadlines_project_id', 'deadlines', ['project_id'])


def downgrade():
    op.drop_index('ix_deadlines_project_id', table_name='deadlines')
