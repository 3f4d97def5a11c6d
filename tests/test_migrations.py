"""Every model change has a migration: after `upgrade`, the schema equals the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from app.database import include_object
from app.extensions import db
from app.models import Project, StatsBucket
from app.projects.operations import ProjectFilter, list_projects
from app.reporting import rollup as stats
from tests.helpers import Cast, project_payload


def test_migrations_match_models(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_rollup_migration_rolls_back_and_forward_on_a_populated_database(clean_app):
    """0009 down and up again over stored projects: the rollup it backfills equals a
    recount, project totals and name search come back, and the schema is whole again."""
    cast = Cast(clean_app)
    cast.enterprise("ent")
    cast.agency("miit", "miit", "320500")
    client = clean_app.test_client()
    enterprise, miit = cast.api(client, "ent"), cast.api(client, "miit")
    ids = []
    for i, name in enumerate(("苏州数控机床更新项目", "吴中绿色装备改造项目", "姑苏数字化车间项目")):
        project = enterprise.post("/projects", project_payload(
            name=name, project_code=f"2603-320506-07-02-{i:06d}")).json
        version = enterprise.fire(project["id"], "submit", project["version"]).json["version"]
        if i == 0:
            version = miit.fire(project["id"], "accept", version).json["version"]
        ids.append(project["id"])

    with clean_app.app_context():
        before = stats.differences(), db.session.execute(
            select(Project.id, Project.new_units).order_by(Project.id)).all()
        db.session.remove()
        downgrade(revision="0008")
        upgrade()
        assert stats.differences() == []
        assert db.session.scalar(select(func.count()).select_from(StatsBucket)) > 0
        assert (before[0], db.session.execute(
            select(Project.id, Project.new_units).order_by(Project.id)).all()) == before
        found, _cursor = list_projects(cast.user("ent"), ProjectFilter(q="绿色装备"))
        assert [p.name for p in found] == ["吴中绿色装备改造项目"]  # FTS5 on SQLite
        db.session.remove()
    test_migrations_match_models(clean_app)
    # and the system works on after the round trip (the fixture re-checks the rollup)
    moved = miit.fire(ids[1], "accept", 2)
    assert moved.status_code == 200 and moved.json["status"] == "commitment_filing"
