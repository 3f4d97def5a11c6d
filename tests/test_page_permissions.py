"""The project page shows exactly what `app.access` allows: for every demo login and every
project it may see, the steps in the action panel (ready or refused with a reason), the edit
link, the file upload, the intended banks form and the comment form.

The template holds no rule of its own; if it re-coded one, some principal somewhere in the
demo world (every stage, every document, makers and checkers) would see it disagree.
"""

import re

import pytest
from sqlalchemy import select

from app import access
from app.demo import DEMO_PASSWORD, seed
from app.extensions import db
from app.models import Project, User
from tests.web import csrf_token


@pytest.fixture(scope="module")
def demo(app):
    """The demo world, seeded once for this module's tests, which only read it."""
    from tests.conftest import _wipe

    _wipe(app)
    with app.app_context():
        logins = [username for username, _role, _org in seed()]
        db.session.remove()
    yield logins
    _wipe(app)


def shown(page: str, project_id) -> dict:
    """What the page offers, read from its HTML."""
    ready = set(re.findall(r'<details class="action" id="action-([a-z_]+)"', page))
    refused = set(re.findall(r'aria-describedby="why-([a-z_]+)"', page))
    return {"ready": ready, "refused": refused,
            "edit": f'href="/projects/{project_id}/edit"' in page,
            "upload": f'action="/projects/{project_id}/attachments"' in page,
            "name_banks": f'action="/projects/{project_id}/intended-banks"' in page,
            "comment": f'action="/projects/{project_id}/comments"' in page}


def allowed(user: User, project: Project) -> dict:
    """The same, from the access module."""
    steps = access.available_steps(user, project)
    return {"ready": {a.trigger for a in steps if a.ready},
            "refused": {a.trigger for a in steps if not a.ready},
            "edit": access.can_edit(user, project),
            "upload": access.can_upload(user, project),
            "name_banks": access.can_name_banks(user, project) and project.needs_financing,
            "comment": access.can_comment(user, project)}


def test_every_principal_sees_what_access_allows(app, demo, backend):
    # Templates and rules are the same on both databases: PostgreSQL renders every third page.
    stride = 1 if backend[0] == "sqlite" else 3
    differences, pages = [], 0
    for username in demo:
        client = app.test_client()
        client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                    "csrf_token": csrf_token(client)})
        with app.app_context():
            user = db.session.scalar(select(User).where(User.username == username))
            visible = list(db.session.scalars(select(Project).where(access.visible_condition(user))))
            expected = {p.public_id: allowed(user, p) for p in visible[::stride]}
        for public_id, wanted in expected.items():
            response = client.get(f"/projects/{public_id}")
            assert response.status_code == 200, (username, public_id)
            pages += 1
            got = shown(response.get_data(as_text=True), public_id)
            if got != wanted:
                differences.append((username, str(public_id), got, wanted))
    assert pages * stride > 1000  # every login of every area, on the projects it may see
    assert differences == []


def test_the_comparison_sees_a_step_the_page_would_hide(app, demo):
    """The check can fail: a page that dropped a ready step would not match."""
    with app.app_context():
        clerk = db.session.scalar(select(User).where(User.username == "national-miit"))
        project = next(p for p in db.session.scalars(select(Project).where(
            access.visible_condition(clerk)))
                       if allowed(clerk, p)["ready"])
        wanted = allowed(clerk, project)
    client = app.test_client()
    client.post("/login", data={"username": "national-miit", "password": DEMO_PASSWORD,
                                "csrf_token": csrf_token(client)})
    page = client.get(f"/projects/{project.public_id}").get_data(as_text=True)
    trigger = sorted(wanted["ready"])[0]
    assert shown(page, project.public_id) == wanted
    hidden = page.replace(f'id="action-{trigger}"', 'id="gone"')
    assert shown(hidden, project.public_id) != wanted
