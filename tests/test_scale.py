"""What keeps pages fast at national size: a bounded number of queries per page whatever the
rows behind it, a dashboard that reads the rollup (not projects or the audit trail), indexed
name search on both backends, and a rollup that a recount confirms and repairs."""

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text, update

from app import create_app
from app.config import TestConfig
from app.database import REPLICA
from app.extensions import db
from app.models import Project, Status
from app.projects.operations import ProjectFilter, list_projects
from app.reporting import dashboard as reports
from app.reporting import rollup as stats
from bench.datagen import generate
from tests.helpers import Cast, project_payload
from tests.web import signed_in


@contextmanager
def statements(app):
    """The SQL statements the app sends while the block runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def page_queries(app, client, path) -> int:
    with statements(app) as seen:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(seen)


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.admin("admin")
    cast.agency("sx_miit", "miit", "140000")  # Shanxi: the generator's first area
    cast.enterprise("ent_a")
    cast.agency("miit", "miit", "320500")
    return cast


PAGES = ["/projects", "/projects?status=financing_matchmaking", "/projects?q=设备更新",
         "/dashboard"]


def test_pages_cost_the_same_queries_at_30_and_150_projects(clean_app, cast):
    """No page issues a query per row: adding rows (a fuller first page, more loans, more
    deadlines) leaves its number of queries unchanged."""
    admin, agency = signed_in(clean_app, "admin"), signed_in(clean_app, "sx_miit")
    with clean_app.app_context():
        generate(30, seed=3)
    for path in PAGES:  # warm the per-process caches (place names) before counting
        admin.get(path)
    small = {path: page_queries(clean_app, admin, path) for path in PAGES}
    small["/queue"] = page_queries(clean_app, agency, "/queue")
    with clean_app.app_context():
        generate(120, seed=4)
        shown = len(list_projects(cast.user("admin"), ProjectFilter(), limit=50)[0])
    large = {path: page_queries(clean_app, admin, path) for path in PAGES}
    large["/queue"] = page_queries(clean_app, agency, "/queue")
    assert shown == 50  # the large list's first page is full; the small one was not
    assert large == small
    assert max(large.values()) <= 25


def test_project_page_queries_do_not_grow_with_its_trail(clean_app, cast):
    api = cast.api(clean_app.test_client(), "ent_a")
    project = api.post("/projects", project_payload()).json
    version = api.fire(project["id"], "submit", project["version"]).json["version"]
    clerk = signed_in(clean_app, "miit")
    path = f"/projects/{project['id']}"
    before = page_queries(clean_app, clerk, path)
    officer = cast.api(clean_app.test_client(), "miit")
    for _ in range(4):  # eight more events, stays, deadlines and notifications
        version = officer.fire(project["id"], "return", version, comment="补充材料").json["version"]
        version = api.fire(project["id"], "submit", version).json["version"]
    assert page_queries(clean_app, clerk, path) == before


def _deadline_reads(seen: list[str]) -> int:
    return sum("FROM deadlines" in s for s in seen)


def _link_reads(seen: list[str]) -> int:
    """Statements asking whether an agency is linked to an enterprise, on their own."""
    return sum("org_links" in s and "deadlines" not in s for s in seen)


def test_a_project_read_for_its_page_or_answer_reads_its_deadlines_once(clean_app, cast):
    """The project page and the API's whole answer after a step read the project's deadlines
    with which of them the reader owes in one statement, and an agency's page asks once
    whether the agency is linked to the enterprise — not once per step it may take — while
    still offering those steps."""
    api = cast.api(clean_app.test_client(), "ent_a")
    project = api.post("/projects", project_payload()).json
    with statements(clean_app) as seen:
        answer = api.fire(project["id"], "submit", project["version"])
    assert answer.status_code == 200 and answer.json["waiting_for"]
    assert _deadline_reads(seen) == 1
    clerk = signed_in(clean_app, "miit")
    with statements(clean_app) as seen:
        page = clerk.get(f"/projects/{project['id']}")
    assert page.status_code == 200
    offered = page.get_data(as_text=True)
    assert all(f'id="action-{step}"' in offered for step in ("return", "reject", "accept"))
    assert _deadline_reads(seen) == 1
    assert _link_reads(seen) == 1


def test_dashboard_reads_the_rollup_not_projects_or_events(clean_app, cast):
    with clean_app.app_context():
        generate(60, seed=5)
    with statements(clean_app) as seen, clean_app.app_context():
        report = reports.summary(cast.user("admin"))
    assert report.totals["projects"] > 0
    read = " ".join(seen).lower()
    for table in ("projects", "workflow_events", "stage_times", "engagements", "loans"):
        assert f"from {table} " not in read and f"join {table} " not in read, table


def test_reports_read_from_the_replica_when_one_is_configured(clean_app, backend, cast):
    """With REPLICA_DATABASE_URL set, the dashboard's figures are read there, leaving the
    primary only the user and jurisdiction lookups. (The stand-in replica is the same
    database reached through its own engine: what is tested is where the queries go.)"""
    with clean_app.app_context():
        generate(20, seed=6)
    url = backend[1]
    with_replica = create_app(type("ReplicaConfig", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": url, "REPLICA_DATABASE_URL": url}))
    with with_replica.app_context():
        primary, replica = db.engine, db.engines[REPLICA]
    assert replica is not primary
    seen = {"primary": [], "replica": []}
    listeners = [(engine, lambda *a, name=name: seen[name].append(a[2].lower()))
                 for engine, name in ((primary, "primary"), (replica, "replica"))]
    for engine, listener in listeners:
        event.listen(engine, "before_cursor_execute", listener)
    try:
        admin = signed_in(with_replica, "admin")
        page = admin.get("/dashboard")
    finally:
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)
        with with_replica.app_context():
            primary.dispose()
            replica.dispose()
    assert page.status_code == 200
    assert any("from stats_buckets" in sql for sql in seen["replica"])
    assert any("from deadlines" in sql for sql in seen["replica"])
    assert not any("stats_" in sql or "from deadlines" in sql for sql in seen["primary"])


def test_rollup_moves_with_each_step_and_a_recount_repairs_it(clean_app, cast, runner):
    api = cast.api(clean_app.test_client(), "ent_a")
    project = api.post("/projects", project_payload(total_investment="5000")).json

    def dashboard():
        with clean_app.app_context():
            report = reports.summary(cast.user("miit"))
            return report.by_stage, report.totals["total_investment"]

    assert dashboard() == ({}, 0)  # a draft is not in the library yet
    api.fire(project["id"], "submit", project["version"])
    assert dashboard() == ({"declared": 1}, 5000)
    with clean_app.app_context():
        assert stats.differences() == []
        # A change behind the application's back (a manual fix in SQL) is what verify finds.
        db.session.execute(update(Project).values(status=Status.COMMITMENT_FILING))
        db.session.commit()
    failed = runner.invoke(args=["stats", "verify"])
    assert failed.exit_code == 1 and "stats_buckets" in failed.output
    assert runner.invoke(args=["stats", "rebuild"]).exit_code == 0
    assert runner.invoke(args=["stats", "verify"]).exit_code == 0
    assert dashboard() == ({"commitment_filing": 1}, 5000)


def test_name_search_uses_the_index_and_matches_substrings(clean_app, cast):
    with clean_app.app_context():
        generate(40, seed=6)
        name = db.session.scalar(select(Project.name).order_by(Project.id.desc()))
        needle = name[2:9]  # inside the name, mixed CJK and digits
        admin = cast.user("admin")
        found = [p.name for p in list_projects(admin, ProjectFilter(q=needle), limit=50)[0]]
        assert name in found and all(needle in n for n in found)
        # Latin letters in any case: a clerk typing "cnc" finds "CNC"
        project_id = db.session.scalar(select(Project.id).where(Project.name == name))
        db.session.execute(update(Project).where(Project.id == project_id)
                           .values(name=f"{name}CNC改造"))
        db.session.commit()
        assert [p.id for p in list_projects(admin, ProjectFilter(q="cnc改造"), limit=50)[0]
                ] == [project_id]
        # a word most names share: pages of the newest matches, in order, none repeated
        everyone = db.session.scalars(select(Project.id).where(Project.name.like("%设备更新%"))
                                      .order_by(Project.id.desc())).all()
        first, cursor = list_projects(admin, ProjectFilter(q="设备更新"), limit=10)
        second, _cursor = list_projects(admin, ProjectFilter(q="设备更新"), limit=10,
                                        cursor=cursor)
        assert len(everyone) > 20
        assert [p.id for p in first + second] == everyone[:20]
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(db.session.execute(text(
                "EXPLAIN SELECT id FROM projects WHERE name ILIKE :q"), {"q": f"%{needle}%"}
            ).scalars())
            assert "ix_projects_name_trgm" in plan
        else:
            plan = " ".join(str(r) for r in db.session.execute(text(
                "EXPLAIN QUERY PLAN SELECT rowid FROM projects_fts WHERE name LIKE :q"),
                {"q": f"%{needle}%"}))
            assert "VIRTUAL TABLE INDEX" in plan and ":L" in plan  # the trigram LIKE index
        db.session.rollback()


def test_a_step_reads_its_projects_deadlines_by_index(clean_app):
    """The step's one read (caller, project and its owed rows) must not scan the deadline
    table: at a million projects that scan would cost every step milliseconds."""
    from datetime import datetime
    from uuid import uuid4

    from app.accounts.principals import _caller_and_state_statement

    with clean_app.app_context():
        generate(40, seed=8)
        statement = _caller_and_state_statement().params(
            digest="0" * 64, key=uuid4(), now=datetime(2026, 12, 2))
        sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(db.session.execute(text("EXPLAIN " + sql)).scalars())
            assert "Seq Scan on deadlines" not in plan, plan
        else:
            plan = " ".join(str(r) for r in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "SCAN deadlines" not in plan and "deadlines USING INDEX" in plan, plan
        db.session.rollback()


def test_generated_projects_keep_the_text_of_their_definition(clean_app):
    """Generated projects are frozen on a definition version like declared ones: its text is
    kept, so a later version on disk still lets them be stepped."""
    from app.models import DefinitionSnapshot

    with clean_app.app_context():
        generate(40, seed=9)
        frozen = set(db.session.execute(select(Project.workflow_key, Project.workflow_version)
                                        .where(Project.workflow_key.is_not(None)).distinct()))
        kept = set(db.session.execute(select(DefinitionSnapshot.key, DefinitionSnapshot.version)))
        assert frozen and frozen <= kept


def test_an_agencys_queue_reads_its_rows_not_every_project(clean_app):
    """A city officer's queue counts its owed rows from their own place index and pages its
    first rows before reading any project: at a million projects a city holds tens of
    thousands of open rows, and reading each one's project cost the page seconds."""
    from app.models import AgencyKind, Organization, OrgKind, User, china_today
    from app.review import queue as owed

    with clean_app.app_context():
        generate(40, seed=10)
        officer = db.session.scalar(
            select(User).join(Organization, User.organization_id == Organization.id)
            .where(Organization.kind == OrgKind.AGENCY,
                   Organization.agency_kind == AgencyKind.MIIT,
                   Organization.jurisdiction_code.like("____00"),
                   Organization.jurisdiction_code.not_like("%0000")))
        filters, today = owed.QueueFilter(), china_today()
        assert owed.step_counts(officer, filters, today)  # the city owes something
        counts = owed._base(officer, filters, today, with_step=False, projects=False)
        counting = str(counts.compile(db.engine, compile_kwargs={"literal_binds": True}))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(db.session.execute(text("EXPLAIN " + counting)).scalars())
            by_index = "Seq Scan on deadlines" not in plan  # (which index: the data's size)
            read = re.search(r" on projects(?! projects_1)", plan)  # _1: linked enterprises'
        else:
            plan = " ".join(str(r) for r in db.session.execute(
                text("EXPLAIN QUERY PLAN " + counting)))
            by_index = "deadlines USING INDEX ix_deadlines_open_place" in plan
            read = re.search(r"(SCAN|SEARCH) projects(?!_1)", plan)
        assert by_index and read is None, plan
        rows, _next = owed.queue(officer, filters, today)
        assert rows and all(row.project.city_code == officer.organization.jurisdiction_code
                            for row in rows)
        db.session.rollback()
