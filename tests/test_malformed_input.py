"""The probe's malformed requests (issue 17, finding 7) get a 422 naming the field, never a
500: a cursor whose number overflows the database's integer, a JSON body nested thousands
deep that spells a NUL character."""

import base64

import pytest

from tests.helpers import Cast, project_payload
from tests.web import signed_in

# base64 of "p" followed by thirty nines: a well-formed cursor of an id beyond any integer
HUGE_CURSOR = "cDk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ"


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.bank("bank_a")
    cast.agency("miit", "miit", "320500")
    return cast


@pytest.mark.parametrize(("who", "path"), [("ent_a", "/projects"), ("bank_a", "/market"),
                                           ("miit", "/queue")])
def test_api_cursor_beyond_any_id_is_refused_naming_the_field(client, cast, who, path):
    assert base64.urlsafe_b64decode(HUGE_CURSOR + "==").startswith(b"p999")
    response = cast.api(client, who).get(path, cursor=HUGE_CURSOR)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "cursor" in response.json["fields"]


@pytest.mark.parametrize("cursor", [
    base64.urlsafe_b64encode(b"[99999999999999999999999999, 99999999999999999999]").decode(),
    base64.urlsafe_b64encode(b'[{"a": 1}, [2]]').decode(),
    base64.urlsafe_b64encode(b"p-99999999999999999999999").decode(),
])
def test_api_queue_cursor_of_wrong_values_is_refused(client, cast, cursor):
    for who, path in (("miit", "/queue"), ("ent_a", "/projects")):
        response = cast.api(client, who).get(path, cursor=cursor)
        assert response.status_code == 422, response.get_data(as_text=True)[:300]
        assert "cursor" in response.json["fields"]


def test_web_list_with_a_huge_cursor_says_so(clean_app, cast):
    client = signed_in(clean_app, "ent_a", lang="en")
    response = client.get(f"/projects?cursor={HUGE_CURSOR}")
    assert response.status_code == 422
    assert "Invalid cursor" in response.get_data(as_text=True)


def _nested(depth: int) -> str:
    return '{"trigger": "submit", "version": 1, "data": {"x": ' + "[" * depth \
        + '"\\u0000"' + "]" * depth + "}}"


@pytest.mark.parametrize("nul", [True, False])
def test_json_nested_thousands_deep_is_refused_naming_the_body(client, cast, nul):
    api = cast.api(client, "ent_a")
    project = api.post("/projects", project_payload()).json
    body = _nested(5000) if nul else _nested(5000).replace("\\u0000", "x")
    response = api.post(f"/projects/{project['id']}/transitions", raw=body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert set(response.json["fields"]) & {"body", "data"}, response.json
    assert api.get(f"/projects/{project['id']}").json["status"] == "draft"


@pytest.mark.parametrize(("who", "path"), [("ent_a", "/projects"), ("bank_a", "/market"),
                                           ("ent_a", "/progress")])
def test_a_numeric_cursor_beyond_every_id_lists_from_the_newest(client, cast, who, path):
    # well-formed by the document's pattern, but larger than a PostgreSQL INTEGER key
    response = cast.api(client, who).get(path, cursor="999999999999999999")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.json["items"] == [] and response.json["next_cursor"] is None
