"""Each programme's claims go to the agency its document names, and to no one else:
liaocheng's 市级设备更新奖补 (the enterprise claims, 市财政局 approves and pays), luoyang's
财政贴息 on relending loans (the bank claims, 市财政局), shanxi's 省级基本建设资金贴息 (the
bank claims, 省发展改革委 approves, 省财政厅 pays). Every other demo user of the area is
refused: 403 where they see the project, 404 where they do not."""

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from app.access import can_see, owed_condition
from app.accounts import operations as accounts
from app.demo import AREAS, PLANS, _seed_area, _seed_project
from app.extensions import db
from app.models import Deadline, Project, User
from app.review import settings as local_settings
from tests.helpers import Api

SEEDED = date(2025, 5, 20)  # the demo project's steps, loans and payments are of this day
LOAN = ["submit", "accept", "sign_commitment", "file", "whitelist", "express_interest",
        "claim_lead_bank", "designate_lead_bank", "approve_credit", "sign_contract",
        "record_loan", "confirm_refinancing"]


def area_world(app, slug: str, steps: list[str], name: str | None = None):
    """The area's demo users (each with a token) and one project of theirs walked through
    `steps` on SEEDED (another of the same enterprise where `name` is given)."""
    area = next(a for a in AREAS if a.slug == slug)
    with app.app_context():
        users = _seed_area(area, [])
        plan = PLANS[0].__class__(name or PLANS[0].name, steps)
        _seed_project(area, users, users["enterprise1"], plan, 1 if name else 0, SEEDED)
        project = db.session.scalar(select(Project).order_by(Project.id.desc()))
        tokens = {u.username: accounts.issue_token(u) for u in users.values()}
        seeing = {u.username for u in users.values() if can_see(u, project)}
        return str(project.public_id), tokens, seeing


def set_local(app, username, key, value, effective="2025-01-01"):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        local_settings.set_value(user, key, value, date.fromisoformat(effective), SEEDED)


def owing(app, trigger) -> set[str]:
    with app.app_context():
        return {u.username for u in db.session.scalars(select(User))
                if db.session.scalar(select(db.func.count()).select_from(Deadline).join(
                    Project, Deadline.project_id == Project.id).where(
                    owed_condition(u), Deadline.trigger == trigger))}


class World:
    def __init__(self, client, pid, tokens, seeing):
        self.client, self.pid, self.tokens, self.seeing = client, pid, tokens, seeing

    def api(self, who) -> Api:
        return Api(self.client, self.tokens[who])

    def version(self):
        return self.api(next(iter(self.seeing))).get(f"/projects/{self.pid}").json["version"]

    def fire(self, who, trigger, comment=None, **data):
        return self.api(who).fire(self.pid, trigger, self.version(), comment=comment, **data)

    def claim(self, who):
        [found] = self.api(who).get("/subsidies", project=self.pid).json["items"]
        return found

    def only(self, allowed: set[str], trigger, comment=None, same_role=(), **data):
        """Everyone but `allowed` is refused the step: 403 if they see the project, else 404
        (422 for `same_role`: another bank, which holds the role but lent nothing here)."""
        for who in sorted(set(self.tokens) - allowed):
            refused = self.fire(who, trigger, comment, **data)
            expected = 403 if who in self.seeing else 404
            if who in same_role and who in self.seeing:
                expected = 422
            assert refused.status_code == expected, (who, trigger, refused.json)


def test_liaocheng_enterprise_grant_approved_and_paid_by_the_city_treasury(clean_app, client):
    pid, tokens, seeing = area_world(clean_app, "liaocheng",
                                     ["submit", "accept", "sign_commitment", "file"])
    w = World(client, pid, tokens, seeing)
    set_local(clean_app, "liaocheng-treasury", "programme:lc-equipment-grant:cap_per_project",
              "50")
    w.only({"liaocheng-enterprise1"}, "claim_subsidy", amount="30")
    over = w.fire("liaocheng-enterprise1", "claim_subsidy", amount="60")
    assert over.status_code == 422 and "50" in over.json["message"]
    assert w.fire("liaocheng-enterprise1", "claim_subsidy", amount="30").status_code == 200
    claim = w.claim("liaocheng-enterprise1")
    assert (claim["period"], D(claim["claimed"]), claim["status"]) == ("once", D(30), "submitted")
    assert owing(clean_app, "approve_subsidy") == {"liaocheng-treasury", "liaocheng-treasury-2"}
    w.only({"liaocheng-treasury", "liaocheng-treasury-2"}, "approve_subsidy", claim=claim["id"])
    assert w.fire("liaocheng-treasury", "approve_subsidy", claim=claim["id"]).status_code == 200
    assert owing(clean_app, "record_payout") == {"liaocheng-treasury-2"}  # not the approver
    payout = {"claim": claim["id"], "amount": "30", "paid_on": "2026-01-20", "voucher": "聊财奖2026-7"}
    w.only({"liaocheng-treasury-2"}, "record_payout", **payout)
    assert w.fire("liaocheng-treasury-2", "record_payout", **payout).status_code == 200
    claim = w.claim("liaocheng-enterprise1")
    assert (claim["status"], D(claim["paid"]), claim["voucher"]) == ("paid", D(30), "聊财奖2026-7")
    again = w.fire("liaocheng-enterprise1", "claim_subsidy", amount="10")
    assert again.status_code == 422 and claim["number"] in again.json["message"]


@pytest.mark.parametrize(("slug", "approver", "setting", "expected"), [
    # 财金〔2024〕54号 points in force (1.5 from 2024-07-01), 600 万元 × 1.5% × 92/360 = 2.3
    ("luoyang", "luoyang-treasury", None, D("2.3000")),
    # the 省发展改革委's own rate, 1%: 600 × 1% × 92/360 = 1.5333…
    ("shanxi", "shanxi-ndrc", "1%", D("1.5333")),
])
def test_bank_interest_claims_go_to_the_agency_the_document_names(
        clean_app, client, slug, approver, setting, expected):
    pid, tokens, seeing = area_world(clean_app, slug, LOAN)
    w = World(client, pid, tokens, seeing)
    if setting:
        key = "programme:sx-construction-interest"
        set_local(clean_app, approver, f"{key}:rate", setting)
        set_local(clean_app, approver, f"{key}:max_years", "3")
    bank = f"{slug}-bank1"
    w.only({bank}, "claim_subsidy", period="2025Q3",
           same_role={f"{slug}-bank2", f"{slug}-bank3"})
    done = w.fire(bank, "claim_subsidy", period="2025Q3")
    assert done.status_code == 200, done.json
    claim = w.claim(bank)
    assert D(claim["claimed"]) == expected
    assert [line["days"] for line in claim["lines"]] == [92]
    checker = f"{approver}-2"
    assert owing(clean_app, "approve_subsidy") == {approver, checker}
    w.only({approver, checker}, "approve_subsidy", claim=claim["id"])
    assert w.fire(approver, "approve_subsidy", claim=claim["id"]).status_code == 200
    payer = f"{slug}-treasury" if slug == "shanxi" else f"{slug}-treasury-2"
    payers = {f"{slug}-treasury", f"{slug}-treasury-2"} - ({approver} if slug == "luoyang" else set())
    assert owing(clean_app, "record_payout") == payers
    payout = {"claim": claim["id"], "amount": str(expected), "paid_on": "2025-11-05",
              "voucher": "贴息-1"}
    w.only(payers, "record_payout", **payout)
    assert w.fire(payer, "record_payout", **payout).status_code == 200
    assert w.claim(f"{slug}-enterprise1")["status"] == "paid"
