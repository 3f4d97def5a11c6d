"""Two-step sign-in in a real browser: an agency clerk enrols an authenticator (the key read
from the page, the code computed as an authenticator app would), signs out, signs in with
password and code, and once with a recovery code — which does not work twice."""

import os
import time

import pyotp
import pytest

from tests.helpers import PASSWORD, Cast

pytestmark = pytest.mark.slow


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.agency("miit1", "miit", "320500")
    return cast


def test_enrol_and_sign_in_with_a_second_factor(browser, live_server, cast, artifacts, backend):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    shot = lambda name: page.screenshot(  # noqa: E731
        path=os.path.join(artifacts, f"{backend[0]}-two-factor-{name}.png"), full_page=True)

    def sign_in_with_password():
        page.goto(live_server + "/login")
        page.fill("#username", "miit1")
        page.fill("#password", PASSWORD)
        page.click(".auth-card form button[type=submit]")

    def sign_out():
        page.click("header form button[type=submit]")
        page.wait_for_url(live_server + "/login")

    sign_in_with_password()
    page.wait_for_url(live_server + "/")
    page.click(".app-header__name a")  # the account page, from one's name
    page.wait_for_url(live_server + "/account/password")
    page.click("text=两步登录")
    page.wait_for_url(live_server + "/account/two-factor")
    assert page.locator(".qr svg").count() == 1
    shot("enrol")
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click(".auth-card form button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    shot("recovery-codes")
    sign_out()

    sign_in_with_password()
    page.wait_for_url("**/login/code**")
    page.fill("#code", pyotp.TOTP(secret).at(int(time.time()) + 30))  # a step not yet used
    page.click(".auth-card form button[type=submit]")
    page.wait_for_url(live_server + "/")
    assert "miit1 经办人" in page.locator(".app-header__name").inner_text()
    sign_out()

    sign_in_with_password()
    page.wait_for_url("**/login/code**")
    page.fill("#code", codes[0])
    page.click(".auth-card form button[type=submit]")
    page.wait_for_url(live_server + "/")
    sign_out()

    sign_in_with_password()
    page.wait_for_url("**/login/code**")
    page.fill("#code", codes[0])  # used up
    page.click(".auth-card form button[type=submit]")
    page.wait_for_selector(".field__error")
    assert "验证码无效" in page.locator(".field__error").inner_text()
    shot("recovery-code-used")
    context.close()
