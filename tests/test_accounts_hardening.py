"""Accounts and sessions after the outside probe (issue 17): redirects after sign-in,
sessions that end on the server's word, API token lifetimes, throttling that cannot lock the
owner out, timing, password strength, floods of anonymous requests, caching headers and the
second factor."""

import re
import time

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from app import create_app
from app.accounts import operations as accounts
from app.config import TestConfig
from app.extensions import db
from app.models import ApiToken, SecurityEvent, SecurityTally, User
from tests.helpers import PASSWORD, Cast
from tests.web import csrf_token, signed_in


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.enterprise("ent_b")
    cast.agency("miit", "miit", "320500")
    return cast


def login(client, username, password, query="", **form):
    return client.post("/login" + query, data={"username": username, "password": password,
                                               "csrf_token": csrf_token(client), **form})


def security_rows(app, kind):
    with app.app_context():
        return db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind)).all()


# -- 2: only a path of this site is followed after sign-in --------------------------------


@pytest.mark.parametrize("target", [
    "/%09/evil.example", "//evil.example", "/%0D%0A/x", "/%5Cevil.example", "/\\evil.example",
    "https://evil.example/", "http:/evil.example", "%2F%2Fevil.example", "/%20/evil.example",
    "javascript:alert(1)", "/%E2%80%8B/evil.example"])
def test_sign_in_never_redirects_off_site(clean_app, cast, target):
    answer = login(clean_app.test_client(), "ent_a", PASSWORD, query="?next=" + target)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"


def test_sign_in_follows_a_path_of_this_site(clean_app, cast):
    answer = login(clean_app.test_client(), "ent_a", PASSWORD,
                   query="?next=/projects%3Fstatus%3Ddeclared")
    assert answer.headers["Location"] == "/projects?status=declared"


# -- 3: sessions end on the server's word; tokens expire and can be revoked --------------


def _copy_session(source, app, user_agent="curl/8.0"):
    thief = app.test_client()
    thief.environ_base["HTTP_USER_AGENT"] = user_agent
    thief.set_cookie("session", source.get_cookie("session").value)
    return thief


def _signed_in_page(client) -> bool:
    answer = client.get("/")
    return answer.status_code == 200


def test_a_cookie_copied_before_sign_out_is_dead_after_it(clean_app, cast):
    owner = signed_in(clean_app, "ent_a")
    thief = _copy_session(owner, clean_app)
    assert _signed_in_page(thief)  # the copy works while the owner is signed in
    owner.post("/logout", data={"csrf_token": csrf_token(owner, "/")})
    answer = thief.get("/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert thief.get("/api/v1/projects").status_code == 401  # no cookie honoured there


@pytest.mark.parametrize("change", ["password", "deactivate", "admin"])
def test_changes_to_an_account_end_its_sessions(clean_app, cast, change):
    session = signed_in(clean_app, "ent_a")
    with clean_app.app_context():
        user = cast.user("ent_a")
        if change == "password":
            accounts.set_password(user, "a much longer passphrase 2026")
        elif change == "deactivate":
            accounts.set_active(user, False)
        else:
            accounts.set_admin(user, True)
    assert session.get("/").status_code == 302


def test_changing_ones_password_keeps_this_session_and_ends_the_others(clean_app, cast):
    here, elsewhere = signed_in(clean_app, "ent_a"), signed_in(clean_app, "ent_a")
    page = here.get("/account/password")
    assert page.status_code == 200 and "修改密码" in page.get_data(as_text=True)
    form = {"current_password": PASSWORD, "password": "a much longer passphrase 2026",
            "confirm": "a much longer passphrase 2026"}
    assert here.post("/account/password", data=form).status_code == 400  # no CSRF token
    wrong = here.post("/account/password", data={
        **form, "current_password": "guess", "csrf_token": csrf_token(here, "/account/password")})
    assert wrong.status_code == 422 and "这不是您的当前密码" in wrong.get_data(as_text=True)
    weak = here.post("/account/password", data={
        **form, "password": "password1234", "confirm": "password1234",
        "csrf_token": csrf_token(here, "/account/password")})
    assert weak.status_code == 422 and "该密码过于常见" in weak.get_data(as_text=True)
    done = here.post("/account/password", data={
        **form, "csrf_token": csrf_token(here, "/account/password")})
    assert done.status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    fresh = clean_app.test_client()
    assert login(fresh, "ent_a", PASSWORD).status_code == 200
    assert login(fresh, "ent_a", "a much longer passphrase 2026").status_code == 302


def test_a_borrowed_session_cannot_guess_the_password(clean_app, cast):
    borrowed = signed_in(clean_app, "ent_a")
    form = {"password": "a much longer passphrase 2026",
            "confirm": "a much longer passphrase 2026"}
    answers = [borrowed.post("/account/password", data={
        **form, "current_password": f"guess{i}",
        "csrf_token": csrf_token(borrowed, "/account/password")}).status_code for i in range(11)]
    assert answers == [422] * 11
    last = borrowed.post("/account/password", data={
        **form, "current_password": PASSWORD,
        "csrf_token": csrf_token(borrowed, "/account/password")})
    assert "账号已被暂时锁定" in last.get_data(as_text=True)  # even the right one, now


def test_tokens_expire_record_their_use_and_are_listed_and_revoked(clean_app, client, cast,
                                                                   runner):
    ok = lambda token: client.get("/api/v1/projects", headers={  # noqa: E731
        "Authorization": f"Bearer {token}"}).status_code
    with clean_app.app_context():
        stale = accounts.issue_token(cast.user("ent_a"), days=0)
        token = db.session.scalar(select(ApiToken).where(ApiToken.user.has(username="ent_b")))
        assert token.expires_at is not None and token.last_used_at is None
        days = round((token.expires_at - token.created_at).total_seconds() / 86400)
    assert days == 90
    assert ok(stale) == 401
    assert ok(cast.tokens["ent_b"]) == 200
    listing = runner.invoke(args=["tokens", "list", "--user", "ent_b"])
    assert listing.exit_code == 0
    [row] = [line.split("\t") for line in listing.output.splitlines()[1:]]
    assert row[1] == "ent_b" and row[4] != "-" and row[5] == "-"  # used, not revoked
    revoked = runner.invoke(args=["tokens", "revoke", row[0]])
    assert revoked.exit_code == 0, revoked.output
    assert ok(cast.tokens["ent_b"]) == 401
    assert runner.invoke(args=["tokens", "revoke", "999999"]).exit_code != 0


# -- 4: throttling by account and by client, the owner never locked out -------------------


def from_address(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_locked_account_still_lets_its_owner_in_from_elsewhere(clean_app, cast):
    guesser = from_address(clean_app, "203.0.113.9")
    for _attempt in range(10):
        assert login(guesser, "ent_a", "guess").status_code == 200
    assert login(guesser, "ent_a", PASSWORD).status_code == 429  # the guesser is stopped
    owner = from_address(clean_app, "198.51.100.7")
    assert login(owner, "ent_a", PASSWORD).status_code == 302  # the owner is not
    # a second address that guesses wrong on the locked account gets one try
    other = from_address(clean_app, "192.0.2.1")
    assert login(other, "ent_a", "guess").status_code == 200
    assert login(other, "ent_a", PASSWORD).status_code == 429
    assert len(security_rows(clean_app, "login_locked")) == 2  # once per client, not per try


def test_one_client_guessing_across_accounts_is_stopped(clean_app, cast, monkeypatch):
    monkeypatch.setitem(clean_app.config, "LOGIN_CLIENT_LIMIT", 5)
    spray = from_address(clean_app, "203.0.113.10")
    answers = [login(spray, name, "guess").status_code
               for name in ("ent_a", "ent_b", "miit", "nobody1", "nobody2", "nobody3")]
    assert answers == [200] * 5 + [429]
    assert login(spray, "ent_b", PASSWORD).status_code == 429
    assert login(from_address(clean_app, "198.51.100.8"), "ent_b", PASSWORD).status_code == 302


# -- 5: an unknown user costs a password hash too -----------------------------------------


def test_an_unknown_user_is_checked_against_a_hash_too(clean_app, cast, monkeypatch):
    calls = []
    real = PasswordHasher.verify

    def counting(self, hashed, password):
        calls.append(hashed)
        return real(self, hashed, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    client = clean_app.test_client()
    assert login(client, "ent_a", "guess").status_code == 200
    assert len(calls) == 1
    assert login(client, "no-such-user", "guess").status_code == 200
    assert len(calls) == 2 and calls[1].startswith("$argon2id$")


# -- 6: weak passwords are refused --------------------------------------------------------


@pytest.mark.parametrize("password", ["a", "", "short-pw", "password1234", "qwertyuiop123",
                                      "aaaaaaaaaaaaaaaa"])
def test_users_create_refuses_weak_passwords(clean_app, cast, runner, password):
    result = runner.invoke(args=["users", "create", "clerk9", "--org", "miit局",
                                 "--password", password])
    assert result.exit_code != 0
    assert "password" in result.output
    with clean_app.app_context():
        assert cast.user("clerk9") is None


def test_users_create_takes_a_strong_password(clean_app, cast, runner):
    result = runner.invoke(args=["users", "create", "clerk9", "--org", "miit局",
                                 "--password", "kept in a passphrase manager 2026"])
    assert result.exit_code == 0, result.output


# -- 10: floods of anonymous API requests -------------------------------------------------


def test_anonymous_api_floods_are_counted_in_one_row_and_throttled(clean_app, cast, client):
    limit = clean_app.config["API_ANONYMOUS_LIMIT"]
    codes = [client.get("/api/v1/projects", headers={"Authorization": f"Bearer jg_{i}"})
             for i in range(limit + 20)]
    assert [c.status_code for c in codes] == [401] * limit + [429] * 20
    assert codes[-1].is_json and codes[-1].json["message"]
    assert codes[-1].headers["Retry-After"] == "60"
    assert len(security_rows(clean_app, "api_unauthorized")) == 1
    with clean_app.app_context():
        [tally] = db.session.scalars(select(SecurityTally).where(
            SecurityTally.kind == "api_unauthorized")).all()
        assert tally.count == limit  # nothing written once throttled
    # a caller with a valid token is not affected
    assert client.get("/api/v1/projects", headers={
        "Authorization": f"Bearer {cast.tokens['ent_a']}"}).status_code == 200


# -- 11: caching and transport headers ----------------------------------------------------


def test_personal_answers_are_never_stored(clean_app, cast, client):
    assert "no-store" not in clean_app.test_client().get("/login").headers.get(
        "Cache-Control", "")
    page = signed_in(clean_app, "ent_a")
    for path in ("/", "/projects", "/account/password"):
        assert page.get(path).headers["Cache-Control"] == "no-store", path
    api = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {cast.tokens['ent_a']}"})
    assert api.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/projects").headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in api.headers


def test_behind_tls_cookies_are_secure_and_hsts_is_sent(clean_app):
    app = create_app(type("Tls", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": clean_app.config["SQLALCHEMY_DATABASE_URI"],
        "PREFERRED_URL_SCHEME": "https"}))
    Cast(app).enterprise("ent_tls")
    client = app.test_client()
    answer = login(client, "ent_tls", PASSWORD)
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie


# -- 12: a second factor ------------------------------------------------------------------


def _enrol(app, username):
    client = signed_in(app, username)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    done = client.post("/account/two-factor", data={
        "code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(client, "/account/two-factor")})
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _code_step(client, code):
    return client.post("/login/code", data={"code": code,
                                            "csrf_token": csrf_token(client, "/login/code")})


def test_sign_in_with_a_second_factor(clean_app, cast):
    elsewhere = signed_in(clean_app, "miit")
    secret, codes = _enrol(clean_app, "miit")
    assert elsewhere.get("/").status_code == 302  # enrolling ends the other sessions
    with clean_app.app_context():
        stored = cast.user("miit").recovery_codes
    assert not any(code in stored for code in codes)  # kept as digests only
    client = clean_app.test_client()
    first = login(client, "miit", PASSWORD)
    assert first.status_code == 302 and first.headers["Location"].startswith("/login/code")
    assert client.get("/").status_code == 302  # not signed in on the password alone
    wrong = _code_step(client, "000000")
    assert wrong.status_code == 200 and "验证码无效" in wrong.get_data(as_text=True)
    later = pyotp.TOTP(secret).at(int(time.time()) + 30)  # enrolment used the current step
    assert _code_step(client, later).status_code == 302
    assert client.get("/").status_code == 200
    # the same code again is refused; a recovery code works once
    again = clean_app.test_client()
    login(again, "miit", PASSWORD)
    assert _code_step(again, later).status_code == 200
    assert _code_step(again, codes[0].upper()).status_code == 302
    third = clean_app.test_client()
    login(third, "miit", PASSWORD)
    assert _code_step(third, codes[0]).status_code == 200


def test_an_organisation_can_require_the_second_factor(clean_app, cast, runner):
    assert runner.invoke(args=["users", "two-factor", "miit局", "--required"]).exit_code == 0
    client = signed_in(clean_app, "miit")
    answer = client.get("/projects")
    assert answer.status_code == 302 and answer.headers["Location"] == "/account/two-factor"
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "您所在单位要求使用两步登录" in page
    assert signed_in(clean_app, "ent_a").get("/projects").status_code == 200  # others not
    with clean_app.app_context():
        assert db.session.scalar(select(User.totp_secret).where(User.username == "miit")) is None


# -- 6 (admin): an administrator's password reset meets the policy too ---------------------


def test_an_administrator_resets_passwords_deactivates_and_requires_two_factor(clean_app,
                                                                              cast):
    cast.admin("root")
    with clean_app.app_context():
        target = str(cast.user("ent_a").public_id)
    victim_session = signed_in(clean_app, "ent_a")
    assert signed_in(clean_app, "ent_b").get(f"/admin/users/{target}").status_code == 403
    admin = signed_in(clean_app, "root")
    listing = admin.get("/admin/users?q=ent_")
    assert listing.status_code == 200 and "ent_a" in listing.get_data(as_text=True)
    page = f"/admin/users/{target}"
    weak = admin.post(page, data={"action": "password", "password": "password1234",
                                  "csrf_token": csrf_token(admin, page)})
    assert weak.status_code == 422 and "该密码过于常见" in weak.get_data(as_text=True)
    assert victim_session.get("/").status_code == 200  # nothing changed
    strong = admin.post(page, data={"action": "password",
                                    "password": "handed over in a sealed envelope",
                                    "csrf_token": csrf_token(admin, page)})
    assert strong.status_code == 302
    assert victim_session.get("/").status_code == 302  # the user's sessions ended
    fresh = clean_app.test_client()
    assert login(fresh, "ent_a", "handed over in a sealed envelope").status_code == 302
    assert admin.post(page, data={"action": "deactivate",
                                  "csrf_token": csrf_token(admin, page)}).status_code == 302
    assert fresh.get("/").status_code == 302
    assert admin.post(page, data={"action": "require_two_factor",
                                  "csrf_token": csrf_token(admin, page)}).status_code == 302
    with clean_app.app_context():
        assert cast.user("ent_a").organization.require_two_factor


def test_spent_throttling_counts_are_forgotten_by_the_daily_task(clean_app, cast):
    from datetime import timedelta

    from app.jobs import schedule
    from app.models import utcnow

    login(clean_app.test_client(), "ent_a", "guess")
    with clean_app.app_context():
        db.session.add(SecurityTally(kind="login_account", key="ent_a", count=7,
                                     window_start=utcnow() - timedelta(days=3),
                                     last_at=utcnow() - timedelta(days=3)))
        db.session.commit()
        assert schedule.start(next(t for t in schedule.PERIODIC
                                   if t.name == "security_tallies"))
        left = db.session.scalars(select(SecurityTally.count).where(
            SecurityTally.kind == "login_account")).all()
    assert left == [1]  # today's failure still counts; the old window is gone
