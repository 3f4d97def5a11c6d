"""Building blocks for tests: a cast of organisations and users, API clients, payloads."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.accounts import operations as accounts
from app.demo import credit_code
from app.extensions import db
from app.models import AgencyKind, OrgKind, Project, User, WorkflowEvent
from app.models.base import china_today
from app.projects.operations import create_project
from app.rules.project_input import ProjectCreate
from app.workflow import workflows

PASSWORD = "correct horse battery"


class Cast:
    """Creates organisations and users on demand, each with an API token.

    Each call runs in its own app context, as a request would; what it returns is the
    username, since ORM objects do not outlive their context.
    """

    def __init__(self, app):
        self.app = app
        self.tokens: dict[str, str] = {}
        self._serial = 0

    def _create(self, username: str, is_admin=False, **org) -> str:
        with self.app.app_context():
            organization = accounts.create_organization(**org)
            user = accounts.create_user(username=username, password=PASSWORD,
                                        organization=organization, is_admin=is_admin,
                                        display_name=f"{username} 经办人")
            self.tokens[username] = accounts.issue_token(user)
        return username

    def enterprise(self, username: str, county: str = "320506") -> str:
        self._serial += 1
        return self._create(username, kind=OrgKind.ENTERPRISE, name=f"{username}有限公司",
                            jurisdiction_code=county,
                            credit_code=credit_code(county, 9000 + self._serial))

    def agency(self, username: str, kind: str, code: str) -> str:
        return self._create(username, kind=OrgKind.AGENCY, agency_kind=AgencyKind(kind),
                            name=f"{username}局", jurisdiction_code=code)

    def bank(self, username: str, serves: tuple[str, ...] = ("320500",)) -> str:
        return self._create(username, kind=OrgKind.BANK, name=f"{username}银行",
                            jurisdiction_code=serves[0], serves=list(serves))

    def admin(self, username: str) -> str:
        return self._create(username, is_admin=True, kind=OrgKind.OPERATOR,
                            name=f"{username}运营中心", jurisdiction_code="000000")

    def user(self, username: str) -> User:
        """The user, for tests that call services directly (inside an app context)."""
        return db.session.scalar(select(User).where(User.username == username))

    def api(self, client, username: str) -> "Api":
        return Api(client, self.tokens[username])


@dataclass
class Api:
    client: object
    token: str

    def _headers(self, lang="en"):
        return {"Authorization": f"Bearer {self.token}", "Accept-Language": lang}

    def get(self, path, lang="en", **params):
        return self.client.get(f"/api/v1{path}", query_string=params, headers=self._headers(lang))

    def post(self, path, body=None, raw=None, lang="en"):
        if raw is not None:
            return self.client.post(f"/api/v1{path}", data=raw, headers=self._headers(lang),
                                    content_type="application/json")
        return self.client.post(f"/api/v1{path}", json=body, headers=self._headers(lang))

    def put(self, path, body, lang="en"):
        return self.client.put(f"/api/v1{path}", json=body, headers=self._headers(lang))

    def patch(self, path, body, lang="en"):
        return self.client.patch(f"/api/v1{path}", json=body, headers=self._headers(lang))

    def fire(self, project_id, trigger, version, comment=None, lang="en", **data):
        body = {"trigger": trigger, "version": version, "data": data}
        if comment is not None:
            body["comment"] = comment
        return self.post(f"/projects/{project_id}/transitions", body, lang=lang)


def project_payload(**overrides) -> dict:
    """The declaration of DESIGN.md's example, adjustable field by field."""
    body = {
        "name": "数控机床更新改造项目", "jurisdiction": "320506", "industry": "高端装备",
        "task": "advanced_equipment", "batch_year": china_today().year,
        "content": "更新五轴数控机床2台，淘汰服役超过10年的普通车床4台。",
        "total_investment": "5000", "fixed_asset_investment": "4600",
        "equipment_investment": "4000", "retired_equipment_value": "800", "new_land": False,
        "planned_start": "2025-03-01", "planned_end": "2025-12-31",
        "financing_need": "2000", "financing_term_months": 36,
        "equipment": [
            {"kind": "new", "name": "五轴数控机床", "quantity": 2, "unit_price": "300",
             "energy_grade": 2},
            {"kind": "old", "name": "普通车床", "quantity": 4, "years_in_service": 14},
        ],
    }
    body.update(overrides)
    return body


def counts(app, project_public_id) -> tuple:
    """(status, version, number of audit events) as the database holds them now."""
    with app.app_context():
        project = db.session.scalar(select(Project).where(
            Project.public_id == uuid.UUID(str(project_public_id))))
        events = db.session.scalar(select(func.count()).select_from(WorkflowEvent)
                                   .where(WorkflowEvent.project_id == project.id))
        return project.status.value, project.version, events


def amount(value) -> Decimal:
    return Decimal(str(value))


WHITELIST_PATH = [("submit", "ent"), ("accept", "miit"),
                  ("sign_commitment", "ent", {"commitment_accepted": True}),
                  ("file", "ndrc", {"filing_number": "备1号"}),
                  ("whitelist", "miit", {"list": "relending", "batch": "2026-1"})]


def whitelist_cast(app, banks: int, county: str = "320506") -> Cast:
    """The enterprise and agencies that bring a project of `county` onto the relending list
    (`ent`, `miit`, `ndrc`), the people's bank branch (`pboc`), and `banks` banks serving the
    project's city (`bank00`, `bank01` …). Suzhou's county follows the national document
    (the first bank to sign leads); a Harbin county, heilongjiang's (a lead bank designated
    by the people's bank branch with the financial regulator, `finance`: 会签)."""
    city = county[:4] + "00"
    cast = Cast(app)
    cast.enterprise("ent", county)
    cast.county = county
    for kind in ("miit", "ndrc", "pboc", *(("finance",) if county.startswith("23") else ())):
        cast.agency(kind, kind, city)
    for i in range(banks):
        cast.bank(f"bank{i:02d}", serves=(city,))
    return cast


def whitelisted_projects(app, cast, n):
    """`n` projects on the relending list, made through the engine (fast, fully audited)."""
    made = []
    county = getattr(cast, "county", "320506")
    with app.app_context():
        users = {name: cast.user(name) for name in ("ent", "miit", "ndrc")}
        for i in range(n):
            project = create_project(users["ent"], ProjectCreate.model_validate(
                project_payload(name=f"争抢项目{i:03d}", jurisdiction=county,
                                project_code=f"2603-{county}-07-02-{i:06d}"), strict=False))
            for trigger, who, *data in WHITELIST_PATH:
                workflows().fire(project, trigger, users[who], version=project.version,
                                 data=data[0] if data else None)
            made.append((str(project.public_id), project.version))
    return made


ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, instance_dir, workers: int = 2):
    """The app served by a gunicorn of its own (as in production), yielding its base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "shared-by-all-hosts",
           "JIGAI_INSTANCE_DIR": str(instance_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--graceful-timeout", "2", "wsgi:app"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # wait for the server to answer
            try:
                if httpx.get(base + "/api/v1/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)  # polling a starting server
        yield base, server
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def close_batch(app, username: str, year: int, on: str) -> None:
    """The agency `username` (工信) sets the cut-off date of its `year` batch."""
    from app.review.settings import set_value

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        set_value(user, f"batch_cutoff:{year}", on, None, china_today())


IMPORT_ROW = {"credit_code": None, "name": "导入项目", "jurisdiction": "320506",
              "address": "吴中大道1号", "industry": "高端装备", "task": "先进设备更新",
              "batch_year": 2026, "content": "更新设备", "total_investment": 5000,
              "fixed_asset_investment": 4600, "equipment_investment": 4000,
              "retired_equipment_value": 800, "annual_investment": 3000, "new_land": "否",
              "planned_start": "2026-03-01", "planned_end": "2026-12-31", "financing_need": 2000,
              "financing_term_months": 36, "financing_purpose": "购置设备", "project_code": None,
              "equipment_name": "数控机床", "equipment_quantity": 2, "equipment_unit_price": 300,
              "equipment_energy_grade": 2}


def import_row(credit_code: str, i: int, **cells) -> list:
    """A valid row of the import template (the i-th: its own name and project code)."""
    from app.reporting.imports import COLUMNS

    row = {**IMPORT_ROW, "credit_code": credit_code, "name": f"导入项目{i:05d}",
           "project_code": f"2603-{cells.get('jurisdiction', '320506')}-07-02-{i:06d}", **cells}
    return [row[key] for key, _header in COLUMNS]


def import_workbook(rows) -> bytes:
    """An .xlsx of the import template's header and `rows` (written as a stream)."""
    import io

    from openpyxl import Workbook

    from app.reporting.imports import COLUMNS

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append([header for _key, header in COLUMNS])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def wait_until(condition, what: str, timeout: float = 120, every: float = 0.1):
    """Poll `condition` until it returns something true (returned); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)  # polling a condition another process brings about
