"""Concurrent actors cannot both win: exactly one of many simultaneous transitions succeeds."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import Cast, counts, project_payload

CLERKS = 20


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    for i in range(CLERKS):
        cast.agency(f"miit{i}", "miit", "320500")
    return cast


def test_twenty_clerks_accepting_at_once_one_wins(client, cast):
    app = client.application
    enterprise = cast.api(client, "ent_a")
    project = enterprise.post("/projects", project_payload()).json
    project = enterprise.fire(project["id"], "submit", project["version"]).json
    before = counts(app, project["id"])
    barrier = threading.Barrier(CLERKS)

    def accept(i):
        api = cast.api(app.test_client(), f"miit{i}")
        barrier.wait()  # release all clerks together
        return api.fire(project["id"], "accept", project["version"], comment=f"clerk {i}")

    with ThreadPoolExecutor(CLERKS) as pool:
        responses = list(pool.map(accept, range(CLERKS)))

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (CLERKS - 1), [r.json for r in responses]
    assert not any("locked" in r.get_data(as_text=True) for r in responses)
    assert counts(app, project["id"]) == ("commitment_filing", before[1] + 1, before[2] + 1)
    events = enterprise.get(f"/projects/{project['id']}/events").json["items"]
    winners = [r for r in responses if r.status_code == 200]
    assert events[-1]["trigger"] == "accept"
    assert winners[0].json["version"] == events[-1]["seq"]
