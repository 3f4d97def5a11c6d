"""Switching to English translates the whole UI: after removing the data (names, clauses of
the Chinese documents, places), no Chinese character or full-width punctuation is left."""

import re

import pytest
from sqlalchemy import String, Text, select

from app.demo import DEMO_PASSWORD, seed
from app.extensions import db
from app.labels import key_industries
from app.models import Jurisdiction, Project, Status, WorkflowEvent
from app.projects.page import reason_points
from app.rules.parameters import all_entries
from app.workflow import workflows
from tests.web import csrf_token, text_of

CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture
def world(clean_app):
    with clean_app.app_context():
        seed()
    return clean_app


def data_strings(app) -> list[str]:
    """Every text the database and the definitions hold: data, shown as entered."""
    found = set()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if columns:
                for row in db.session.execute(select(*columns)):
                    found.update(v for v in row if isinstance(v, str))
        found.update(j.full_name for j in db.session.scalars(select(Jurisdiction)))
        for d in workflows().definitions.values():
            found.update([d.title, d.document, *d.notes.splitlines(), *d.issuers])
            found.update(d.assumed.values())
            found.update(text for pair in d.clauses.items() for text in pair)
            found.update(text for t in d.transitions for text in (t.quote, t.note))
            found.update(text for t in d.targets for text in (t.label, t.quote))
            found.update(text for s in d.settings.values() for text in (s.label,))
            if d.energy_grade:
                found.update([d.energy_grade.label, d.energy_grade.basis.quote])
            found.update(quote for _clause, quote in d.dated.values())
        for entries in all_entries().values():  # the parameters' labels and sources
            found.update(text for e in entries for text in (e.label, e.basis.source or ""))
    # a return's comment is also shown point by point (its reasons as a checklist)
    with app.app_context():
        for comment in db.session.scalars(select(WorkflowEvent.comment)
                                          .where(WorkflowEvent.trigger == "return")):
            found.update(reason_points(comment))
    found.update(key_industries())  # reference data: the documents' own industry names
    found.add("中文")  # the language switch names each language in itself
    return sorted((s for s in found if CHINESE.search(s)), key=len, reverse=True)


def sign_in_english(app, username):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                "csrf_token": csrf_token(client)})
    assert client.get("/?lang=en").status_code == 200
    return client


def pages_for(app, username):
    with app.app_context():
        projects = {p.status: p for p in db.session.scalars(
            select(Project).where(Project.jurisdiction_code == "320506"))}
        keys = [key for key, _version in workflows().definitions]
    paths = ["/", "/projects", "/notifications", "/workflows", "/no-such-page"]
    paths += [f"/workflows/{key}" for key in keys]
    for project in projects.values():
        paths += [f"/projects/{project.public_id}", f"/projects/{project.public_id}/print/declaration",
                  f"/projects/{project.public_id}/print/commitment"]
    if username.endswith("enterprise1"):
        paths += ["/projects/new"] + [f"/projects/{projects[s].public_id}/edit"
                                      for s in (Status.DRAFT, Status.RETURNED) if s in projects]
    if username.endswith("miit"):
        paths += ["/queue", "/queue?overdue=1&sort=investment", "/dashboard",
                  "/dashboard?year=2026", "/imports"]
    if username.endswith("bank1"):
        paths += ["/market", "/loans"]
    return paths


ROLES = ["national-enterprise1", "national-miit", "national-ndrc", "national-pboc",
         "national-bank1", "national-land", "liaocheng-county", "admin"]


def test_english_pages_have_no_chinese_ui_text(world):
    data = data_strings(world)
    leftovers = {}
    for username in ROLES:
        client = sign_in_english(world, username)
        leftovers.update(_leftovers(world, client, username, data))
    assert leftovers == {}


def _leftovers(world, client, username, data) -> dict:
    leftovers = {}
    for path in pages_for(world, username):
        response = client.get(path)
        assert response.status_code in (200, 403, 404), (path, response.status_code)
        text = text_of(response)
        for value in data:
            value = " ".join(value.split())  # as the page shows it, whitespace collapsed
            text = text.replace(value, " ")
        found = CHINESE.findall(text)
        if found:
            index = CHINESE.search(text).start()
            leftovers[f"{username} {path}"] = text[max(0, index - 60): index + 60]
    return leftovers


def test_chinese_is_the_default_and_the_choice_is_remembered(world):
    client = world.test_client()
    assert "登录" in text_of(client.get("/login"))
    assert "Sign in" in text_of(client.get("/login?lang=en"))
    assert "Sign in" in text_of(client.get("/login"))  # remembered
    assert "登录" in text_of(client.get("/login?lang=zh"))
