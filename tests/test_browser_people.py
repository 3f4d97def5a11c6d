"""Leave cover in the browser: the city officer claims a declaration, names a colleague as
deputy for their leave, and the deputy accepts it for them — the timeline says so."""

from datetime import timedelta

import pytest

from app.models.base import china_today
from tests.helpers import Cast
from tests.test_browser_journey import Desk
from tests.test_browser_routing import walk
from tests.test_people import colleague

pytestmark = pytest.mark.slow


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("qiye_sz", "320506")
    cast.agency("sz_jia", "miit", "320500")
    colleague(cast, "sz_yi", "sz_jia")
    colleague(cast, "sz_bing", "sz_jia")
    return cast


def test_a_deputy_on_leave_cover_acts_for_the_city_officer(browser, live_server, clean_app,
                                                           cast, artifacts, backend):
    walk(clean_app, cast, "qiye_sz", "320506", [("submit", "qiye_sz")], "休假代理项目")
    jia = Desk(browser, live_server, "sz_jia", artifacts, backend[0])
    jia.open_project("休假代理项目")
    with jia.page.expect_navigation():
        jia.page.click("#handling form[action$='/claim'] button")
    assert "已由 sz_jia 经办人 认领" in jia.page.inner_text("#handling")

    # a colleague who is not the deputy sees whose it is and cannot take it
    bing = Desk(browser, live_server, "sz_bing", artifacts, backend[0])
    bing.open_project("休假代理项目")
    assert bing.page.locator("#action-accept").count() == 0
    assert "sz_jia 经办人 已认领此事项" in bing.page.inner_text(".actions-panel")

    jia.page.goto(live_server + "/delegations")
    jia.page.select_option("#in-deputy", "sz_yi")
    today = china_today()
    jia.page.fill("#in-starts_on", today.isoformat())
    jia.page.fill("#in-ends_on", (today + timedelta(days=7)).isoformat())
    jia.page.fill("#in-reason", "年休假")
    with jia.page.expect_navigation():
        jia.page.click("#delegation-form button[type=submit]")
    assert "生效中" in jia.page.inner_text("#delegations")
    jia.shot("30-leave-cover")

    yi = Desk(browser, live_server, "sz_yi", artifacts, backend[0])
    assert yi.page.inner_text("#owed-total .tile__value") == "1"
    yi.open_project("休假代理项目")
    yi.act("accept")
    assert yi.status() == "承诺备案"
    entry = yi.page.locator("#timeline li[data-trigger=accept]").inner_text()
    assert "由 sz_yi 科员 代 sz_jia 经办人 办理" in entry
    yi.shot("31-deputy-accepted-for-officer")
