"""Routing as a clerk sees it in the browser: a step that becomes owed without a change of
status reaches its owner's workbench, queue and bell; a refinanced loan leaves the queue;
the maker is told why a colleague must check; bulk decisions offer only common steps,
confirm their count and report each project."""

import pytest

from app.models.base import china_today
from app.projects.operations import create_project
from app.rules.project_input import ProjectCreate
from app.workflow import workflows
from tests.helpers import Cast, project_payload
from tests.test_browser_journey import Desk

pytestmark = pytest.mark.slow

TODAY = china_today().isoformat()
DATA = {"sign_commitment": {"commitment_accepted": True},
        "file": {"filing_number": "备〔2026〕1号"},
        "whitelist": {"list": "relending", "batch": "2026-1"},
        "approve_credit": {"amount": "2000", "approved_on": TODAY},
        "sign_contract": {"amount": "2000", "signed_on": TODAY, "contract_number": "借1号"},
        "record_loan": {"amount": "800", "drawdown_date": TODAY},
        "report_completion": {"actual_total_investment": "4900",
                              "actual_equipment_investment": "3900", "completed_on": TODAY}}


def walk(app, cast, owner, county, steps, name, **payload):
    """A project of `owner` in `county` brought along `steps` ((trigger, username) …) by the
    engine."""
    with app.app_context():
        project = create_project(cast.user(owner), ProjectCreate.model_validate(project_payload(
            name=name, jurisdiction=county, planned_start="2026-01-05", planned_end="2026-10-31",
            project_code=f"2603-{county}-07-02-{abs(hash(name)) % 10**6:06d}", **payload),
            strict=False))
        for trigger, who in steps:
            workflows().fire(project, trigger, cast.user(who), version=project.version,
                             data=DATA.get(trigger))
        return project.public_id


def owed_tile(desk) -> str:
    desk.page.goto(desk.base + "/")
    return desk.page.inner_text("#owed-total .tile__value")


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("qiye", "230110")
    cast.enterprise("qiye_sz", "320506")
    for kind in ("miit", "ndrc", "pboc"):
        cast.agency(f"hlj_{kind}", kind, "230100")
        cast.agency(f"sz_{kind}", kind, "320500")
    cast.agency("sz_checker", "miit", "320500")
    cast.bank("hlj_bank", serves=("230100",))
    cast.bank("sz_bank", serves=("320500",))
    return cast


def test_a_claim_reaches_the_peoples_bank(browser, live_server, clean_app, cast, artifacts,
                                          backend):
    hlj = [("submit", "qiye"), ("accept", "hlj_miit"), ("sign_commitment", "qiye"),
           ("file", "hlj_ndrc"), ("whitelist", "hlj_miit")]
    walk(clean_app, cast, "qiye", "230110", hlj, "哈尔滨数控改造项目")
    pboc = Desk(browser, live_server, "hlj_pboc", artifacts, backend[0])
    assert owed_tile(pboc) == "0"

    bank = Desk(browser, live_server, "hlj_bank", artifacts, backend[0])
    bank.open_project("哈尔滨数控改造项目")
    bank.act("claim_lead_bank")

    assert owed_tile(pboc) == "1"
    assert pboc.page.inner_text(".bell__count") == "1"
    pboc.page.click("#owed-total")
    assert "确定主办行" in pboc.page.inner_text("table")
    pboc.shot("10-queue-after-claim")
    pboc.page.click("table a:text-is('哈尔滨数控改造项目')")
    assert pboc.page.locator("#owed-actions #action-designate_lead_bank").count() == 1


def test_a_refinanced_loan_leaves_the_queue(browser, live_server, clean_app, cast, artifacts,
                                            backend):
    lent = [("submit", "qiye_sz"), ("accept", "sz_miit"), ("sign_commitment", "qiye_sz"),
            ("file", "sz_ndrc"), ("whitelist", "sz_miit"), ("express_interest", "sz_bank"),
            ("approve_credit", "sz_bank"), ("sign_contract", "sz_bank"),
            ("record_loan", "sz_bank")]
    walk(clean_app, cast, "qiye_sz", "320506", lent, "苏州再贷款项目")
    pboc = Desk(browser, live_server, "sz_pboc", artifacts, backend[0])
    assert owed_tile(pboc) == "1"
    pboc.open_project("苏州再贷款项目")
    pboc.act("confirm_refinancing", refinanced_on=TODAY)
    assert owed_tile(pboc) == "0"
    pboc.page.goto(live_server + "/queue")
    assert "苏州再贷款项目" not in pboc.page.inner_text("main")


def test_the_maker_sees_why_a_colleague_must_check(browser, live_server, clean_app, cast,
                                                   artifacts, backend):
    filed = [("submit", "qiye_sz"), ("accept", "sz_miit"), ("sign_commitment", "qiye_sz"),
             ("file", "sz_ndrc"), ("report_completion", "qiye_sz")]
    walk(clean_app, cast, "qiye_sz", "320506", filed, "自筹资金改造项目", financing_need="0")
    maker = Desk(browser, live_server, "sz_miit", artifacts, backend[0])
    assert owed_tile(maker) == "0"
    maker.open_project("自筹资金改造项目")
    panel = maker.page.inner_text(".actions-panel")
    assert "目前您对该项目无待办事项" not in panel
    assert "需由另一名复核人办理" in panel and "同意入库" in panel
    maker.shot("11-maker-checker-panel")
    checker = Desk(browser, live_server, "sz_checker", artifacts, backend[0])
    assert owed_tile(checker) == "1"


def test_bulk_offers_common_steps_confirms_and_reports(browser, live_server, clean_app, cast,
                                                       artifacts, backend):
    for i in range(3):
        walk(clean_app, cast, "qiye_sz", "320506", [("submit", "qiye_sz")], f"批量项目{i}")
    walk(clean_app, cast, "qiye_sz", "320506", [
        ("submit", "qiye_sz"), ("accept", "sz_miit"), ("sign_commitment", "qiye_sz"),
        ("file", "sz_ndrc")], "待列入清单项目")
    clerk = Desk(browser, live_server, "sz_checker", artifacts, backend[0])
    page = clerk.page

    def choose(*names):
        page.goto(live_server + "/queue")
        for name in names:
            page.check(f"input[name=project][aria-label='{name}']")
        with page.expect_navigation():
            page.click("#bulk-choose")

    choose("批量项目0", "待列入清单项目")  # acceptance and whitelisting: nothing in common
    assert "没有您可一并办理的共同事项" in page.inner_text("#bulk-none")
    assert "列入清单" in page.inner_text("#bulk-none")

    choose("批量项目0", "批量项目1", "批量项目2")
    assert page.inner_text("#bulk-apply") == "确认办理3个项目"
    offered = page.locator("input[name=step]").evaluate_all("xs => xs.map(x => x.value)")
    assert offered == ["accept", "return", "reject"]
    clerk.shot("12-bulk-confirm")
    with page.expect_navigation():
        page.click("#bulk-apply")
    assert "同意入库：3个项目中已办理3个" in page.inner_text("h1")
    assert page.locator("#bulk-result .bulk--done").count() == 3
    clerk.shot("13-bulk-result")
