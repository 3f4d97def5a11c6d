"""background jobs: one table for every job (imports, mail batches, periodic runs) with
heartbeat, attempts, progress and bounded errors; the uploaded file beside it; notifications
carry their e-mail's state, so the step that writes them writes the mail outbox too

The import jobs of revision 0006 move into `jobs` (kind 'import'); one still "running" had
lost its thread with the web worker that ran it, and is marked failed. Notifications written
before this revision had their mail sent in the request: they are marked sent.

Revision ID: 0030
Revises: 0014
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0014'
branch_labels = None
depends_on = None

MAIL_OPEN = "mail_state IN ('pending', 'sending')"


def _import_jobs():
    return sa.table('import_jobs', sa.column('id', sa.Integer), sa.column('public_id', sa.Uuid),
                    sa.column('user_id', sa.Integer), sa.column('filename', sa.String),
                    sa.column('status', sa.String), sa.column('rows', sa.Integer),
                    sa.column('created', sa.Integer), sa.column('errors', sa.JSON),
                    sa.column('started_at', sa.DateTime), sa.column('finished_at', sa.DateTime))


def _jobs():
    return sa.table('jobs', sa.column('public_id', sa.Uuid), sa.column('kind', sa.String),
                    sa.column('user_id', sa.Integer), sa.column('title', sa.String),
                    sa.column('status', sa.String), sa.column('attempts', sa.Integer),
                    sa.column('run_after', sa.DateTime),
                    sa.column('total', sa.Integer), sa.column('done', sa.Integer),
                    sa.column('created', sa.Integer), sa.column('error_count', sa.Integer),
                    sa.column('errors', sa.JSON), sa.column('message', sa.Text),
                    sa.column('created_at', sa.DateTime), sa.column('started_at', sa.DateTime),
                    sa.column('finished_at', sa.DateTime))


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', sa.DateTime(), nullable=False),
    sa.Column('worker', sa.String(length=120), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('stage', sa.String(length=20), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                       name=op.f('ck_jobs_status_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('key', name=op.f('uq_jobs_key')),
    sa.UniqueConstraint('public_id', name=op.f('uq_jobs_public_id'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_status', ['status', 'heartbeat_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_user_id'), ['user_id'], unique=False)

    op.create_table('job_files',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_files_job_id_jobs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_files'))
    )

    connection = op.get_bind()
    old = _import_jobs()
    moved = [{
        'public_id': row.public_id, 'kind': 'import', 'user_id': row.user_id,
        'title': row.filename, 'status': 'failed' if row.status == 'running' else row.status,
        'attempts': 1, 'run_after': row.started_at, 'total': row.rows, 'done': row.rows,
        'created': row.created,
        'error_count': len(row.errors or []), 'errors': (row.errors or [])[:1000],
        'message': 'interrupted' if row.status == 'running' else None,
        'created_at': row.started_at, 'started_at': row.started_at,
        'finished_at': row.finished_at or row.started_at,
    } for row in connection.execute(sa.select(old).order_by(old.c.id))]
    if moved:
        op.bulk_insert(_jobs(), moved)
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_jobs_user_id'))
    op.drop_table('import_jobs')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_state', sa.String(length=8),
                                      server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('mail_job_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_notifications_mail_job_id_jobs'), 'jobs',
                                    ['mail_job_id'], ['id'], ondelete='SET NULL')
    op.execute("UPDATE notifications SET mail_state = 'sent'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_mail_open', ['mail_state', 'id'], unique=False,
                              postgresql_where=sa.text(MAIL_OPEN),
                              sqlite_where=sa.text(MAIL_OPEN))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_mail_open', postgresql_where=sa.text(MAIL_OPEN),
                            sqlite_where=sa.text(MAIL_OPEN))
        batch_op.drop_constraint(batch_op.f('fk_notifications_mail_job_id_jobs'),
                                 type_='foreignkey')
        batch_op.drop_column('mail_job_id')
        batch_op.drop_column('mail_state')

    op.create_table('import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs')),
    sa.UniqueConstraint('public_id', name=op.f('uq_import_jobs_public_id'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_jobs_user_id'), ['user_id'], unique=False)
    connection = op.get_bind()
    jobs = _jobs()
    back = [{
        'public_id': row.public_id, 'user_id': row.user_id, 'filename': row.title,
        'status': row.status if row.status in ('done', 'failed') else 'failed',
        'rows': row.total, 'created': row.created, 'errors': row.errors or [],
        'started_at': row.started_at or row.created_at, 'finished_at': row.finished_at,
    } for row in connection.execute(sa.select(jobs).where(jobs.c.kind == 'import',
                                                          jobs.c.user_id.is_not(None)))]
    if back:
        op.bulk_insert(_import_jobs(), back)
    op.drop_table('job_files')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_user_id'))
        batch_op.drop_index('ix_jobs_status')
    op.drop_table('jobs')
