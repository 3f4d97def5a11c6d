"""Every model change has a migration: after `upgrade`, the schema equals the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.database import include_object
from app.extensions import db


def test_migrations_match_models(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
