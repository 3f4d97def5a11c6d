"""subsidy claims: one row per claim of a fiscal support programme (贴息、奖补)

Revision ID: 0080
Revises: 0090
Create Date: 2026-12-02 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0080'
down_revision = '0090'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'subsidy_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.Uuid(), nullable=False),
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('workflow_key', sa.String(length=64), nullable=False),
        sa.Column('programme', sa.String(length=64), nullable=False),
        sa.Column('jurisdiction_code', sa.String(length=6), nullable=False),
        sa.Column('claimant_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=True),
        sa.Column('period_end', sa.Date(), nullable=True),
        sa.Column('status', sa.Enum('submitted', 'returned', 'approved', 'paid',
                                    name='subsidy_status', native_enum=False,
                                    create_constraint=True, length=32), nullable=False),
        sa.Column('claimed_yuan', sa.BigInteger(), nullable=False),
        sa.Column('approved_yuan', sa.BigInteger(), nullable=True),
        sa.Column('paid_yuan', sa.BigInteger(), nullable=True),
        sa.Column('paid_on', sa.Date(), nullable=True),
        sa.Column('voucher', sa.String(length=64), nullable=True),
        sa.Column('clawed_back_yuan', sa.BigInteger(), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('approvals', sa.JSON(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('claimed_by_id', sa.Integer(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('claimed_yuan >= 0', name=op.f('ck_subsidy_claims_claimed_not_negative')),
        sa.CheckConstraint('clawed_back_yuan >= 0',
                           name=op.f('ck_subsidy_claims_clawed_back_not_negative')),
        sa.ForeignKeyConstraint(['claimant_id'], ['organizations.id'],
                                name=op.f('fk_subsidy_claims_claimant_id_organizations')),
        sa.ForeignKeyConstraint(['claimed_by_id'], ['users.id'],
                                name=op.f('fk_subsidy_claims_claimed_by_id_users')),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_subsidy_claims_project_id_projects')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidy_claims')),
        sa.UniqueConstraint('number', name=op.f('uq_subsidy_claims_number')),
        sa.UniqueConstraint('public_id', name=op.f('uq_subsidy_claims_public_id')),
    )
    op.create_index('uq_subsidy_claims_period', 'subsidy_claims',
                    ['project_id', 'programme', 'period'], unique=True)
    op.create_index('ix_subsidy_claims_claimant', 'subsidy_claims', ['claimant_id', 'period'])
    op.create_index(op.f('ix_subsidy_claims_project_id'), 'subsidy_claims', ['project_id'])
    op.create_index(op.f('ix_subsidy_claims_jurisdiction_code'), 'subsidy_claims',
                    ['jurisdiction_code'])


def downgrade():
    op.drop_table('subsidy_claims')
