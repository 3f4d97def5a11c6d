"""A quarterly interest subsidy in the browser (luoyang 三(五), 财金〔2024〕54号 points): the
lending bank files its claim for 2025Q3, 市财政局 approves it, a second officer pays it, and the
enterprise sees it paid on its project's page."""

import uuid

import pytest
from sqlalchemy import select

from app.accounts.operations import hash_password
from app.extensions import db
from app.models import Project, User
from tests.helpers import PASSWORD
from tests.test_browser_journey import Desk
from tests.test_subsidy_routing import LOAN, area_world

pytestmark = pytest.mark.slow


def test_bank_claims_treasury_approves_enterprise_sees_it_paid(browser, live_server, clean_app,
                                                               artifacts, backend):
    pid, _tokens, _seeing = area_world(clean_app, "luoyang", LOAN)
    with clean_app.app_context():
        name = db.session.scalar(select(Project.name).where(Project.public_id == uuid.UUID(pid)))
        hashed = hash_password(PASSWORD)  # Desk signs in with the tests' password
        for user in db.session.scalars(select(User)):
            user.password_hash = hashed
        db.session.commit()
    desk = lambda user: Desk(browser, live_server, user, artifacts, backend[0])  # noqa: E731

    bank = desk("luoyang-bank1")
    bank.open_project(name)
    bank.act("claim_subsidy", period="2025Q3")
    row = bank.page.locator("#subsidies tbody tr")
    assert "已申报，审核中" in row.inner_text() and "2.3" in row.inner_text()
    bank.shot("subsidy-claimed")

    treasury = desk("luoyang-treasury")
    treasury.page.goto(live_server + "/queue")
    assert "审核通过资金申请" in treasury.page.inner_text("main")
    treasury.open_project(name)
    treasury.act("approve_subsidy")
    assert "已审核，待拨付" in treasury.page.inner_text("#subsidies")

    payer = desk("luoyang-treasury-2")
    payer.open_project(name)
    payer.act("record_payout", amount="2.3", paid_on="2025-11-05", voucher="洛财贴2025-031")

    ent = desk("luoyang-enterprise1")
    ent.open_project(name)
    row = ent.page.inner_text("#subsidies")
    assert "已拨付" in row and "洛财贴2025-031" in row and "2.3" in row
    ent.shot("subsidy-paid")
