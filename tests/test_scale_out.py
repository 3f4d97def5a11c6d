"""Scale-out: several app hosts against one PostgreSQL behave as one system. Two gunicorn
servers on different ports share nothing but the database and the secret key; banks
claiming one project through both at once still produce exactly one lead bank, and a user
signed in on one host is signed in on the other."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from app.extensions import db
from tests.helpers import PASSWORD, gunicorn, whitelist_cast, whitelisted_projects

BANKS = 20
pytestmark = pytest.mark.slow


@pytest.fixture
def cast(clean_app, backend):
    if backend[0] != "postgresql":
        pytest.skip("hosts share a database server; SQLite is a single-host store")
    return whitelist_cast(clean_app, BANKS, county="230110")  # heilongjiang: banks claim


def test_twenty_banks_claiming_through_two_hosts_one_wins(clean_app, backend, cast, tmp_path):
    [(project_id, version)] = whitelisted_projects(clean_app, cast, 1)
    with (gunicorn(backend[1], tmp_path / "a") as (host_a, _a),
          gunicorn(backend[1], tmp_path / "b") as (host_b, _b)):
        barrier = threading.Barrier(BANKS)

        def claim(i):
            host = (host_a, host_b)[i % 2]
            with httpx.Client(base_url=host, timeout=30) as client:
                headers = {"Authorization": f"Bearer {cast.tokens[f'bank{i:02d}']}"}
                barrier.wait()  # all twenty at the same moment, half on each host
                response = client.post(f"/api/v1/projects/{project_id}/transitions",
                                       headers=headers,
                                       json={"trigger": "claim_lead_bank", "version": version})
                return host, response.status_code, response.json()

        with ThreadPoolExecutor(BANKS) as pool:
            answers = list(pool.map(claim, range(BANKS)))

    codes = sorted(code for _host, code, _body in answers)
    assert codes == [200] + [409] * (BANKS - 1), answers
    losers = [body for _host, code, body in answers if code == 409]
    assert all(body.get("message") for body in losers)
    # losers on both hosts saw the same conflict, not an error of their own host
    assert {host for host, code, _body in answers if code == 409} == {host_a, host_b}
    with clean_app.app_context(), db.engine.connect() as conn:
        claims = conn.execute(text("SELECT COUNT(*) FROM bank_claims")).scalar()
        events = conn.execute(text(
            "SELECT COUNT(*) FROM workflow_events WHERE trigger = 'claim_lead_bank'")).scalar()
    assert (claims, events) == (1, 1)


def test_a_session_from_one_host_is_valid_on_another(clean_app, backend, cast, tmp_path):
    with (gunicorn(backend[1], tmp_path / "a") as (host_a, _a),
          gunicorn(backend[1], tmp_path / "b") as (host_b, _b)):
        with httpx.Client(base_url=host_a) as on_a:
            page = on_a.get("/login").text
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            signed_in = on_a.post("/login", data={"username": "miit", "password": PASSWORD,
                                                  "csrf_token": token})
            assert signed_in.status_code == 302
            cookies = on_a.cookies
        with httpx.Client(base_url=host_b, cookies=cookies) as on_b:
            home = on_b.get("/", follow_redirects=True)
            assert home.status_code == 200
            assert "miit 经办人" in home.text  # the display name: signed in on host B too
            assert "/login" not in str(home.url)
