"""Faults under load: an app worker is killed (SIGKILL) and PostgreSQL restarts while clients
fire transitions concurrently. Afterwards nothing is lost or half-applied: every project's
status is its last audit event's destination, its version is its number of events, and every
hash chain verifies."""

import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Project, WorkflowEvent
from app.workflow.verify import verify_trail
from bench.cold import restart_postgres
from tests.helpers import Cast, gunicorn, project_payload

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow

PATH = [("submit", "ent", {}), ("accept", "miit", {}),
        ("sign_commitment", "ent", {"commitment_accepted": True}),
        ("file", "ndrc", {"filing_number": "备1"}),
        ("whitelist", "miit", {"list": "relending", "batch": "2026-1"})]


class Load:
    """Clients firing each project's next step until told to stop; they count successes."""

    def __init__(self, base, tokens, projects, clients=8):
        self.base, self.tokens, self.projects = base, tokens, projects
        self.stop = threading.Event()
        self.successes = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(clients)]

    def run(self, seed):
        rng = random.Random(seed)
        with httpx.Client(base_url=self.base, timeout=10) as client:
            while not self.stop.is_set():
                pid = rng.choice(self.projects)
                try:
                    project = client.get(f"/api/v1/projects/{pid}", headers=self.auth("ent"))
                    if project.status_code != 200:
                        continue
                    body = project.json()
                    offered = [s for s in PATH if self.offered(client, pid, s)]
                    step = offered[0] if offered else None
                    if step is None:
                        continue
                    trigger, who, data = step
                    response = client.post(f"/api/v1/projects/{pid}/transitions",
                                           headers=self.auth(who),
                                           json={"trigger": trigger, "version": body["version"],
                                                 "data": data})
                    if response.status_code == 200:
                        with self.lock:
                            self.successes += 1
                except httpx.HTTPError:
                    continue  # the worker died or the database restarted: try again

    def offered(self, client, pid, step):
        response = client.get(f"/api/v1/projects/{pid}", headers=self.auth(step[1]))
        return response.status_code == 200 and step[0] in {
            t["trigger"] for t in response.json()["available_triggers"] if t["ready"]}

    def auth(self, who):
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def wait_for(self, successes, timeout):
        deadline = time.monotonic() + timeout
        while self.successes < successes and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.successes >= successes


def test_worker_kill_and_database_restart_lose_nothing(clean_app, backend, tmp_path):
    if backend[0] != "postgresql":
        pytest.skip("the fault test restarts PostgreSQL")
    cast = Cast(clean_app)
    cast.enterprise("ent")
    cast.agency("miit", "miit", "320500")
    cast.agency("ndrc", "ndrc", "320500")
    client = clean_app.test_client()
    projects = [cast.api(client, "ent").post("/projects", project_payload(
        name=f"故障项目{i}", project_code=f"2603-320506-07-02-{i:06d}")).json["id"]
        for i in range(24)]

    with gunicorn(backend[1], tmp_path) as (base, server):
        load = Load(base, cast.tokens, projects)
        for thread in load.threads:
            thread.start()
        assert load.wait_for(15, 60), "no progress before the faults"

        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True,
                                 text=True).stdout.split()
        os.kill(int(workers[0]), signal.SIGKILL)  # mid-request, most likely
        before_restart = load.successes
        assert load.wait_for(before_restart + 10, 60), "no progress after the worker died"
        restart_postgres()
        after = load.successes
        assert load.wait_for(after + 10, 90), "no progress after PostgreSQL restarted"
        load.stop.set()
        for thread in load.threads:
            thread.join(timeout=30)

    with clean_app.app_context():
        db.engine.dispose()  # connections from before the restart are gone
        last = (select(WorkflowEvent.project_id, func.max(WorkflowEvent.seq).label("seq"),
                       func.count().label("n")).group_by(WorkflowEvent.project_id).subquery())
        rows = db.session.execute(
            select(Project.status, Project.version, last.c.n, WorkflowEvent.to_state)
            .join(last, last.c.project_id == Project.id)
            .join(WorkflowEvent, (WorkflowEvent.project_id == Project.id)
                  & (WorkflowEvent.seq == last.c.seq))).all()
        assert len(rows) == len(projects)
        for status, version, events, last_state in rows:
            assert status.value == last_state and version == events
        verified = verify_trail()
        assert verified.first_break is None, str(verified.first_break)
        assert verified.events > len(projects) + 30  # the load did real work
