"""open progress rows: a partial index on the open monthly-report and problem rows, so that
the dashboard counts late reports and open problems (added with progress reporting) from
them alone — at 10⁶ projects each count read the whole open part of the deadline table
(about 30 ms each on the national dashboard)

Revision ID: 0112_open_progress_rows
Revises: 0111_place_statistics
Create Date: 2026-12-02 16:15:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0112_open_progress_rows'
down_revision = '0111_place_statistics'
branch_labels = None
depends_on = None

WHERE = "met_at IS NULL AND trigger IN ('report_progress', 'answer_problem')"


def upgrade():
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_deadlines_open_progress', ['trigger', 'province_code',
                              'city_code', 'jurisdiction_code', 'due_on'], unique=False,
                              postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))


def downgrade():
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_open_progress', postgresql_where=sa.text(WHERE),
                            sqlite_where=sa.text(WHERE))
