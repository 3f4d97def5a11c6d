"""Monthly progress in the browser: the enterprise files its month's report with a problem
needing help, the accepting agency finds the problem in its queue and answers it, and the
enterprise reads the answer beside its report."""

import pytest

from app.models.base import china_today
from app.projects.operations import create_project
from app.rules.project_input import ProjectCreate
from app.workflow import workflows
from tests.helpers import Cast, project_payload
from tests.test_browser_journey import Desk

pytestmark = pytest.mark.slow

NAME = "涂装线智能化改造项目"
FILED = [("submit", "qiye"), ("accept", "miit1"),
         ("sign_commitment", "qiye", {"commitment_accepted": True}),
         ("file", "ndrc1", {"filing_number": "苏吴行审备〔2026〕12号"})]


@pytest.fixture
def filed(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("qiye")
    for username, kind in (("miit1", "miit"), ("ndrc1", "ndrc")):
        cast.agency(username, kind, "320500")
    with clean_app.app_context():
        project = create_project(cast.user("qiye"), ProjectCreate.model_validate(project_payload(
            name=NAME, financing_need="0", project_code="2612-320506-07-02-000012"),
            strict=False))
        for trigger, who, *data in FILED:
            workflows().fire(project, trigger, cast.user(who), version=project.version,
                             data=data[0] if data else None)


def test_enterprise_reports_a_problem_and_the_agency_answers(browser, live_server, filed,
                                                            artifacts, backend):
    today = china_today()
    desk = lambda user: Desk(browser, live_server, user, artifacts, backend[0])  # noqa: E731
    ent = desk("qiye")
    ent.open_project(NAME)
    owed = ent.page.inner_text("#progress")
    assert f"{today:%Y-%m}调度应于" in owed and "本地设定" in owed  # due day, and whose number
    assert ent.page.input_value("#in-report_progress-month") == f"{today:%Y-%m}"
    ent.act("report_progress", actual_start_on=today.isoformat(),
            investment_completed="1,250", percent_complete="30",
            **{"equipment_installed-1": today.isoformat()},
            problems="喷涂机器人进口报关受阻，需协调海关。")
    table = ent.page.inner_text("#progress table")
    assert "1,250" in table and "30%" in table and "待主管部门答复" in table
    ent.shot("progress-reported")

    agency = desk("miit1")
    agency.page.goto(live_server + "/queue")
    assert NAME in agency.page.inner_text("main") and "答复需协调解决的问题" in \
        agency.page.inner_text("main")
    agency.open_project(NAME)
    assert "喷涂机器人进口报关受阻" in agency.page.inner_text("#progress")
    agency.act("answer_problem", comment="已协调海关开通绿色通道，请于周五前提交材料。")
    agency.shot("progress-answered")

    ent.open_project(NAME)
    answer = ent.page.inner_text("#progress table")
    assert "已协调海关开通绿色通道" in answer and "miit1局" in answer
    assert ent.page.locator("#action-answer_problem").count() == 0
