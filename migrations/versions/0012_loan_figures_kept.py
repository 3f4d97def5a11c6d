"""a loan keeps every figure its step worked out: relending share and rate, subsidy points
and months beside the principal and subsidy it already kept

The page, the loan book and the API read them there instead of working them out again from
the parameters, so a parameter entered later with an earlier date cannot make the project
page and the dashboard (which sums the kept figures) disagree. Loans recorded before this
revision keep their amounts; their rates show as not recorded.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

FRACTIONS = ('relending_share_ppm', 'relending_rate_ppm', 'subsidy_points_ppm')


def upgrade():
    with op.batch_alter_table('loans', schema=None) as batch_op:
        for name in FRACTIONS:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('subsidy_months', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_column('subsidy_months')
        for name in reversed(FRACTIONS):
            batch_op.drop_column(name)
