"""Completion acceptance can go three ways, and the clerk sees why in the browser: verified,
returned to the enterprise to correct, or failed — a machine below the energy-efficiency
grade the document demands (二级 under the national plan) cannot be verified."""

import pytest

from app.extensions import db
from app.models import Project
from app.models.base import china_today
from app.projects.operations import create_project
from app.rules.project_input import ProjectCreate
from app.workflow import workflows
from tests.helpers import Cast, project_payload
from tests.test_browser_journey import Desk

pytestmark = pytest.mark.slow

FILED_WITHOUT_LOAN = [("submit", "qiye"), ("accept", "miit1"),
                      ("sign_commitment", "qiye", {"commitment_accepted": True}),
                      ("file", "ndrc1", {"filing_number": "苏吴行审备〔2026〕9号"})]


@pytest.fixture
def reported(clean_app):
    """A filed project without a loan whose completion the enterprise has reported."""
    cast = Cast(clean_app)
    cast.enterprise("qiye")
    for username, kind in (("miit1", "miit"), ("ndrc1", "ndrc"), ("miit2", "miit")):
        cast.agency(username, kind, "320500")
    with clean_app.app_context():
        ent = cast.user("qiye")
        project = create_project(ent, ProjectCreate.model_validate(project_payload(
            name="注塑机节能改造项目", financing_need="0", planned_start="2026-01-05",
            planned_end="2026-10-31", project_code="2603-320506-07-02-000009"), strict=False))
        for trigger, who, *data in FILED_WITHOUT_LOAN:
            workflows().fire(project, trigger, cast.user(who), version=project.version,
                             data=data[0] if data else None)
        workflows().fire(project, "report_completion", ent, version=project.version,
                         data={"actual_total_investment": "4900",
                               "actual_equipment_investment": "3900",
                               "completed_on": china_today().isoformat()})
        return project.public_id


def attempt(desk, trigger, **inputs):
    """Fill and confirm an action the page refuses; return the reason shown beside it."""
    if desk.page.locator(f"#action-{trigger}[open]").count() == 0:  # open after a refusal
        desk.page.click(f"#action-{trigger} summary")
    for key, value in inputs.items():
        selector = f"#in-{trigger}-{key}"
        if value is True:
            desk.page.check(selector)
        elif desk.page.locator(selector).evaluate("e => e.tagName") == "SELECT":
            desk.page.select_option(selector, value)
        else:
            desk.page.fill(selector, value)
    with desk.page.expect_navigation():
        desk.page.click(f"#action-{trigger} form button[type=submit]")
    return desk.page.inner_text(f"#action-{trigger} [role=alert]")


def test_returned_then_failed_for_energy_grade(browser, live_server, reported, clean_app,
                                               artifacts, backend):
    name = "注塑机节能改造项目"
    desk = lambda user: Desk(browser, live_server, user, artifacts, backend[0])  # noqa: E731
    checker = desk("miit2")
    checker.open_project(name)
    found = {"checked_total_investment": "4,900", "checked_equipment_investment": "3,900",
             "equipment_delivered": True, "retired_disposed": True, "energy_grades-1": "3"}
    reason = attempt(checker, "verify_completion", **found)
    assert "五轴数控机床" in reason and "3级" in reason and "2级及以上" in reason
    assert checker.status() == "承诺备案"  # nothing written
    reason = attempt(checker, "verify_completion", checked_total_investment="4,900",
                     checked_equipment_investment="3,900", retired_disposed=True)
    assert "申报的新购设备未全部到位" in reason

    checker.act("return_completion", comment="请补充设备到货验收单。")
    ent = desk("qiye")
    ent.open_project(name)
    assert "请补充设备到货验收单。" in ent.page.inner_text("#timeline")
    ent.act("report_completion", actual_total_investment="4,900",
            actual_equipment_investment="3,900", completed_on=china_today().isoformat())

    checker.open_project(name)
    checker.act("fail_completion", comment="新购注塑机能效三级，未达到方案要求的二级。")
    assert checker.status() == "竣工核验未通过"
    assert checker.page.locator("#action-verify_completion").count() == 0
    checker.shot("06-completion-failed")
    with clean_app.app_context():
        project = db.session.scalar(db.select(Project).where(Project.public_id == reported))
        assert project.status.value == "failed"
        assert project.completed_on is not None  # the report stays on record
