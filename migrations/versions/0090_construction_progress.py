"""construction progress: monthly reports (月调度), the stall warning, status `exited` (退库),
key and demonstration designations

- progress_reports: one row per project and month, with the problem raised and its answer;
- projects: `actual_start_on`, `investment_completed_yuan`, `percent_complete`, `progress_month` (as the
  latest report left them), `stall_warned_at`/`stall_reason` (the warning to the accepting agency),
  `progress_reset_on` (a deferral to a later batch), and status `exited`;
- designations: key-list and demonstration tags (智能工厂、数字化车间、绿色工厂、机器换人、典型案例)
  given by the accepting agency.

Rebuilding `projects` on SQLite drops its triggers: the name-search ones are made again.

Revision ID: 0090
Revises: 0060
Create Date: 2026-12-02 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0090'
down_revision = '0060'
branch_labels = None
depends_on = None

STATUSES = ('draft', 'declared', 'returned', 'rejected', 'withdrawn', 'commitment_filing',
            'financing_matchmaking', 'lead_bank_designated', 'completed', 'failed')
PROJECT_COLUMNS = ('actual_start_on', 'investment_completed_yuan', 'percent_complete',
                   'progress_month', 'stall_warned_at', 'stall_reason', 'progress_reset_on')


def _status_check(batch_op, values) -> None:
    batch_op.drop_constraint(op.f('ck_projects_project_status'), type_='check')
    batch_op.create_check_constraint(
        'project_status', sa.text(f"status IN ({', '.join(repr(v) for v in values)})"))


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
        batch_op.add_column(sa.Column('actual_start_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('investment_completed_yuan', sa.BigInteger(),
                                      nullable=True))
        batch_op.add_column(sa.Column('percent_complete', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('progress_month', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('stall_warned_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('stall_reason', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('progress_reset_on', sa.Date(), nullable=True))
        _status_check(batch_op, (*STATUSES, 'exited'))
    _search_triggers()
    op.create_table(
        'progress_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('actual_start_on', sa.Date(), nullable=True),
        sa.Column('investment_completed_yuan', sa.BigInteger(), nullable=False),
        sa.Column('percent_complete', sa.Integer(), nullable=False),
        sa.Column('equipment_installed', sa.JSON(), nullable=False),
        sa.Column('problems', sa.Text(), nullable=True),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('reported_by_id', sa.Integer(), nullable=False),
        sa.Column('reported_at', sa.DateTime(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_by_name', sa.Text(), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint('percent_complete BETWEEN 0 AND 100',
                           name=op.f('ck_progress_reports_percent')),
        sa.CheckConstraint('investment_completed_yuan >= 0',
                           name=op.f('ck_progress_reports_investment')),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_progress_reports_project_id_projects')),
        sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'],
                                name=op.f('fk_progress_reports_reported_by_id_users')),
        sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'],
                                name=op.f('fk_progress_reports_answered_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_reports')),
        sa.UniqueConstraint('project_id', 'month', name='uq_progress_reports_month'),
    )
    with op.batch_alter_table('progress_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_reports_project_id'), ['project_id'],
                              unique=False)


    op.create_table(
        'designations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('tag', sa.Enum('key_list', 'smart_factory', 'digital_workshop',
                                 'green_factory', 'robot_substitution', 'typical_case',
                                 name='designation_tag', native_enum=False,
                                 create_constraint=True, length=32), nullable=False),
        sa.Column('jurisdiction_code', sa.String(length=6), nullable=False),
        sa.Column('province_code', sa.String(length=6), nullable=False),
        sa.Column('city_code', sa.String(length=6), nullable=False),
        sa.Column('designated_by_id', sa.Integer(), nullable=False),
        sa.Column('designated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_designations_project_id_projects')),
        sa.ForeignKeyConstraint(['designated_by_id'], ['users.id'],
                                name=op.f('fk_designations_designated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_designations')),
        sa.UniqueConstraint('project_id', 'tag', name='uq_designations_tag'),
    )
    with op.batch_alter_table('designations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_designations_project_id'), ['project_id'],
                              unique=False)


def downgrade():
    op.drop_table('designations')
    op.drop_table('progress_reports')
    op.execute("UPDATE projects SET status = 'commitment_filing' WHERE status = 'exited'")
    with op.batch_alter_table('projects', schema=None) as batch_op:
        _status_check(batch_op, STATUSES)
        for column in PROJECT_COLUMNS:
            batch_op.drop_column(column)
    _search_triggers()
