"""Editing a definition never strands or changes projects already in flight."""

import shutil
from pathlib import Path

import pytest

from app import create_app
from app.config import TestConfig
from tests.helpers import Cast, project_payload

SHIPPED = Path(__file__).parent.parent / "workflows"
KEY = "national-miit-2024-53"


@pytest.fixture
def v2_app(clean_app, tmp_path):
    """The same database, served by an app whose national definition is now version 3,
    with acceptance moved from industry & IT to development & reform; v2's file is gone."""
    shutil.copytree(SHIPPED, tmp_path / "workflows")
    path = tmp_path / "workflows" / f"{KEY}.toml"
    text = path.read_text(encoding="utf-8").replace("version = 2", "version = 3", 1)
    accept = 'trigger = "accept"\nsource = "declared"\ndest = "commitment_filing"\n'
    assert accept + 'role = "agency:miit"' in text
    text = text.replace(accept + 'role = "agency:miit"', accept + 'role = "agency:ndrc"')
    path.write_text(text, encoding="utf-8")
    config = type("V2", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": clean_app.config["SQLALCHEMY_DATABASE_URI"],
        "WORKFLOWS_DIR": tmp_path / "workflows"})
    return create_app(config)


def test_in_flight_project_stays_on_its_frozen_version(clean_app, v2_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.agency("miit", "miit", "320500")
    cast.agency("ndrc", "ndrc", "320500")
    v1 = clean_app.test_client()
    old = cast.api(v1, "ent_a").post("/projects", project_payload(name="老项目")).json
    old = cast.api(v1, "ent_a").fire(old["id"], "submit", old["version"]).json
    assert {k: old["workflow"][k] for k in ("key", "version", "document")} == {
        "key": KEY, "version": 2, "document": "工信部联规〔2024〕53号"}

    v2 = v2_app.test_client()  # the definition file now says version 3
    new = cast.api(v2, "ent_a").post("/projects", project_payload(name="新项目")).json
    new = cast.api(v2, "ent_a").fire(new["id"], "submit", new["version"]).json
    assert new["workflow"]["version"] == 3
    assert cast.api(v2, "ent_a").get(f"/projects/{old['id']}").json["workflow"]["version"] == 2

    # the old project keeps v1's routing, the new one follows v2
    assert cast.api(v2, "ndrc").fire(old["id"], "accept", old["version"]).status_code == 403
    accepted = cast.api(v2, "miit").fire(old["id"], "accept", old["version"])
    assert accepted.status_code == 200, accepted.json
    assert cast.api(v2, "miit").fire(new["id"], "accept", new["version"]).status_code == 403
    assert cast.api(v2, "ndrc").fire(new["id"], "accept", new["version"]).status_code == 200

    events = cast.api(v2, "ent_a").get(f"/projects/{old['id']}/events").json["items"]
    assert {e["workflow_version"] for e in events[1:]} == {2}


def test_check_refuses_a_frozen_version_edited_in_place(clean_app, tmp_path):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    client = clean_app.test_client()
    project = cast.api(client, "ent_a").post("/projects", project_payload()).json
    cast.api(client, "ent_a").fire(project["id"], "submit", 1)  # freezes v2

    shutil.copytree(SHIPPED, tmp_path / "workflows")
    path = tmp_path / "workflows" / f"{KEY}.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("value = 20", "value = 30", 1),
                    encoding="utf-8")
    edited = create_app(type("Edited", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": clean_app.config["SQLALCHEMY_DATABASE_URI"],
        "WORKFLOWS_DIR": tmp_path / "workflows"}))
    result = edited.test_cli_runner().invoke(args=["workflows", "check"])
    assert result.exit_code != 0
    assert "differs from the text projects were frozen on" in result.output
