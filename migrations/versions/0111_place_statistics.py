"""place statistics: PostgreSQL learns that a project's (and an owed row's) province, city and
county codes depend on one another — without it, it multiplies their selectivities, expects
a city's open rows to be a few dozen where they are thousands, and joins each to its project
one by one (the agencies' queue)

Revision ID: 0111_place_statistics
Revises: 0110_items_to_follow
Create Date: 2026-12-02 15:10:00.000000

"""
from alembic import op


revision = '0111_place_statistics'
down_revision = '0110_items_to_follow'
branch_labels = None
depends_on = None

PLACES = {"st_projects_place": "projects", "st_deadlines_place": "deadlines"}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's planner keeps no such statistics
    for name, table in PLACES.items():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {name} (dependencies) "
                   f"ON province_code, city_code, jurisdiction_code FROM {table}")
        op.execute(f"ANALYZE {table}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in PLACES:
        op.execute(f"DROP STATISTICS IF EXISTS {name}")
