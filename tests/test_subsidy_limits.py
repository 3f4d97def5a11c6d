"""Caps per project, per enterprise and per year, and a claim deadline: the programme agency's
own settings (no document states them). Unset, none applies; set, a claim is limited to the
room the tightest cap leaves (an interest claim) or refused naming the cap (a grant asking for
more), and a quarter's claims close that many days after it ends."""

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.database import QueuedWriterConnection
from app.errors import DomainError
from app.extensions import db
from app.models import Project, User
from app.rules import subsidy
from app.workflow import workflows
from tests.helpers import Api, wait_until
from tests.test_subsidy import HLJ, claims, hlj, owes, set_local  # noqa: F401 (hlj: a fixture)
from tests.test_subsidy_routing import World, area_world
from tests.test_subsidy_routing import set_local as set_city
from tests.web import post, signed_in


def _events(cast, client, trigger):
    items = cast.api(client, "treasury").get(f"/projects/{cast.pid}/events").json["items"]
    return [e for e in items if e["trigger"] == trigger]


def test_interest_claims_are_limited_by_the_tightest_cap_and_the_event_names_it(
        clean_app, client, hlj):  # noqa: F811
    cast = hlj
    set_local(clean_app, "treasury", f"{HLJ}:cap_per_year", "10", "2024-01-01")
    set_local(clean_app, "treasury", f"{HLJ}:cap_per_project", "17", "2024-01-01")
    fire = lambda period: cast.api(client, "bank00").fire(  # noqa: E731
        cast.pid, "claim_subsidy", cast.version(), period=period)
    for period in ("2025Q2", "2025Q3", "2026Q1", "2026Q2"):
        assert fire(period).status_code == 200, period
    found = claims(cast, client)
    # 2025: 6.8888 in full, then 2025Q3's 6.1333 only up to the year's 10 → 3.1112;
    # 2026Q1 a new year, 6.0000 in full; 2026Q2's 1.8083 only up to the project's 17:
    # 17 − (6.8888 + 3.1112 + 6.0000) = 1.0000, tighter than the year's 10 − 6 = 4
    assert {p: D(c["claimed"]) for p, c in found.items() if p != "totals"} == {
        "2025Q2": D("6.8888"), "2025Q3": D("3.1112"), "2026Q1": D("6.0000"),
        "2026Q2": D("1.0000")}
    limited = {e["data"]["period"]: e["data"]["limited_by"]
               for e in _events(cast, client, "claim_subsidy")}
    assert limited["2025Q2"] is None and limited["2026Q1"] is None
    assert (limited["2025Q3"]["cap"], D(limited["2025Q3"]["value"])) == ("cap_per_year", 10)
    assert (limited["2026Q2"]["cap"], D(limited["2026Q2"]["claimed_before"])) == (
        "cap_per_project", D("16.0000"))
    # the project page says which cap cut the claim
    page = signed_in(clean_app, "ent").get(f"/projects/{cast.pid}").get_data(as_text=True)
    assert "单个项目贴息上限（万元）" in page and 'data-limited-by="cap_per_year"' in page
    # one claim decided, the others still wait in the treasury's queue
    approved = cast.api(client, "treasury").fire(cast.pid, "approve_subsidy", cast.version(),
                                                 claim=found["2025Q2"]["id"])
    assert approved.status_code == 200, approved.json
    assert owes(clean_app, "treasury", "approve_subsidy")
    # nothing is left under the project's cap: a further quarter is refused naming it
    refused = fire("2025Q4")
    assert refused.status_code == 422
    assert "单个项目贴息上限（万元）" in refused.json["message"] and "17" in refused.json["message"]


def test_a_grant_over_the_enterprise_cap_is_refused_naming_it(clean_app, client):
    pid, tokens, seeing = area_world(clean_app, "liaocheng",
                                     ["submit", "accept", "sign_commitment", "file"])
    first = World(client, pid, tokens, seeing)
    pid2, _tokens, _seeing = area_world(clean_app, "liaocheng",
                                        ["submit", "accept", "sign_commitment", "file"],
                                        name="轴承热处理线改造项目")
    second = World(client, pid2, tokens, seeing)
    key = "programme:lc-equipment-grant"
    set_city(clean_app, "liaocheng-treasury", f"{key}:cap_per_enterprise", "60")
    set_city(clean_app, "liaocheng-treasury", f"{key}:cap_per_year", "100")
    ent = "liaocheng-enterprise1"
    assert first.fire(ent, "claim_subsidy", amount="50").status_code == 200
    over = second.fire(ent, "claim_subsidy", amount="30")
    assert over.status_code == 422
    assert "单个企业奖补上限（万元，该企业各项目合计）" in over.json["message"]
    assert "10" in over.json["message"] and "60" in over.json["message"]
    # a returned claim counts nowhere: the other project's claim fits again
    claim = first.claim(ent)
    back = first.fire("liaocheng-treasury", "return_claim", "请补充设备发票", claim=claim["id"])
    assert back.status_code == 200, back.json
    assert second.fire(ent, "claim_subsidy", amount="30").status_code == 200
    # its correction is bounded by what the other project now holds
    assert first.fire(ent, "claim_subsidy", amount="50").status_code == 422
    assert first.fire(ent, "claim_subsidy", amount="30").status_code == 200
    assert D(first.claim(ent)["claimed"]) + D(second.claim(ent)["claimed"]) == D(60)


def test_ledger_totals_count_every_claim_not_only_those_listed(clean_app, client, monkeypatch):
    from app.financing import subsidies
    pid, tokens, seeing = area_world(clean_app, "liaocheng",
                                     ["submit", "accept", "sign_commitment", "file"])
    first = World(client, pid, tokens, seeing)
    second = World(client, area_world(clean_app, "liaocheng", ["submit", "accept",
                                                               "sign_commitment", "file"],
                                      name="轴承热处理线改造项目")[0], tokens, seeing)
    assert first.fire("liaocheng-enterprise1", "claim_subsidy", amount="30").status_code == 200
    assert second.fire("liaocheng-enterprise1", "claim_subsidy", amount="12.5").status_code == 200
    # a list cut at its limit (1,000 claims; here one) still totals them all
    monkeypatch.setitem(subsidies.claims_for.__kwdefaults__, "limit", 1)
    found = first.api("liaocheng-treasury").get("/subsidies").json
    assert len(found["items"]) == 1
    assert D(found["totals"]["claimed"]) == D("42.5")


def test_unset_caps_and_deadline_are_shown_as_not_applying(clean_app, client, hlj):  # noqa: F811
    page = signed_in(clean_app, "treasury").get("/settings").get_data(as_text=True)
    assert "单个企业贴息上限（万元，该企业各项目合计）" in page
    assert "申报期限（季度结束后天数）" in page
    assert "未设定：不设上限" in page and "未设定：不设申报期限" in page
    # the treasury enters its deadline on the form: a bad value is refused beside the field
    treasury = signed_in(clean_app, "treasury")
    key = f"{HLJ}:claim_days"
    bad = post(treasury, "/settings", {"key": key, "value": "0", "effective_on": "2025-01-01"},
               token_from="/settings")
    assert bad.status_code == 422 and "1至365之间的整数天数。" in bad.get_data(as_text=True)
    ok = post(treasury, "/settings", {"key": key, "value": "10", "effective_on": "2025-01-01"},
              token_from="/settings")
    assert ok.status_code == 302
    row = re.search(rf'<tr data-key="{re.escape(key)}">.*?</tr>',
                    treasury.get("/settings").get_data(as_text=True), re.S).group(0)
    assert "10天" in row and "2025-01-01" in row


def test_a_quarter_closes_the_days_the_agency_set_after_it_ends(clean_app, client, hlj):  # noqa: F811
    cast = hlj
    set_local(clean_app, "treasury", f"{HLJ}:claim_days", "10", "2025-07-01")
    with clean_app.app_context():
        project = db.session.scalar(select(Project).where(Project.public_id == uuid.UUID(cast.pid)))
        bank = db.session.scalar(select(User).where(User.username == "bank00"))

        def claim(period, today):
            state = db.session.get(Project, project.id)
            return workflows().fire(state, "claim_subsidy", bank, version=state.version,
                                    data={"period": period}, today=today)

        # 2025Q2 ended before the deadline was set: its claims stay open
        claim("2025Q2", date(2025, 10, 20))
        # 2025Q3 ended 30 September: open to 10 October, both days counted
        claim("2025Q3", date(2025, 10, 10))
        with pytest.raises(DomainError) as late:
            claim("2025Q4", date(2026, 1, 11))
        assert "2025Q4" in str(late.value) and "2026年1月10日" in str(late.value)
        assert "申报期限（季度结束后天数）" in str(late.value)
        claim("2025Q4", date(2026, 1, 10))
        db.session.remove()
    # a returned claim may still be corrected after its quarter closed
    q3 = claims(cast, client)["2025Q3"]
    assert cast.api(client, "treasury").fire(
        cast.pid, "return_claim", cast.version(), comment="付款凭证不清晰",
        claim=q3["id"]).status_code == 200
    again = cast.api(client, "bank00").fire(cast.pid, "claim_subsidy", cast.version(),
                                            comment="已补正", period="2025Q3")
    assert again.status_code == 200, again.json
    assert claims(cast, client)["2025Q3"]["status"] == "submitted"


class HeldAtTheCaps:
    """Holds the first claim right after it read what its enterprise has claimed, until the
    other claim has read that too (both then decide on the same total: the race at its
    worst) or waits on the database (queued behind the first: serialised), whichever comes
    first. Either way the outcome no longer depends on how the threads happen to run."""

    def __init__(self, read, others_wait):
        self.read, self.others_wait = read, others_wait
        self.first = None
        self.second_read = threading.Event()
        self.mutex = threading.Lock()

    def __call__(self, *args, **kwargs):
        found = self.read(*args, **kwargs)
        me = threading.get_ident()
        with self.mutex:
            holding = self.first is None
            if holding:
                self.first = me
        if me != self.first:
            self.second_read.set()
        elif holding:
            wait_until(lambda: self.second_read.is_set() or self.others_wait(me),
                       "the other claim to read the enterprise's claims, or to wait for this one")
        return found


def _lock_waits(backend, monkeypatch):
    """(thread) -> whether a thread other than `thread` waits for a lock in the database:
    on PostgreSQL a lock not granted, on SQLite the queue for the write lock."""
    name, url = backend
    if name == "postgresql":
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

        def waiting(_thread):
            with engine.connect() as conn:
                return conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE NOT l.granted AND a.datname = current_database()").scalar()
        return waiting
    queued: set[int] = set()
    queue = QueuedWriterConnection.queue_for_write

    def queue_and_note(connection):
        queued.add(threading.get_ident())
        try:
            queue(connection)
        finally:
            queued.discard(threading.get_ident())

    monkeypatch.setattr(QueuedWriterConnection, "queue_for_write", queue_and_note)
    return lambda thread: bool(queued - {thread})


def _claim_by_service(app, username, pid, version, amount) -> tuple[int, str]:
    """The claim as a web form takes it: the engine in the request's session (no
    autocommit connection); the HTTP status the refusal would answer, and its message."""
    with app.app_context():
        try:
            project = db.session.scalar(select(Project).where(
                Project.public_id == uuid.UUID(pid)))
            user = db.session.scalar(select(User).where(User.username == username))
            workflows().fire(project, "claim_subsidy", user, version=version,
                             data={"amount": amount})
            return 200, ""
        except DomainError as err:
            return err.status, str(err)
        finally:
            db.session.remove()


@pytest.mark.parametrize("via", ["api", "session"])
def test_two_projects_claiming_at_once_never_pass_the_enterprise_cap(
        clean_app, client, backend, monkeypatch, via):
    """Each project's claim fits the enterprise's cap alone, not both together: fired at the
    same moment, one is filed and the other refused naming the cap — through the API (on
    PostgreSQL its steps' autocommit connection) and in a request's session (the web's)."""
    steps = ["submit", "accept", "sign_commitment", "file"]
    pid, tokens, seeing = area_world(clean_app, "liaocheng", steps)
    pid2 = area_world(clean_app, "liaocheng", steps, name="轴承热处理线改造项目")[0]
    worlds = [World(client, pid, tokens, seeing), World(client, pid2, tokens, seeing)]
    set_city(clean_app, "liaocheng-treasury", "programme:lc-equipment-grant:cap_per_enterprise",
             "60")
    ent = "liaocheng-enterprise1"
    versions = [w.version() for w in worlds]
    held = HeldAtTheCaps(subsidy.enterprise_claimed, _lock_waits(backend, monkeypatch))
    monkeypatch.setattr(subsidy, "enterprise_claimed", held)
    barrier = threading.Barrier(2)

    def claim(world, version, amount):
        if via == "session":
            barrier.wait()  # both at the same moment
            return _claim_by_service(clean_app, ent, world.pid, version, D(amount))
        api = Api(clean_app.test_client(), tokens[ent])
        barrier.wait()
        answer = api.fire(world.pid, "claim_subsidy", version, amount=amount)
        return answer.status_code, answer.json["message"] if answer.status_code != 200 else ""

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(claim, worlds, versions, ["50", "30"]))

    assert sorted(code for code, _message in answers) == [200, 422], answers
    [refused] = [message for code, message in answers if code == 422]
    assert "单个企业奖补上限（万元，该企业各项目合计）" in refused and "60" in refused
    claimed = [D(c["claimed"]) for w in worlds
               for c in w.api(ent).get("/subsidies", project=w.pid).json["items"]]
    assert claimed == [D(50) if answers[0][0] == 200 else D(30)]  # the winner's, in full
    events = [e for w in worlds for e in w.api(ent).get(f"/projects/{w.pid}/events").json["items"]
              if e["trigger"] == "claim_subsidy"]
    assert len(events) == 1


def test_one_bulk_claim_for_two_projects_keeps_within_the_enterprise_cap(clean_app, client):
    """A bulk decision writes its steps in one transaction: the second project's claim counts
    the first's, not yet committed, against the enterprise's cap."""
    steps = ["submit", "accept", "sign_commitment", "file"]
    pid, tokens, seeing = area_world(clean_app, "liaocheng", steps)
    pid2 = area_world(clean_app, "liaocheng", steps, name="轴承热处理线改造项目")[0]
    worlds = [World(client, pid, tokens, seeing), World(client, pid2, tokens, seeing)]
    set_city(clean_app, "liaocheng-treasury", "programme:lc-equipment-grant:cap_per_enterprise",
             "60")
    ent = "liaocheng-enterprise1"
    answer = worlds[0].api(ent).post("/bulk-transitions", {
        "trigger": "claim_subsidy", "data": {"amount": "40"},
        "items": [{"id": w.pid, "version": w.version()} for w in worlds]})
    assert answer.status_code == 200, answer.json
    first, second = answer.json["items"]
    assert (first["result"], second["http_status"]) == ("done", 422), answer.json
    assert "单个企业奖补上限（万元，该企业各项目合计）" in second["message"]
    assert [D(w.claim(ent)["claimed"]) for w in worlds[:1]] == [D(40)]
    assert worlds[1].api(ent).get("/subsidies", project=worlds[1].pid).json["items"] == []
