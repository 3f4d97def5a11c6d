"""The whole journey in a real browser, by clicks and typing only, across the logins of an
enterprise, its agencies and a bank; screenshots of the key pages are kept as artifacts."""

import os

import pytest

from app.models.base import china_today
from tests.helpers import PASSWORD, Cast

pytestmark = pytest.mark.slow


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("qiye")
    for kind in ("miit", "ndrc", "pboc"):
        cast.agency(f"{kind}1", kind, "320500")
    cast.agency("miit2", "miit", "320500")  # checks completion: not the clerk who accepted
    cast.bank("yinhang")
    return cast


class Desk:
    """One person at their browser."""

    def __init__(self, browser, base, username, shots, backend):
        self.context = browser.new_context(viewport={"width": 1366, "height": 768},
                                           locale="zh-CN")
        self.page = self.context.new_page()
        self.base, self.shots, self.backend = base, shots, backend
        self.page.goto(base + "/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("form button[type=submit]")
        self.page.wait_for_url(base + "/")

    def open_project(self, name):
        self.page.goto(self.base + "/projects")
        self.page.click(f"table a:text-is('{name}')")
        self.page.wait_for_selector("#timeline")

    def act(self, trigger, **inputs):
        """Open the action, fill its form, confirm, and wait for the page to come back."""
        self.page.click(f"#action-{trigger} summary")
        for key, value in inputs.items():
            selector = f"#in-{trigger}-{key}"
            if value is True:
                self.page.check(selector)
            elif self.page.locator(selector).evaluate("e => e.tagName") == "SELECT":
                self.page.select_option(selector, value)
            else:
                self.page.fill(selector, value)
        with self.page.expect_navigation():
            self.page.click(f"#action-{trigger} form button[type=submit]")
        assert self.page.locator(".flash--success").count() == 1, self.page.content()[:2000]

    def shot(self, name):
        self.page.screenshot(path=os.path.join(self.shots, f"{self.backend}-{name}.png"),
                             full_page=True)

    def status(self):
        return self.page.locator(".page-title .badge").inner_text()


def test_declaration_to_completion_in_the_browser(browser, live_server, cast, artifacts, backend):
    name = "数控机床更新改造项目（浏览器）"
    today = china_today().isoformat()
    desk = lambda user: Desk(browser, live_server, user, artifacts, backend[0])  # noqa: E731

    ent = desk("qiye")
    ent.page.click("text=新建申报")
    p = ent.page
    p.fill("#name", name)
    p.select_option("#industry", "高端装备")
    p.select_option("#task", "advanced_equipment")
    p.fill("#content", "更新五轴数控机床2台，淘汰服役超过10年的普通车床4台。")
    p.fill("#planned_start", "2026-03-01")
    p.fill("#planned_end", "2026-12-31")
    p.fill("#project_code", "2603-320506-07-02-204526")
    p.fill("#total_investment", "5,000")
    p.fill("#fixed_asset_investment", "4600")
    p.fill("#equipment_investment", "4000")
    assert "符合承诺备案条件" in p.inner_text("#eligibility")  # shown while typing
    p.fill("#financing_need", "2000")
    p.fill("#financing_term_months", "36")
    p.fill("#equipment-0-name", "五轴数控机床")
    p.fill("#equipment-0-quantity", "2")
    p.fill("#equipment-0-unit_price", "2000")
    p.select_option("#equipment-0-energy_grade", "2")
    p.click("button[name=add_row]")  # a row added in the page
    p.select_option("#equipment-1-kind", "old")
    p.fill("#equipment-1-name", "普通车床")
    p.fill("#equipment-1-quantity", "4")
    p.fill("#equipment-1-years_in_service", "14")
    ent.shot("01-declaration-form")
    with p.expect_navigation():
        p.click("button[name=submit]")
    assert not p.locator(".field__error, .flash--error").all_inner_texts()
    assert ent.status() == "已申报"
    assert p.locator("table td:text-is('普通车床')").count() == 1
    ent.shot("02-declared")

    miit = desk("miit1")
    miit.page.click("text=审核队列")
    miit.page.click(f"table a:text-is('{name}')")
    miit.act("return", comment="请补充设备能效等级证明材料。")
    assert miit.status() == "退回补正"

    ent.open_project(name)
    assert "请补充设备能效等级证明材料。" in ent.page.inner_text(".flash--warning")
    with ent.page.expect_navigation():
        ent.page.click("text=修改")
    assert "请补充设备能效等级证明材料。" in ent.page.inner_text(".flash--warning")
    ent.page.fill("#content", "更新五轴数控机床2台（能效二级），淘汰服役超过10年的普通车床4台。")
    with ent.page.expect_navigation():
        ent.page.click("button[name=submit]")
    assert ent.status() == "已申报"

    miit.open_project(name)
    miit.act("accept", comment="符合入库条件。")
    ent.open_project(name)
    ent.act("sign_commitment", commitment_accepted=True)
    ndrc = desk("ndrc1")
    ndrc.open_project(name)
    ndrc.act("file", filing_number="苏吴行审备〔2026〕118号", comment="承诺备案。")
    assert ndrc.status() == "融资对接"
    miit.open_project(name)
    miit.act("whitelist", list="relending", batch="2026-1", comment="列入再贷款清单。")

    bank = desk("yinhang")
    bank.page.click("text=融资对接")
    bank.page.click(f"table a:text-is('{name}')")
    bank.act("express_interest")
    bank.act("approve_credit", amount="2,000", approved_on=today)
    bank.act("sign_contract", amount="2,000", signed_on=today, contract_number="苏银贷〔2026〕77号")
    assert bank.status() == "已确定主办行"  # no agency designates under the national plan
    assert "牵头银行" in bank.page.inner_text("#finance")

    ent.open_project(name)
    ent.act("report_completion", actual_total_investment="4,980.5",
            actual_equipment_investment="3,990", completed_on=today)
    miit.open_project(name)
    assert miit.page.locator("#action-verify_completion").count() == 0  # maker-checker
    checker = desk("miit2")
    checker.open_project(name)
    checker.act("verify_completion", checked_total_investment="4,980.5",
                checked_equipment_investment="3,990", equipment_delivered=True,
                retired_disposed=True, comment="核验通过。")
    assert checker.status() == "已竣工"
    checker.shot("03-completed-project")

    timeline = ent.page
    ent.open_project(name)
    steps = timeline.locator(".timeline__item").evaluate_all(
        "items => items.map(i => i.dataset.trigger)")
    assert steps[::-1] == ["create", "submit", "return", "edit", "submit", "accept",
                           "sign_commitment", "file", "whitelist", "express_interest",
                           "approve_credit", "sign_contract", "report_completion",
                           "verify_completion"]
    text = timeline.inner_text("#timeline")
    assert "《推动工业领域设备更新实施方案》" in text and "三(四)" in text
    assert ".txt" not in text  # the document by its name, never a file
    assert timeline.locator(".stages__step--done").count() == 5
    ent.shot("04-timeline")
    ent.page.set_viewport_size({"width": 390, "height": 844})  # a phone
    assert ent.page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    ent.shot("05-project-on-phone")
    # told of each of the 8 steps others took: return, accept, file, whitelist, the bank's
    # interest, credit and contract, verify
    assert ent.page.inner_text(".bell__count") == "8"
