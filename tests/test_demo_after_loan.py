"""The demo world carries the second half of a project's life: monthly reports (one with a
problem awaiting the agency), and subsidy claims in different states where the programme's
numbers need no agency setting — each owed to the clerk who acts next, and seeding twice adds
nothing."""

from collections import Counter

from sqlalchemy import func, select

from app.access import owed_condition
from app.accounts.operations import issue_token
from app.demo import seed
from app.extensions import db
from app.models import Deadline, ProgressReport, Project, SubsidyClaim, User
from tests.helpers import Api


def _owes(username: str, trigger: str) -> int:
    user = db.session.scalar(select(User).where(User.username == username))
    return db.session.scalar(select(func.count()).select_from(Deadline).join(
        Project, Deadline.project_id == Project.id).where(owed_condition(user),
                                                          Deadline.trigger == trigger))


def test_demo_seeds_claims_and_progress_a_clerk_acts_on(clean_app, client):
    with clean_app.app_context():
        seed()
        states = Counter((c.programme, c.status.value) for c in db.session.scalars(
            select(SubsidyClaim)))
        assert states == {("ly-relending-interest", "approved"): 1,
                          ("ly-relending-interest", "submitted"): 1,
                          ("lc-equipment-grant", "paid"): 1,
                          ("lc-equipment-grant", "returned"): 1}
        reports = list(db.session.scalars(select(ProgressReport)))
        assert len(reports) == 2 * 5  # enterprise1's two projects under way, in each area
        assert sum(r.problems is not None for r in reports) == 5
        assert sum(r.actual_start_on is not None for r in reports) == 5
        # who acts next finds it in the queue
        assert _owes("luoyang-treasury", "approve_subsidy") == 1
        assert _owes("luoyang-treasury-2", "record_payout") == 1
        assert _owes("luoyang-treasury", "record_payout") == 0  # approved it: another pays
        assert _owes("luoyang-miit", "answer_problem") == 1
        token = issue_token(db.session.scalar(select(User).where(
            User.username == "liaocheng-enterprise2")))
        db.session.remove()
    [returned] = Api(client, token).get("/subsidies").json["items"]
    assert (returned["status"], returned["comment"]) == ("returned", "请补充设备购置发票及付款凭证。")
    with clean_app.app_context():
        seed()  # idempotent
        assert db.session.scalar(select(func.count()).select_from(SubsidyClaim)) == 4
        assert db.session.scalar(select(func.count()).select_from(ProgressReport)) == 10
