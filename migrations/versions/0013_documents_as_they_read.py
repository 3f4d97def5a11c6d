"""the documents as they read: acceptance and end-of-matchmaking times, energy figures, the
verified equipment investment, a failed completion, the energy administration, procedure
decision dates, baseline sources, local settings and the completions rollup

- projects: `accepted_at` (procedures count from it), `matchmaking_ended_at`, `energy_tce`
  and `electricity_kwh` (whether an energy review is needed), `actual_equipment_investment`,
  and status `failed` (completion verification failed);
- organizations: agency kind `energy` (能源局: shanxi 四(五));
- opinions: `decided_on` (a procedure's decision date); baselines: `source`;
- deadlines: one per role, level and trigger (an agency may owe a filing and a review);
- local_settings: the numbers agencies set for their jurisdiction (time limits, batch cut-off
  dates, their reading of "以设备更新为主");
- stats_completions: verified completions by county and year of completion.

Rebuilding `projects` on SQLite drops its triggers: the name-search ones are made again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

STATUSES = ('draft', 'declared', 'returned', 'rejected', 'withdrawn', 'commitment_filing',
            'financing_matchmaking', 'lead_bank_designated', 'completed')
AGENCIES = ('miit', 'ndrc', 'approval', 'land', 'env', 'pboc', 'finance', 'treasury')


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _checks(batch_op, table: str, name: str, column: str, values) -> None:
    batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
    batch_op.create_check_constraint(name, sa.text(_in(column, values)))


def _search_triggers() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS projects_fts_{trigger}")
    op.execute("CREATE TRIGGER projects_fts_insert AFTER INSERT ON projects BEGIN "
               "INSERT INTO projects_fts (rowid, name) VALUES (new.id, new.name); END")
    op.execute("CREATE TRIGGER projects_fts_delete AFTER DELETE ON projects BEGIN "
               "INSERT INTO projects_fts (projects_fts, rowid, name) "
               "VALUES ('delete', old.id, old.name); END")
    op.execute("CREATE TRIGGER projects_fts_update AFTER UPDATE OF name ON projects BEGIN "
               "INSERT INTO projects_fts (projects_fts, rowid, name) "
               "VALUES ('delete', old.id, old.name); "
               "INSERT INTO projects_fts (rowid, name) VALUES (new.id, new.name); END")


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('matchmaking_ended_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('energy_tce', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('electricity_kwh', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('actual_equipment_investment_yuan', sa.BigInteger(),
                                      nullable=True))
        _checks(batch_op, 'projects', 'project_status', 'status', (*STATUSES, 'failed'))
    _search_triggers()
    # Projects accepted before this revision: their acceptance is the trail's.
    op.execute("UPDATE projects SET accepted_at = (SELECT max(e.created_at) FROM workflow_events e "
               "WHERE e.project_id = projects.id AND e.trigger = 'accept') "
               "WHERE status NOT IN ('draft', 'declared', 'returned', 'rejected', 'withdrawn')")
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        _checks(batch_op, 'organizations', 'agency_kind', 'agency_kind', (*AGENCIES, 'energy'))
    with op.batch_alter_table('opinions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_on', sa.Date(), nullable=True))
    # One agency may owe a project two steps at once (a filing and an energy review).
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_constraint('uq_deadlines_step', type_='unique')
        batch_op.create_unique_constraint('uq_deadlines_step',
                                          ['project_id', 'role', 'level', 'trigger'])
    with op.batch_alter_table('baselines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=300), nullable=True))
    # A closed stay counts where it happened: the place and batch the project had then.
    with op.batch_alter_table('stage_times', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jurisdiction_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('batch_year', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE stage_times SET jurisdiction_code = (SELECT p.jurisdiction_code FROM projects p "
        "WHERE p.id = stage_times.project_id), batch_year = (SELECT coalesce(p.batch_year, 0) "
        "FROM projects p WHERE p.id = stage_times.project_id)")
    with op.batch_alter_table('stage_times', schema=None) as batch_op:
        batch_op.alter_column('jurisdiction_code', existing_type=sa.String(length=6),
                              nullable=False)
        batch_op.alter_column('batch_year', existing_type=sa.Integer(), nullable=False)
    op.create_table(
        'local_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('jurisdiction_code', sa.String(length=6), nullable=False),
        sa.Column('value', sa.String(length=64), nullable=False),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('set_by_id', sa.Integer(), nullable=False),
        sa.Column('set_by_org_name', sa.String(length=200), nullable=False),
        sa.Column('set_at', sa.DateTime(), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdictions.code'],
                                name=op.f('fk_local_settings_jurisdiction_code_jurisdictions')),
        sa.ForeignKeyConstraint(['set_by_id'], ['users.id'],
                                name=op.f('fk_local_settings_set_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_settings')),
    )
    op.create_index('ix_local_settings_key', 'local_settings', ['key', 'jurisdiction_code'])
    op.create_table(
        'stats_completions',
        sa.Column('jurisdiction_code', sa.String(length=6), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('shard', sa.Integer(), nullable=False),
        sa.Column('province_code', sa.String(length=6), nullable=False),
        sa.Column('city_code', sa.String(length=6), nullable=False),
        sa.Column('projects', sa.Integer(), nullable=False),
        sa.Column('actual_total_yuan', sa.BigInteger(), nullable=False),
        sa.Column('actual_equipment_yuan', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('jurisdiction_code', 'year', 'shard',
                                name=op.f('pk_stats_completions')),
    )
    # Completions recorded before this revision.
    year = ("CAST(strftime('%Y', completed_on) AS INTEGER)"
            if op.get_bind().dialect.name == "sqlite"
            else "CAST(EXTRACT(year FROM completed_on) AS INTEGER)")
    op.execute(
        "INSERT INTO stats_completions (jurisdiction_code, year, shard, province_code, "
        "city_code, projects, actual_total_yuan, actual_equipment_yuan) "
        f"SELECT jurisdiction_code, {year}, id % 4, province_code, city_code, count(*), "
        "coalesce(sum(actual_total_investment_yuan), 0), "
        "coalesce(sum(actual_equipment_investment_yuan), 0) FROM projects "
        "WHERE status = 'completed' AND completed_on IS NOT NULL "
        f"GROUP BY jurisdiction_code, {year}, id % 4, province_code, city_code")


def downgrade():
    op.drop_table('stats_completions')
    op.drop_index('ix_local_settings_key', table_name='local_settings')
    op.drop_table('local_settings')
    with op.batch_alter_table('stage_times', schema=None) as batch_op:
        batch_op.drop_column('batch_year')
        batch_op.drop_column('jurisdiction_code')
    with op.batch_alter_table('baselines', schema=None) as batch_op:
        batch_op.drop_column('source')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_constraint('uq_deadlines_step', type_='unique')
        batch_op.create_unique_constraint('uq_deadlines_step', ['project_id', 'role', 'level'])
    with op.batch_alter_table('opinions', schema=None) as batch_op:
        batch_op.drop_column('decided_on')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        _checks(batch_op, 'organizations', 'agency_kind', 'agency_kind', AGENCIES)
    with op.batch_alter_table('projects', schema=None) as batch_op:
        _checks(batch_op, 'projects', 'project_status', 'status', STATUSES)
        batch_op.drop_column('actual_equipment_investment_yuan')
        batch_op.drop_column('electricity_kwh')
        batch_op.drop_column('energy_tce')
        batch_op.drop_column('matchmaking_ended_at')
        batch_op.drop_column('accepted_at')
    _search_triggers()
