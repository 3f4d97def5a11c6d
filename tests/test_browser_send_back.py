"""Send back to the county in the browser (驳回到指定环节): the city sends a county-recommended
liaocheng project back to the county with its reasons, the county reviews it again and
recommends it, and the city accepts it — by the deputy covering the city officer's leave
(职务代理). The timeline shows the loop."""

from datetime import timedelta

import pytest

from app.models.base import china_today
from tests.helpers import Cast
from tests.test_browser_journey import Desk
from tests.test_browser_routing import walk
from tests.test_people import colleague

pytestmark = pytest.mark.slow

NAME = "聊城轴承退回县级项目"


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("qiye_lc", "371502")  # 东昌府区
    cast.agency("lc_county", "miit", "371502")
    cast.agency("lc_jia", "miit", "371500")  # 聊城市工业和信息化局
    colleague(cast, "lc_yi", "lc_jia")
    return cast


def claim(desk):
    with desk.page.expect_navigation():
        desk.page.click("#handling form[action$='/claim'] button")


def test_city_sends_back_to_the_county_which_recommends_again_and_a_deputy_accepts(
        browser, live_server, clean_app, cast, artifacts, backend):
    walk(clean_app, cast, "qiye_lc", "371502",
         [("submit", "qiye_lc"), ("recommend", "lc_county")], NAME)
    jia = Desk(browser, live_server, "lc_jia", artifacts, backend[0])
    jia.open_project(NAME)
    claim(jia)
    # The city sends it back to the county's review, not to the enterprise, with reasons.
    jia.act("send_back", to="recommend", comment="设备清单与实际产能不符，请县级重新核实后推荐。")
    assert jia.status() == "已申报"
    sent = jia.page.locator("#timeline li[data-trigger=send_back]").inner_text()
    assert "退回至：县级初审推荐" in sent and "请县级重新核实" in sent
    assert "依据" not in sent  # no document provides the send-back: it cites nothing
    assert jia.page.locator("#action-accept").count() == 0
    jia.shot("40-sent-back-to-county")

    county = Desk(browser, live_server, "lc_county", artifacts, backend[0])
    assert county.page.inner_text("#owed-total .tile__value") == "1"
    county.open_project(NAME)
    county.act("recommend")
    county.shot("41-county-recommends-again")

    # The city officer claims the acceptance again, then goes on leave with a deputy.
    jia.open_project(NAME)
    claim(jia)
    jia.page.goto(live_server + "/delegations")
    jia.page.select_option("#in-deputy", "lc_yi")
    today = china_today()
    jia.page.fill("#in-starts_on", today.isoformat())
    jia.page.fill("#in-ends_on", (today + timedelta(days=5)).isoformat())
    jia.page.fill("#in-reason", "年休假")
    with jia.page.expect_navigation():
        jia.page.click("#delegation-form button[type=submit]")
    assert "生效中" in jia.page.inner_text("#delegations")

    yi = Desk(browser, live_server, "lc_yi", artifacts, backend[0])
    assert yi.page.inner_text("#owed-total .tile__value") == "1"
    yi.open_project(NAME)
    yi.act("accept")
    assert yi.status() == "承诺备案"
    accepted = yi.page.locator("#timeline li[data-trigger=accept]").inner_text()
    assert "由 lc_yi 科员 代 lc_jia 经办人 办理" in accepted
    # The loop, newest first: accepted, recommended again, sent back, recommended, submitted.
    trail = yi.page.eval_on_selector_all("#timeline li", "els => els.map(e => e.dataset.trigger)")
    assert [t for t in trail if t in ("accept", "recommend", "send_back", "submit")] == [
        "accept", "recommend", "send_back", "recommend", "submit"]
    yi.shot("42-deputy-accepts-after-the-loop")

    # The document's page lists the send-backs as the system's, with their targets.
    yi.page.goto(live_server + "/workflows/liaocheng-2024-draft")
    rows = yi.page.locator("#steps tr[data-trigger=send_back]")
    assert rows.count() == 2
    assert "退回至：县级初审推荐" in rows.nth(0).inner_text()
    assert "本系统功能，文件未规定此环节" in rows.nth(0).inner_text()
    assert "退回后不再重复办理" in yi.page.locator(
        "#steps tr[data-trigger=sign_commitment]").inner_text()


def test_city_accepts_with_items_to_follow_and_the_enterprise_supplies_them(
        browser, live_server, clean_app, cast, artifacts, backend):
    name = "聊城容缺受理项目"
    walk(clean_app, cast, "qiye_lc", "371502",
         [("submit", "qiye_lc"), ("recommend", "lc_county")], name)
    jia = Desk(browser, live_server, "lc_jia", artifacts, backend[0])
    jia.open_project(name)
    jia.act("accept", items_to_follow="环评批复文件\n设备采购合同", commitment="容缺承诺书-001")
    assert jia.status() == "承诺备案"
    assert "容缺受理，应于" in jia.page.locator("#timeline li[data-trigger=accept]").inner_text()

    ent = Desk(browser, live_server, "qiye_lc", artifacts, backend[0])
    ent.open_project(name)
    owed = ent.page.locator("#items-to-follow").inner_text()
    assert "环评批复文件" in owed and "设备采购合同" in owed and "容缺承诺书-001" in owed
    ent.shot("43-items-to-follow")
    ent.act("supply_items", items="环评批复文件")
    assert "环评批复文件" not in ent.page.locator("#items-to-follow").inner_text()
    ent.act("supply_items")  # the rest
    assert ent.page.locator("#items-to-follow").count() == 0
    supplied = ent.page.locator("#timeline li[data-trigger=supply_items]").first.inner_text()
    assert "已补齐：设备采购合同" in supplied
