"""Throttling, sessions and token revocation hold across the workers of a gunicorn server
(as deployed): every count and every check lives in the database, none in a worker."""

import re

import httpx
import pytest

from tests.helpers import PASSWORD, Cast, gunicorn

pytestmark = pytest.mark.slow


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    return cast


def _fresh(base):
    """A client on a connection of its own, so that requests spread over the workers."""
    return httpx.Client(base_url=base, headers={"Connection": "close"}, timeout=30)


def _login(client, username, password):
    page = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


def test_thirty_wrong_passwords_through_two_workers(clean_app, backend, cast, tmp_path):
    with gunicorn(backend[1], tmp_path / "a") as (base, _server):
        codes = []
        for _attempt in range(30):
            with _fresh(base) as client:
                codes.append(_login(client, "ent_a", "guess").status_code)
        assert codes == [200] * 10 + [429] * 20
        with _fresh(base) as client:  # the same client, the right password: still refused
            assert _login(client, "ent_a", PASSWORD).status_code == 429


def test_a_session_ended_on_one_worker_is_ended_on_all(clean_app, backend, cast, tmp_path):
    with gunicorn(backend[1], tmp_path / "a") as (base, _server):
        with _fresh(base) as owner:
            assert _login(owner, "ent_a", PASSWORD).status_code == 302
            copied = dict(owner.cookies)
            assert owner.get("/").status_code == 200
            home = owner.get("/").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
            assert owner.post("/logout", data={"csrf_token": token}).status_code == 302
        for _request in range(6):
            with httpx.Client(base_url=base, cookies=copied, timeout=30,
                              headers={"Connection": "close", "User-Agent": "other"}) as thief:
                answer = thief.get("/")
                assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_revoked_token_is_refused_by_every_worker(clean_app, backend, cast, tmp_path):
    runner = clean_app.test_cli_runner()
    headers = {"Authorization": f"Bearer {cast.tokens['ent_a']}", "Connection": "close"}
    with gunicorn(backend[1], tmp_path / "a") as (base, _server):
        for _request in range(4):
            assert httpx.get(base + "/api/v1/projects", headers=headers).status_code == 200
        listing = runner.invoke(args=["tokens", "list", "--user", "ent_a"]).output
        token_id = listing.splitlines()[1].split("\t")[0]
        assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
        for _request in range(6):
            assert httpx.get(base + "/api/v1/projects", headers=headers).status_code == 401
