"""Helpers for tests of the web pages through the Flask test client (real CSRF tokens)."""

import re
from html import unescape

from tests.helpers import PASSWORD

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path="/login") -> str:
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def signed_in(app, username, lang=None):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if lang:
        client.get(f"/?lang={lang}")
    return client


def post(client, path, data, token_from="/"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def text_of(response) -> str:
    """The visible text of a page (tags, scripts and styles removed)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", unescape(html))
