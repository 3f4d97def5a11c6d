"""Who can do what, for every route and every kind of user.

The routes come from the app's URL map and the API's OpenAPI document; each must have an
expectation here, or the test fails. Each route is called by every principal — the owning
enterprise, another enterprise, a bank in and out of the region, every agency kind in and
out of the jurisdiction, an administrator, and anonymous — against objects they may and may
not see. The expected status comes from the rules below, written independently of the code.
"""

import io
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.api.openapi import openapi_document
from app.extensions import db
from app.jobs import imports as import_jobs
from app.models import AgencyKind, User
from app.reporting import imports
from tests.helpers import PASSWORD, Cast, close_batch, project_payload
from tests.web import csrf_token

KINDS = [k.value for k in AgencyKind]
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


@dataclass(frozen=True)
class Who:
    name: str
    kind: str  # anon | owner | other | bank_in | bank_out | agency_in | agency_out | admin
    agency: str | None = None


PRINCIPALS = [Who("anon", "anon"), Who("ent_a", "owner"), Who("ent_b", "other"),
              Who("bank_in", "bank_in"), Who("bank_out", "bank_out"), Who("admin", "admin")]
PRINCIPALS += [Who(f"{k}_in", "agency_in", k) for k in KINDS]
PRINCIPALS += [Who(f"{k}_out", "agency_out", k) for k in KINDS]


def sees(who: Who, obj: str) -> bool:
    """Visibility, as DOMAIN.md states it: enterprises their own; agencies their jurisdiction
    and below, once declared; banks whitelisted projects of the regions they serve."""
    return {"owner": True, "admin": True, "agency_in": obj != "draft",
            "bank_in": obj == "market"}.get(who.kind, False)


def web(who, on_ok, obj=None, allowed=lambda w: True):
    """Web routes: anonymous users are sent to sign in; invisible objects are 404."""
    if who.kind == "anon":
        return 302
    if obj and not sees(who, obj):
        return 404
    return on_ok if allowed(who) else 403


def api(who, on_ok, obj=None, allowed=lambda w: True, public=False):
    if who.kind == "anon" and not public:
        return 401
    if obj and not sees(who, obj):
        return 404
    return on_ok if allowed(who) else 403


is_enterprise = lambda w: w.kind in ("owner", "other")  # noqa: E731
is_agency = lambda w: w.kind in ("agency_in", "agency_out")  # noqa: E731
is_bank = lambda w: w.kind in ("bank_in", "bank_out")  # noqa: E731
is_owner = lambda w: w.kind == "owner"  # noqa: E731
reports_ok = lambda w: is_agency(w) or w.kind == "admin"  # noqa: E731
accepts = lambda w: w.kind == "agency_in" and w.agency == "miit"  # noqa: E731

# (method, rule) -> (request builder key, expectation(who))
# The declared project "declared" has a closed batch, so the one role that may accept it
# gets 422 from the guard (nothing changes); every other role must be refused before that.
WEB = {
    ("GET", "/"): ("plain", lambda w: web(w, 200)),
    ("GET", "/login"): ("plain", lambda w: 200),
    ("POST", "/login"): ("login", lambda w: 200),
    ("POST", "/logout"): ("form", lambda w: 302),
    # the second-factor step of signing in: nobody here owes one, so back to /login
    ("GET", "/login/code"): ("plain", lambda w: 302),
    ("POST", "/login/code"): ("form", lambda w: 302),
    # one's own password and authenticator (an empty form is shown again with its errors)
    ("GET", "/account/password"): ("plain", lambda w: web(w, 200)),
    ("POST", "/account/password"): ("form", lambda w: web(w, 422)),
    ("GET", "/account/two-factor"): ("plain", lambda w: web(w, 200)),
    ("POST", "/account/two-factor"): ("form", lambda w: web(w, 422)),
    # administrators manage accounts (an unknown user is 404 to them)
    ("GET", "/admin/users"): ("plain", lambda w: web(w, 200, allowed=lambda x: x.kind == "admin")),
    ("GET", "/admin/users/<user_id>"): ("plain", lambda w: web(
        w, 404, allowed=lambda x: x.kind == "admin")),
    ("POST", "/admin/users/<user_id>"): ("form", lambda w: web(
        w, 404, allowed=lambda x: x.kind == "admin")),
    ("GET", "/notifications"): ("plain", lambda w: web(w, 200)),
    ("POST", "/notifications/read"): ("form", lambda w: 302),
    # one's own notification opens (and is read); anyone else's is not there
    ("GET", "/notifications/<int:notification_id>"): ("notification", lambda w: web(w, 404)),
    ("GET", "/favicon.ico"): ("plain", lambda w: 200),
    ("GET", "/projects"): ("plain", lambda w: web(w, 200)),
    ("GET", "/projects/new"): ("plain", lambda w: web(w, 200, allowed=is_enterprise)),
    ("POST", "/projects/new"): ("form", lambda w: web(w, 422, allowed=is_enterprise)),
    ("GET", "/projects/<project_id>"): ("declared", lambda w: web(w, 200, "declared")),
    ("GET", "/projects/<project_id>/edit"): ("edit",
                                             lambda w: web(w, 200, "declared", is_owner)),
    ("POST", "/projects/<project_id>/edit"): ("declared-form",
                                              lambda w: web(w, 422, "declared", is_owner)),
    ("POST", "/projects/<project_id>/act/<trigger>"): (
        "accept", lambda w: web(w, 422, "declared", accepts)),
    ("POST", "/projects/<project_id>/comments"): ("comment", lambda w: web(w, 302, "declared")),
    ("POST", "/projects/<project_id>/attachments"): (
        "upload", lambda w: web(w, 302, "declared", lambda x: is_owner(x) or is_agency(x))),
    ("GET", "/projects/<project_id>/attachments/<attachment_id>"): (
        "download", lambda w: web(w, 200, "declared")),
    # only its uploader deletes a file, and not once the project is declared
    ("POST", "/projects/<project_id>/attachments/<attachment_id>/delete"): (
        "detach", lambda w: web(w, 409, "declared", is_owner)),
    ("GET", "/projects/<project_id>/print/<document>"): ("print", lambda w: web(w, 200, "declared")),
    ("POST", "/projects/<project_id>/intended-banks"): (
        "intended", lambda w: web(w, 302, "market", is_owner)),
    ("GET", "/queue"): ("plain", lambda w: web(
        w, 200, allowed=lambda x: is_agency(x) or is_bank(x) or is_enterprise(x))),
    # the confirmation, for an agency that sees the project; back to the queue otherwise
    ("POST", "/queue/bulk"): ("bulk", lambda w: web(w, 200 if w.kind == "agency_in" else 302,
                                                    allowed=is_agency)),
    ("POST", "/queue/bulk/apply"): ("bulk-apply", lambda w: web(w, 200, allowed=is_agency)),
    ("GET", "/settings"): ("plain", lambda w: web(w, 200, allowed=is_agency)),
    # an agency sets the numbers its role owns (acceptance time limit: the 工信 department)
    ("POST", "/settings"): ("settings", lambda w: web(w, 302, allowed=lambda x: x.agency == "miit")
                            if is_agency(w) or w.kind == "anon" else 403),
    ("GET", "/market"): ("plain", lambda w: web(w, 200, allowed=is_bank)),
    ("GET", "/loans"): ("plain", lambda w: web(w, 200, allowed=is_bank)),
    # releasing a step the project does not owe (its batch is closed): none for anyone
    ("POST", "/projects/<project_id>/steps/<step_id>/<action>"): (
        "release", lambda w: web(w, 404, "declared")),
    ("GET", "/delegations"): ("plain", lambda w: web(w, 200, allowed=is_agency)),
    # naming a deputy who does not exist: the field is marked, for an agency's officer
    ("POST", "/delegations"): ("cover", lambda w: web(w, 422, allowed=is_agency)),
    ("POST", "/delegations/<int:delegation_id>/end"): (
        "end-cover", lambda w: web(w, 302, allowed=is_agency)),
    ("GET", "/workflows"): ("plain", lambda w: web(w, 200)),
    ("GET", "/workflows/<key>"): ("workflow", lambda w: web(w, 200)),
    ("GET", "/dashboard"): ("plain", lambda w: web(w, 200, allowed=reports_ok)),
    ("POST", "/dashboard/baseline"): ("baseline", lambda w: web(
        w, 302, allowed=lambda x: x.kind == "agency_in" and x.agency == "miit")),
    ("GET", "/projects/export.xlsx"): ("plain", lambda w: web(w, 200)),
    ("GET", "/projects/export.csv"): ("plain", lambda w: web(w, 200)),
    ("GET", "/bulletin"): ("plain", lambda w: web(w, 200, allowed=reports_ok)),
    ("GET", "/bulletin.xlsx"): ("plain", lambda w: web(w, 200, allowed=reports_ok)),
    # a declared project is neither exited (the owner is told so) nor in the library yet
    ("POST", "/projects/<project_id>/redeclare"): (
        "redeclare", lambda w: web(w, 302, "declared", is_owner)),
    ("POST", "/projects/<project_id>/designations"): (
        "designate", lambda w: web(w, 302, "declared", accepts)),
    ("GET", "/subsidies/export.xlsx"): ("plain", lambda w: web(w, 200)),
    ("GET", "/imports"): ("plain", lambda w: web(w, 200, allowed=is_agency)),
    ("POST", "/imports"): ("import", lambda w: web(w, 302, allowed=is_agency)),
    ("GET", "/imports/template.xlsx"): ("plain", lambda w: web(w, 200, allowed=is_agency)),
    ("GET", "/imports/<job_id>"): ("job", lambda w: web(
        w, 200, allowed=lambda x: x.name == "miit_in") if w.kind == "anon" or w.name == "miit_in"
        else 404),
    ("GET", "/imports/<job_id>/progress"): ("job-progress", lambda w: web(
        w, 200, allowed=lambda x: x.name == "miit_in") if w.kind == "anon" or w.name == "miit_in"
        else 404),
}

API = {
    ("GET", "/projects"): ("plain", lambda w: api(w, 200)),
    ("POST", "/projects"): ("new", lambda w: api(w, 201, allowed=is_enterprise)),
    ("GET", "/projects/{project_id}"): ("declared", lambda w: api(w, 200, "declared")),
    ("PATCH", "/projects/{project_id}"): ("patch", lambda w: api(w, 409, "declared", is_owner)),
    ("POST", "/projects/{project_id}/transitions"): (
        "accept", lambda w: api(w, 422, "declared", accepts)),
    ("GET", "/projects/{project_id}/events"): ("declared", lambda w: api(w, 200, "declared")),
    ("PUT", "/projects/{project_id}/intended-banks"): (
        "intended", lambda w: api(w, 200, "market", is_owner)),
    ("GET", "/projects/{project_id}/financing"): ("market", lambda w: api(w, 200, "market")),
    ("GET", "/projects/{project_id}/attachments"): ("files",
                                                    lambda w: api(w, 200, "declared")),
    ("DELETE", "/projects/{project_id}/attachments/{attachment_id}"): (
        "detach", lambda w: api(w, 409, "declared", is_owner)),
    ("GET", "/workflows"): ("plain", lambda w: api(w, 200)),
    ("GET", "/workflows/{key}"): ("workflow", lambda w: api(w, 200)),
    ("POST", "/organizations"): ("org", lambda w: api(w, 201, allowed=lambda x: x.kind == "admin")),
    ("GET", "/openapi.json"): ("plain", lambda w: api(w, 200, public=True)),
    ("GET", "/market"): ("plain", lambda w: api(w, 200, allowed=is_bank)),
    ("GET", "/loans"): ("plain", lambda w: api(w, 200)),
    ("GET", "/subsidies"): ("plain", lambda w: api(w, 200)),
    ("GET", "/banks"): ("plain", lambda w: api(w, 200)),
    ("GET", "/overdue"): ("plain", lambda w: api(w, 200)),
    ("GET", "/queue"): ("plain", lambda w: api(w, 200)),
    ("POST", "/projects/{project_id}/steps/{step_id}/{action}"): (
        "release", lambda w: api(w, 404, "declared")),
    ("GET", "/stats/summary"): ("plain", lambda w: api(w, 200, allowed=reports_ok)),
    ("GET", "/progress"): ("plain", lambda w: api(w, 200)),
    ("POST", "/projects/{project_id}/redeclare"): (
        "redeclare", lambda w: api(w, 409, "declared", is_owner)),
    ("PUT", "/projects/{project_id}/designations"): (
        "designate", lambda w: api(w, 409, "declared", accepts)),
    # answered per item, each as the single step above would be (checked in the test)
    ("POST", "/bulk-transitions"): ("bulk", lambda w: api(w, 200)),
}
SINGLE_OF_BULK = ("POST", "/projects/{project_id}/transitions")


def app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        found |= {(m, rule.rule) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def api_routes(app) -> set[tuple[str, str]]:
    with app.app_context():
        paths = openapi_document()["paths"]
    documented = {(m.upper(), path) for path, ops in paths.items()
                  for m in ops if m != "parameters"}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            documented |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return documented


def test_every_route_has_an_expectation(app):
    assert sorted(app_routes(app) - set(WEB)) == []
    assert sorted(api_routes(app) - set(API)) == []


@pytest.fixture
def world(clean_app):
    """The principals, and the objects: ent_a's draft, its declared project (closed batch)
    with a file, and its whitelisted project; an import job of miit_in."""
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.enterprise("ent_b")
    cast.bank("bank_in", serves=("320500",))
    cast.bank("bank_out", serves=("410300",))
    cast.admin("admin")
    for kind in KINDS:
        cast.agency(f"{kind}_in", kind, "320500")
        cast.agency(f"{kind}_out", kind, "410300")
    cast.agency("ndrc_filer", "ndrc", "320500")
    client = clean_app.test_client()
    ent = cast.api(client, "ent_a")
    draft = ent.post("/projects", project_payload(name="甲草稿项目")).json
    close_batch(clean_app, "miit_in", 2024, "2024-12-31")
    declared = ent.post("/projects", project_payload(name="乙申报项目", batch_year=2024)).json
    declared = ent.fire(declared["id"], "submit", 1).json
    market = ent.post("/projects", project_payload(
        name="丙对接项目", project_code="2603-320506-07-02-000001")).json
    for trigger, who, data in [("submit", "ent_a", {}), ("accept", "miit_in", {}),
                               ("sign_commitment", "ent_a", {"commitment_accepted": True}),
                               ("file", "ndrc_filer", {"filing_number": "备1"}),
                               ("whitelist", "miit_in", {"list": "relending", "batch": "2026-1"})]:
        market = cast.api(client, who).fire(market["id"], trigger, market["version"], **data).json
    assert market["status"] == "financing_matchmaking"
    from tests.web import signed_in

    owner = signed_in(clean_app, "ent_a")
    owner.post(f"/projects/{declared['id']}/attachments", data={
        "csrf_token": csrf_token(owner, f"/projects/{declared['id']}"), "kind": "other",
        "file": (io.BytesIO(PDF), "报价.pdf")}, content_type="multipart/form-data")
    page = owner.get(f"/projects/{declared['id']}").get_data(as_text=True)
    attachment = re.search(r"/attachments/([0-9a-f-]{36})", page).group(1)
    declared = ent.get(f"/projects/{declared['id']}").json  # a file added is a new version
    assert [e["trigger"] for e in ent.get(f"/projects/{declared['id']}/events").json["items"]
            ][-1] == "attach"
    with clean_app.app_context():
        clerk = db.session.scalar(select(User).where(User.username == "miit_in"))
        job_id = str(import_jobs.start_import(clerk, imports.template(), "x.xlsx").public_id)
    return {"cast": cast, "draft": draft, "declared": declared, "market": market,
            "attachment": attachment, "job": job_id}


def _client(app, who):
    client = app.test_client()
    if who.kind != "anon":
        client.post("/login", data={"username": who.name, "password": PASSWORD,
                                    "csrf_token": csrf_token(client)})
    return client


def web_request(client, key, world, who):
    d, m = world["declared"], world["market"]
    token = lambda path="/login": csrf_token(client, path)  # noqa: E731
    if key == "plain":
        return None
    paths = {"declared": f"/projects/{d['id']}", "edit": f"/projects/{d['id']}/edit",
             "print": f"/projects/{d['id']}/print/declaration",
             "download": f"/projects/{d['id']}/attachments/{world['attachment']}",
             "workflow": "/workflows/national-miit-2024-53",
             "job": f"/imports/{world['job']}", "notification": "/notifications/2000000000",
             "job-progress": f"/imports/{world['job']}/progress"}
    if key in paths:
        return ("GET", paths[key], None)
    forms = {
        "login": ("/login", {"username": f"nobody-{who.name}", "password": "x"}),
        "form": (None, {}),
        "declared-form": (f"/projects/{d['id']}/edit", {"version": d["version"]}),
        "accept": (f"/projects/{d['id']}/act/accept", {"version": d["version"]}),
        "release": (f"/projects/{d['id']}/steps/999999/release",
                    {"version": d["version"]}),
        "cover": ("/delegations", {"officer": who.name, "deputy": "nobody",
                                   "starts_on": "2026-12-01", "ends_on": "2099-12-31"}),
        "end-cover": ("/delegations/999999/end", {}),
        "comment": (f"/projects/{d['id']}/comments", {"body": "看看"}),
        "redeclare": (f"/projects/{d['id']}/redeclare", {}),
        "designate": (f"/projects/{d['id']}/designations", {"tags": "typical_case"}),
        "intended": (f"/projects/{m['id']}/intended-banks", {"version": m["version"]}),
        "bulk": ("/queue/bulk", {"project": f"{d['id']}:{d['version']}"}),
        "bulk-apply": ("/queue/bulk/apply", {"step": "accept",
                                             "project": f"{d['id']}:{d['version']}"}),
        "baseline": ("/dashboard/baseline", {"jurisdiction": "320500", "year": "2023",
                                            "amount": "1000"}),
        "settings": ("/settings", {"key": "time_limit:acceptance", "value": "12"}),
        "import": ("/imports", {"file": (io.BytesIO(b"x"), "x.xlsx")}),
        "detach": (f"/projects/{d['id']}/attachments/{world['attachment']}/delete", {}),
        "upload": (f"/projects/{d['id']}/attachments", {"kind": "other",
                                                       "file": (io.BytesIO(PDF), "a.pdf")}),
    }
    path, data = forms[key]
    return ("POST", path, {**data, "csrf_token": token()})


@pytest.mark.parametrize("who", PRINCIPALS, ids=lambda w: w.name)
def test_web_routes_by_principal(clean_app, world, who):
    client = _client(clean_app, who)
    failures = []
    for (method, rule), (key, expect) in sorted(WEB.items()):
        built = web_request(client, key, world, who)
        path = rule if built is None else built[1] or rule
        data = None if built is None else built[2]
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data=data or {"csrf_token": csrf_token(client)},
                                   content_type="multipart/form-data")
        expected = expect(who)
        if response.status_code != expected:
            failures.append(f"{method} {path}: {response.status_code}, expected {expected}")
        if (method, rule) == ("GET", "/projects") and expected == 200:
            page = response.get_data(as_text=True)
            shown = {o for o in ("draft", "declared", "market") if f">{world[o]['name']}<" in page}
            if shown != {o for o in ("draft", "declared", "market") if sees(who, o)}:
                failures.append(f"GET /projects shows {sorted(shown)}")
        if (method, rule) == ("POST", "/logout") and who.kind != "anon":
            client = _client(clean_app, who)  # signed out: sign in again for the rest
    assert failures == []


def api_request(key, world):
    d, m, a = world["declared"], world["market"], world["attachment"]
    return {
        "plain": None,
        "declared": ("GET", f"/projects/{d['id']}", None),
        "market": ("GET", f"/projects/{m['id']}/financing", None),
        "files": ("GET", f"/projects/{d['id']}/attachments", None),
        "detach": ("DELETE", f"/projects/{d['id']}/attachments/{a}", None),
        "workflow": ("GET", "/workflows/national-miit-2024-53", None),
        "new": ("POST", "/projects", project_payload(name="新项目")),
        "patch": ("PATCH", f"/projects/{d['id']}", {"version": d["version"], "address": "x"}),
        "accept": ("POST", f"/projects/{d['id']}/transitions",
                   {"trigger": "accept", "version": d["version"]}),
        "bulk": ("POST", "/bulk-transitions",
                 {"trigger": "accept", "items": [{"id": d["id"], "version": d["version"]}]}),
        "release": ("POST", f"/projects/{d['id']}/steps/999999/release",
                    {"version": d["version"]}),
        "intended": ("PUT", f"/projects/{m['id']}/intended-banks",
                     {"version": m["version"], "banks": []}),
        "redeclare": ("POST", f"/projects/{d['id']}/redeclare", None),
        "designate": ("PUT", f"/projects/{d['id']}/designations", {"tags": ["typical_case"]}),
        "org": ("POST", "/organizations", {"kind": "bank", "name": "新银行",
                                           "jurisdiction": "320500", "serves": ["320500"]}),
    }[key]


@pytest.mark.parametrize("who", PRINCIPALS, ids=lambda w: w.name)
def test_api_routes_by_principal(clean_app, world, who):
    client = clean_app.test_client()
    token = world["cast"].tokens.get(who.name)
    failures = []
    for (method, rule), (key, expect) in sorted(API.items()):
        built = api_request(key, world)
        method_, path, body = built if built else (method, rule, None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.open(f"/api/v1{path}", method=method_, json=body, headers=headers)
        if key == "intended" and response.status_code == 200:
            world["market"]["version"] += 1  # the owner's success moves the version on
        if key == "org" and response.status_code == 201:
            api_request.__defaults__ = None
        expected = expect(who)
        if response.status_code != expected:
            failures.append(f"{method_} {path}: {response.status_code}, expected {expected}")
        if key == "bulk" and expected == 200:
            item, single = response.json["items"][0]["http_status"], API[SINGLE_OF_BULK][1](who)
            if item != single:
                failures.append(f"{method_} {path}: item {item}, expected {single}")
        if (method_, path) == ("GET", "/projects") and expected == 200:
            listed = {p["name"] for p in response.json["items"]}
            visible = {world[o]["name"] for o in ("draft", "declared", "market") if sees(who, o)}
            if listed != visible:
                failures.append(f"GET /projects lists {sorted(listed)}, expected "
                                f"{sorted(visible)}")
    assert failures == []
