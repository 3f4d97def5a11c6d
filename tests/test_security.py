"""Sign-in and session hardening, throttling, headers, the security log, maker-checker."""

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from app import create_app
from app.accounts.operations import _HASHERS
from app.config import TestConfig
from app.extensions import db
from app.models import SecurityEvent, china_today
from tests.helpers import PASSWORD, Cast, project_payload
from tests.web import csrf_token, signed_in


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.enterprise("ent_b")
    cast.agency("miit", "miit", "320500")
    cast.agency("miit2", "miit", "320500")
    return cast


def events(app, kind=None):
    with app.app_context():
        query = select(SecurityEvent.kind, SecurityEvent.username).order_by(SecurityEvent.id)
        if kind:
            query = query.where(SecurityEvent.kind == kind)
        return db.session.execute(query).all()


def test_production_hashing_is_argon2id_with_owasp_parameters():
    hashed = _HASHERS["owasp"].hash("s3cret")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PasswordHasher().verify(hashed, "s3cret")


def login(client, username, password):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})


def test_session_cookie_flags_new_session_and_idle_expiry(clean_app, cast):
    client = clean_app.test_client()
    with client.session_transaction() as planted:
        planted["planted"] = "by someone else"
    response = login(client, "ent_a", PASSWORD)
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as fresh:
        assert "planted" not in fresh  # a new session at sign-in
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert abs(expires - datetime.now(UTC) - timedelta(minutes=30)) < timedelta(minutes=1)
    again = client.get("/")  # every request pushes the idle deadline on
    assert any(c.startswith("session=") for c in again.headers.getlist("Set-Cookie"))


def test_secure_cookies_in_production_configuration(clean_app):
    app = create_app(type("Prod", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": clean_app.config["SQLALCHEMY_DATABASE_URI"],
        "SESSION_COOKIE_SECURE": True}))
    cast = Cast(app)
    cast.enterprise("ent_s")
    response = login(app.test_client(), "ent_s", PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie


def test_ten_wrong_passwords_lock_the_account(clean_app, cast):
    client = clean_app.test_client()
    for _attempt in range(10):
        assert login(client, "ent_a", "guess").status_code == 200
    locked = login(client, "ent_a", PASSWORD)  # even the right password, for a while
    assert locked.status_code == 429
    assert "锁定" in locked.get_data(as_text=True)
    assert login(client, "ent_b", PASSWORD).status_code == 302  # other accounts unaffected
    log = events(clean_app)
    assert log.count(("login_failed", "ent_a")) == 10
    assert ("login_locked", "ent_a") in log and ("login_ok", "ent_b") in log


def test_security_headers(clean_app, cast):
    response = clean_app.test_client().get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)  # no inline script anywhere


def test_refusals_are_logged(clean_app, cast):
    assert signed_in(clean_app, "ent_a").get("/settings").status_code == 403
    bad = clean_app.test_client().get("/api/v1/projects",
                                      headers={"Authorization": "Bearer jg_forged"})
    assert bad.status_code == 401
    kinds = [kind for kind, _user in events(clean_app)]
    assert "access_denied" in kinds and "api_unauthorized" in kinds


def test_the_clerk_who_accepted_cannot_verify_completion(clean_app, client, cast):
    ent = cast.api(client, "ent_a")
    p = ent.post("/projects", project_payload(financing_need="0",
                                              project_code="2603-320506-07-02-000001")).json
    p = ent.fire(p["id"], "submit", 1).json
    p = cast.api(client, "miit").fire(p["id"], "accept", p["version"]).json
    p = ent.fire(p["id"], "sign_commitment", p["version"], commitment_accepted=True).json
    cast.agency("ndrc", "ndrc", "320500")
    p = cast.api(client, "ndrc").fire(p["id"], "file", p["version"], filing_number="备1").json
    p = ent.fire(p["id"], "report_completion", p["version"], actual_total_investment="4900",
                 actual_equipment_investment="3900",
                 completed_on=china_today().isoformat()).json
    checked = {"checked_total_investment": "4900", "checked_equipment_investment": "3900",
               "equipment_delivered": True, "retired_disposed": True}
    refused = cast.api(client, "miit").fire(p["id"], "verify_completion", p["version"], **checked)
    assert refused.status_code == 403 and "Separation of duties" in refused.json["message"]
    offered = cast.api(client, "miit").get(f"/projects/{p['id']}").json["available_triggers"]
    assert "verify_completion" not in {t["trigger"] for t in offered}
    assert cast.api(client, "miit2").fire(p["id"], "verify_completion", p["version"],
                                          **checked).status_code == 200


def test_a_linked_agency_cannot_decide(clean_app, client, cast):
    from app.models import OrgLink, User

    with clean_app.app_context():
        agency = db.session.scalar(select(User).where(User.username == "miit")).organization_id
        firm = db.session.scalar(select(User).where(User.username == "ent_a")).organization_id
        db.session.add(OrgLink(agency_id=agency, enterprise_id=firm, note="主管部门"))
        db.session.commit()
    ent = cast.api(client, "ent_a")
    p = ent.post("/projects", project_payload()).json
    p = ent.fire(p["id"], "submit", 1).json
    refused = cast.api(client, "miit").fire(p["id"], "accept", p["version"])
    assert refused.status_code == 403 and "conflict of interest" in refused.json["message"]
    assert cast.api(client, "miit2").fire(p["id"], "accept", p["version"]).status_code == 200
