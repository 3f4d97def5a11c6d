"""Revising the rules mid-flight: `flask workflows migrate KEY --to VERSION [--dry-run]`.

A revised copy of heilongjiang's definition (version 4, from a temporary directory) gives
the designation a longer time limit, routes acceptance to development & reform, and has no
correction loop (no status `returned`). The dry run lists, per project in flight, what would
change; the real run moves exactly the projects with a counterpart, each with its own event
in one operation, and leaves the others alone."""

import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Deadline, Project, User, WorkflowEvent
from tests.helpers import project_payload, whitelist_cast, whitelisted_projects
from tests.web import signed_in

SHIPPED = Path(__file__).parent.parent / "workflows"
KEY = "heilongjiang-2024-67"
TODAY = "2026-03-02"


def revised(text: str) -> str:
    """Version 4: designation in 15 working days, acceptance by development & reform, and a
    return no longer sends the project back for correction (it ends it)."""
    current = next(line for line in text.splitlines() if line.startswith("version = "))
    edits = [
        (current, "version = 4"),
        ('[settings.designation]\nlabel = "确定主办行时限"\nvalue = 10',
         '[settings.designation]\nlabel = "确定主办行时限"\nvalue = 15'),
        ('trigger = "accept"\nsource = "declared"\ndest = "commitment_filing"\n'
         'role = "agency:miit"',
         'trigger = "accept"\nsource = "declared"\ndest = "commitment_filing"\n'
         'role = "agency:ndrc"'),
        ('"declared", "returned", "rejected"', '"declared", "rejected"'),
        ('source = ["draft", "returned"]', 'source = "draft"'),
        ('source = ["draft", "declared", "returned"]', 'source = ["draft", "declared"]'),
        ('dest = "returned"', 'dest = "rejected"'),
    ]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def world(clean_app, client):
    """On version 3: A claimed in matchmaking, B declared, C returned, D rejected (ended)."""
    cast = whitelist_cast(clean_app, 1, county="230110")
    [(a, version)] = whitelisted_projects(clean_app, cast, 1)
    bank = cast.api(client, "bank00")
    version = bank.fire(a, "express_interest", version).json["version"]
    bank.fire(a, "claim_lead_bank", version)
    ent = cast.api(client, "ent")
    made = {"A": a}
    for name, then in (("B", None), ("C", "return"), ("D", "reject")):
        p = ent.post("/projects", project_payload(
            name=f"项目{name}", jurisdiction="230110",
            project_code=f"2603-230110-07-02-00010{ord(name) - 64}")).json
        p = ent.fire(p["id"], "submit", p["version"]).json
        if then:
            p = cast.api(client, "miit").fire(p["id"], then, p["version"], comment="材料不全").json
        made[name] = p["id"]
    cast.made = made
    return cast


@pytest.fixture
def v4_app(clean_app, tmp_path):
    shutil.copytree(SHIPPED, tmp_path / "workflows")
    path = tmp_path / "workflows" / f"{KEY}.toml"
    path.write_text(revised(path.read_text(encoding="utf-8")), encoding="utf-8")
    return create_app(type("V4", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": clean_app.config["SQLALCHEMY_DATABASE_URI"],
        "WORKFLOWS_DIR": tmp_path / "workflows"}))


def projects(app) -> dict:
    with app.app_context():
        return {str(p.public_id): (p.workflow_version, p.version)
                for p in db.session.scalars(select(Project))}


def migrations(app) -> list:
    with app.app_context():
        return [(str(public_id), data) for public_id, data in db.session.execute(
            select(Project.public_id, WorkflowEvent.data)
            .join(Project, Project.id == WorkflowEvent.project_id)
            .where(WorkflowEvent.trigger == "migrate_workflow").order_by(WorkflowEvent.id))]


def blocks(output: str) -> dict:
    """The command's listing by project: its head line and the lines under it."""
    found, current = {}, None
    for line in output.splitlines():
        if line and not line.startswith(" ") and "\t" in line:
            current = line.split("\t", 1)[0]
            found[current] = [line]
        elif current and line.startswith("    "):
            found[current].append(line.strip())
    return found


def test_dry_run_lists_the_differences_and_changes_nothing(clean_app, world, v4_app):
    before = projects(clean_app)
    result = v4_app.test_cli_runner().invoke(args=[
        "workflows", "migrate", KEY, "--to", "4", "--dry-run", "--today", TODAY])
    assert result.exit_code == 0, result.output
    listed = blocks(result.output)
    made = world.made
    assert set(listed) == {made["A"], made["B"], made["C"]}  # D has ended
    a, b, c = listed[made["A"]], listed[made["B"]], listed[made["C"]]
    assert "time limit designate_lead_bank agency:pboc: 10 -> 15 working days" in a
    assert "time limit designate_lead_bank agency:finance: 10 -> 15 working days" in a
    assert not any(line.startswith(("+ owed", "- owed")) for line in a)
    assert "+ owed accept agency:ndrc province/city" in b
    assert "- owed accept agency:miit province/city" in b
    assert "roles accept: agency:miit -> agency:ndrc" in b
    assert "LEFT ALONE" in c[0] and "returned" in c[0]
    assert "dry run: 2 would move, 1 left alone" in result.output
    assert projects(clean_app) == before and migrations(clean_app) == []


def test_migration_moves_exactly_the_listed_projects_each_with_its_event(
        clean_app, client, world, v4_app):
    before = projects(clean_app)
    made = world.made
    with clean_app.app_context():
        [due_before] = db.session.scalars(select(Deadline.due_on).join(Project).where(
            Project.public_id == uuid.UUID(made["A"]), Deadline.role == "agency:pboc"))
    result = v4_app.test_cli_runner().invoke(args=[
        "workflows", "migrate", KEY, "--to", "4", "--today", TODAY])
    assert result.exit_code == 0, result.output
    assert "migrated 2" in result.output and "1 left alone" in result.output
    after = projects(clean_app)
    for name in ("A", "B"):
        assert after[made[name]] == (4, before[made[name]][1] + 1)
    for name in ("C", "D"):
        assert after[made[name]] == before[made[name]]
    events = migrations(clean_app)
    assert sorted(pid for pid, _data in events) == sorted([made["A"], made["B"]])
    assert len({data["operation"] for _pid, data in events}) == 1
    data = dict(events)[made["B"]]
    assert (data["workflow_from"], data["workflow_to"]) == (f"{KEY} v3", f"{KEY} v4")
    assert data["roles"] == {"accept": {"old": ["agency:miit"], "new": ["agency:ndrc"]}}

    # B now waits for development & reform, and no longer for industry & IT
    v4 = v4_app.test_client()
    queue = lambda who: [i["project"]["id"] for i in world.api(v4, who).get(  # noqa: E731
        "/queue").json["items"] if i["trigger"] == "accept"]
    assert made["B"] in queue("ndrc") and made["B"] not in queue("miit")
    b = world.api(v4, "ent").get(f"/projects/{made['B']}").json
    assert b["workflow"]["version"] == 4
    assert world.api(v4, "miit").fire(made["B"], "accept", b["version"]).status_code == 403
    assert world.api(v4, "ndrc").fire(made["B"], "accept", b["version"]).status_code == 200
    # A's designation keeps its start and follows the new limit
    with clean_app.app_context():
        [due_after] = db.session.scalars(select(Deadline.due_on).join(Project).where(
            Project.public_id == uuid.UUID(made["A"]), Deadline.role == "agency:pboc"))
    assert due_after > due_before
    trail = world.api(v4, "ent").get(f"/projects/{made['A']}/events").json["items"]
    assert trail[-1]["trigger"] == "migrate_workflow" and trail[-1]["workflow_version"] == 4
    page = signed_in(v4_app, "ent", lang="zh").get(f"/projects/{made['A']}")
    assert page.status_code == 200
    assert f"{KEY} v3 → {KEY} v4" in page.get_data(as_text=True)

    again = v4_app.test_cli_runner().invoke(args=["workflows", "migrate", KEY, "--to", "4"])
    assert "migrated 0" in again.output  # nothing left on another version but C
    audit = v4_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert audit.exit_code == 0, audit.output


def test_a_selection_moves_only_the_projects_named(clean_app, world, v4_app):
    made = world.made
    before = projects(clean_app)
    result = v4_app.test_cli_runner().invoke(args=[
        "workflows", "migrate", KEY, "--to", "4", "--project", made["B"], "--today", TODAY])
    assert result.exit_code == 0, result.output
    assert set(blocks(result.output)) == {made["B"]}
    after = projects(clean_app)
    assert {pid for pid in after if after[pid] != before[pid]} == {made["B"]}


def test_only_an_administrator_migrates_and_unknown_versions_are_refused(clean_app, world,
                                                                        v4_app):
    runner = v4_app.test_cli_runner()
    refused = runner.invoke(args=["workflows", "migrate", KEY, "--to", "4", "--by", "miit"])
    assert refused.exit_code != 0 and "not an administrator" in refused.output
    unknown = runner.invoke(args=["workflows", "migrate", KEY, "--to", "9", "--dry-run"])
    assert unknown.exit_code != 0 and "version 9" in unknown.output
    world.admin("root")
    done = runner.invoke(args=["workflows", "migrate", KEY, "--to", "4", "--by", "root",
                               "--project", world.made["A"]])
    assert done.exit_code == 0, done.output
    [(pid, _data)] = migrations(clean_app)
    assert pid == world.made["A"]
    with clean_app.app_context():
        event = db.session.scalar(select(WorkflowEvent).where(
            WorkflowEvent.trigger == "migrate_workflow"))
        assert db.session.get(User, event.actor_id).username == "root"
