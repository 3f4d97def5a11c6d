"""The CLI: demo data (idempotent, every stage), users and tokens."""

from sqlalchemy import func, select

from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import Project, Status, User, WorkflowEvent
from app.workflow import workflows


def test_demo_creates_every_stage_and_is_idempotent(runner):
    app = runner.app
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    for login in ("national-enterprise1", "national-miit", "national-ndrc", "national-pboc",
                  "heilongjiang-bank3", "luoyang-enterprise2", "shanxi-miit", "admin"):
        assert login in first.output
    assert DEMO_PASSWORD in first.output
    with app.app_context():
        statuses = set(db.session.scalars(select(Project.status).distinct()))
        assert statuses >= {Status(s) for s in ("draft", "declared", "returned", "rejected",
                                                "commitment_filing", "financing_matchmaking",
                                                "lead_bank_designated", "completed")}
        totals = (db.session.scalar(select(func.count()).select_from(Project)),
                  db.session.scalar(select(func.count()).select_from(WorkflowEvent)))
        # every demo agency login holds a role its area's definition routes steps to
        for user in db.session.scalars(select(User).where(User.username.like("%-miit"))):
            definition = workflows().resolve(user.organization.jurisdiction_code + "", _today())
            assert "agency:miit" in definition.roles

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert (db.session.scalar(select(func.count()).select_from(Project)),
                db.session.scalar(select(func.count()).select_from(WorkflowEvent))) == totals


def _today():
    from app.models import china_today

    return china_today()


def test_tokens_create_prints_a_working_token_last(runner):
    runner.invoke(args=["demo"])
    result = runner.invoke(args=["tokens", "create", "national-bank1"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    client = runner.app.test_client()
    response = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    # a bank sees whitelisted projects of the regions it serves, not drafts
    assert response.json["items"] and all(p["status"] != "draft" for p in response.json["items"])


def test_tokens_create_unknown_user_fails(runner):
    result = runner.invoke(args=["tokens", "create", "nobody"])
    assert result.exit_code != 0 and "no user named 'nobody'" in result.output


def test_users_create_in_existing_org(runner):
    runner.invoke(args=["demo"])
    result = runner.invoke(args=["users", "create", "clerk2", "--org", "苏州市工业和信息化局",
                                 "--password", "s3cret-pass-of-clerk2"])
    assert result.exit_code == 0, result.output
    assert "agency:miit" in result.output
    client = runner.app.test_client()
    login = client.get("/login")
    assert login.status_code == 200
