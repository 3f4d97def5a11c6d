"""forms a clerk can use: the declaration's contact person and phone, each equipment row's
model/specification (型号规格), and an import job's notes (cells kept as text)

Revision ID: 0060
Revises: 0040
Create Date: 2026-12-02 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0060'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects') as batch:
        batch.add_column(sa.Column('contact_name', sa.String(length=50), nullable=True))
        batch.add_column(sa.Column('contact_phone', sa.String(length=30), nullable=True))
    with op.batch_alter_table('equipment_items') as batch:
        batch.add_column(sa.Column('model', sa.String(length=200), nullable=True))
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('notes', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('notes')
    with op.batch_alter_table('equipment_items') as batch:
        batch.drop_column('model')
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('contact_phone')
        batch.drop_column('contact_name')
