"""Financing: one lead bank per project under a storm of claims, what a bank may see, the
relending list's conditions, and the relending and subsidy figures of loans."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import text

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.reporting import rollup as stats
from app.rules.finance import loan_figures, relending_list_reasons
from tests.helpers import (
    WHITELIST_PATH,
    project_payload,
    whitelist_cast,
    whitelisted_projects,
)

BANKS = 20
ROUNDS = 100
@pytest.fixture
def bank_cast(clean_app):
    """Suzhou, under the national document: no agency designates a lead bank."""
    cast = whitelist_cast(clean_app, BANKS)
    cast.bank("bank_far", serves=("230000",))
    return cast


@pytest.fixture
def hlj_cast(clean_app):
    """Harbin, under heilongjiang 三(四): banks claim, the people's bank designates."""
    return whitelist_cast(clean_app, BANKS, county="230110")


@pytest.mark.slow
def test_hundred_rounds_of_twenty_banks_claiming_one_project(clean_app, hlj_cast):
    bank_cast = hlj_cast
    projects = whitelisted_projects(clean_app, bank_cast, ROUNDS)
    local = threading.local()
    barrier = threading.Barrier(BANKS)

    def claim(bank, project_id, version):
        if not hasattr(local, "client"):
            local.client = clean_app.test_client()
        api = bank_cast.api(local.client, f"bank{bank:02d}")
        barrier.wait()  # all twenty at the same moment
        return api.fire(project_id, "claim_lead_bank", version).status_code

    with ThreadPoolExecutor(BANKS) as pool:
        for project_id, version in projects:
            codes = list(pool.map(claim, range(BANKS), [project_id] * BANKS, [version] * BANKS))
            assert sorted(codes) == [200] + [409] * (BANKS - 1), (project_id, codes)

    with clean_app.app_context(), db.engine.connect() as conn:
        doubled = conn.execute(text(
            "SELECT project_id FROM bank_claims WHERE status IN ('open', 'designated') "
            "GROUP BY project_id, status HAVING COUNT(*) > 1")).all()
        assert doubled == []
        per_project = conn.execute(text(
            "SELECT COUNT(*) FROM bank_claims WHERE status = 'open' GROUP BY project_id")).all()
        assert len(per_project) == ROUNDS and {n for (n,) in per_project} == {1}
        events = conn.execute(text(
            "SELECT project_id, COUNT(*) FROM workflow_events WHERE trigger = 'claim_lead_bank' "
            "GROUP BY project_id")).all()
        assert len(events) == ROUNDS and {n for _p, n in events} == {1}
        # the database itself refuses a second open claim, whatever the code does
        project_id = conn.execute(text("SELECT MIN(project_id) FROM bank_claims")).scalar()
        bank_id, user_id = conn.execute(text(
            "SELECT organization_id, id FROM users WHERE username = 'bank00'")).one()
    with (clean_app.app_context(), pytest.raises(Exception, match="(?i)unique"),
          db.engine.begin() as writer):
        writer.execute(text(
            "INSERT INTO bank_claims (public_id, project_id, bank_id, status, "
            "claimed_by_id, claimed_at) VALUES (:p, :project, :bank, 'open', :user, "
            "CURRENT_TIMESTAMP)"),
            {"p": "0" * 32, "project": project_id, "bank": bank_id, "user": user_id})


def test_lead_bank_shows_everywhere_after_designation(clean_app, client, hlj_cast):
    bank_cast = hlj_cast
    [(pid, version)] = whitelisted_projects(clean_app, bank_cast, 1)
    claim = bank_cast.api(client, "bank03").fire(pid, "claim_lead_bank", version).json
    second = bank_cast.api(client, "bank04").fire(pid, "claim_lead_bank", claim["version"])
    assert second.status_code == 422 and "bank03银行" in second.json["message"]
    signed = bank_cast.api(client, "pboc").fire(pid, "designate_lead_bank", claim["version"]).json
    assert signed["lead_bank"] is None  # 会签: the financial regulator has yet to sign
    done = bank_cast.api(client, "finance").fire(pid, "designate_lead_bank",
                                                 signed["version"]).json
    assert done["lead_bank"]["name"] == "bank03银行"
    listed = bank_cast.api(client, "miit").get("/projects").json["items"]
    assert listed[0]["lead_bank"]["name"] == "bank03银行"
    financing = bank_cast.api(client, "ent").get(f"/projects/{pid}/financing").json
    assert [c["status"] for c in financing["claims"]] == ["designated"]


def _credit(cast, client, pid, version, bank, amount="2000"):
    """`bank` expresses interest and approves credit; the project's version after."""
    api = cast.api(client, bank)
    v = api.fire(pid, "express_interest", version).json["version"]
    return api.fire(pid, "approve_credit", v, amount=amount,
                    approved_on="2026-03-01").json["version"]


def test_no_agency_designates_a_lead_bank_under_the_national_document(clean_app, client,
                                                                       bank_cast):
    [(pid, version)] = whitelisted_projects(clean_app, bank_cast, 1)
    for who in ("pboc", "miit", "ndrc"):
        offered = bank_cast.api(client, who).get(f"/projects/{pid}").json["available_triggers"]
        assert not {"designate_lead_bank", "claim_lead_bank", "decline_claim"} & {
            t["trigger"] for t in offered}
    refused = bank_cast.api(client, "pboc").fire(pid, "designate_lead_bank", version)
    assert refused.status_code == 409  # no such step in this document


@pytest.mark.slow
def test_the_first_bank_to_sign_leads_and_the_others_record_their_own_loans(clean_app, client,
                                                                           bank_cast):
    """Twenty banks with approved credit sign at once: exactly one contract moves the project
    and makes its bank the lead; the others sign theirs afterwards, in the stage, and every
    bank records its own drawdowns."""
    [(pid, version)] = whitelisted_projects(clean_app, bank_cast, 1)
    for i in range(BANKS):
        version = _credit(bank_cast, client, pid, version, f"bank{i:02d}", "1000")
    barrier = threading.Barrier(BANKS)
    local = threading.local()

    def sign(i):
        if not hasattr(local, "client"):
            local.client = clean_app.test_client()
        api = bank_cast.api(local.client, f"bank{i:02d}")
        barrier.wait()
        return api.fire(pid, "sign_contract", version, amount="1000", signed_on="2026-03-02",
                        contract_number=f"借{i}", term_months=36).status_code

    with ThreadPoolExecutor(BANKS) as pool:
        codes = list(pool.map(sign, range(BANKS)))
    assert sorted(codes) == [200] + [409] * (BANKS - 1)
    winner = f"bank{codes.index(200):02d}"
    project = bank_cast.api(client, "ent").get(f"/projects/{pid}").json
    assert project["status"] == "lead_bank_designated"
    assert project["lead_bank"]["name"] == f"{winner}银行"
    other = next(f"bank{i:02d}" for i in range(BANKS) if f"bank{i:02d}" != winner)
    api = bank_cast.api(client, other)
    v = api.fire(pid, "sign_contract", project["version"], amount="800", signed_on="2026-03-03",
                 contract_number="借二", term_months=24).json["version"]
    for bank in (winner, other):
        loan = bank_cast.api(client, bank).fire(pid, "record_loan", v, amount="500",
                                               drawdown_date="2026-03-10")
        assert loan.status_code == 200, loan.json
        v = loan.json["version"]
    still = bank_cast.api(client, "ent").get(f"/projects/{pid}").json
    assert still["lead_bank"]["name"] == f"{winner}银行"  # a later contract leads nothing
    loans = bank_cast.api(client, "ent").get(f"/projects/{pid}/financing").json["loans"]
    assert sorted(loan["bank"]["name"] for loan in loans) == sorted([f"{winner}银行",
                                                                    f"{other}银行"])
    third = f"bank{(codes.index(200) + 2) % BANKS:02d}"
    if third != other:  # a bank without a signed contract records nothing
        refused = bank_cast.api(client, third).fire(pid, "record_loan", v, amount="1",
                                                   drawdown_date="2026-03-10")
        assert refused.status_code == 422


def test_what_a_bank_may_see(clean_app, client, bank_cast):
    [(pid, version)] = whitelisted_projects(clean_app, bank_cast, 1)
    ent = bank_cast.api(client, "ent")
    hidden = ent.post("/projects", project_payload(name="未列入项目")).json
    hidden = ent.fire(hidden["id"], "submit", 1).json

    one, two, far = (bank_cast.api(client, b) for b in ("bank01", "bank02", "bank_far"))
    assert one.get(f"/projects/{hidden['id']}").status_code == 404  # not whitelisted
    assert far.get(f"/projects/{pid}").status_code == 404  # outside its regions
    assert [p["id"] for p in one.get("/market").json["items"]] == [pid]
    assert far.get("/market").json["items"] == []
    assert ent.get("/market").status_code == 403

    v = one.fire(pid, "express_interest", version).json["version"]
    v = one.fire(pid, "approve_credit", v, amount="1800", approved_on="2026-05-01").json["version"]
    v = two.fire(pid, "express_interest", v).json["version"]
    two.fire(pid, "approve_credit", v, amount="1200", approved_on="2026-05-02")
    mine = one.get(f"/projects/{pid}/financing").json
    assert [(e["bank"]["name"], e["credit_amount"]) for e in mine["engagements"]] == [
        ("bank01银行", "1800")]
    theirs = two.get(f"/projects/{pid}/financing").json["engagements"]
    assert [e["credit_amount"] for e in theirs] == ["1200"]
    assert len(ent.get(f"/projects/{pid}/financing").json["engagements"]) == 2
    # pages: another bank's credit figure never appears
    from tests.web import signed_in, text_of

    page = text_of(signed_in(clean_app, "bank02").get(f"/projects/{pid}"))
    assert "1,200" in page
    assert "1,800" not in page
    assert "bank01银行" not in page
    assert signed_in(clean_app, "bank_far").get(f"/projects/{pid}").status_code == 404


def test_relending_list_refusals_name_the_condition(clean_app, client, bank_cast):
    ent, miit = bank_cast.api(client, "ent"), bank_cast.api(client, "miit")
    p = ent.post("/projects", project_payload(financing_need="6000", financing_term_months=6,
                                              policy_class="restricted",
                                              project_code="2603-320506-07-02-999999")).json
    for trigger, who, *data in WHITELIST_PATH[:-1]:
        p = bank_cast.api(client, who).fire(p["id"], trigger, p["version"],
                                            **(data[0] if data else {})).json
    refused = miit.fire(p["id"], "whitelist", p["version"], list="relending", batch="2026-1")
    assert refused.status_code == 422
    message = refused.json["message"]
    assert "Loan 6,000 (10k yuan) exceeds total investment 5,000 (10k yuan)." in message
    assert "6 months is shorter than 12 months" in message
    assert "restricted or eliminated" in message
    zh = miit.fire(p["id"], "whitelist", p["version"], lang="zh-CN", list="relending",
                   batch="2026-1").json["message"]
    assert "贷款 6,000 万元超过总投资 5,000 万元" in zh
    # another list has other conditions: the provincial key list takes it
    assert miit.fire(p["id"], "whitelist", p["version"], list="provincial_key",
                     batch="2026-1").status_code == 200


@pytest.fixture(scope="module")
def rules_app():
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    with app.app_context():
        yield app


def test_four_intended_banks_are_named_as_the_reason(rules_app):
    project = SimpleNamespace(jurisdiction_code="320506", total_investment=Decimal(5000),
                              financing_need=Decimal(2000), financing_term_months=36,
                              filed_at=object(), policy_class=None)
    assert relending_list_reasons(project, 3, date(2026, 1, 1)) == []
    assert relending_list_reasons(project, 4, date(2026, 1, 1)) == ["意向银行 4 家，最多 3 家。"]
    with force_locale("en"):
        assert relending_list_reasons(project, 4, date(2026, 1, 1)) == [
            "4 intended banks, at most 3."]
        small = SimpleNamespace(**{**vars(project), "total_investment": Decimal(499)})
        assert "below the 500" in relending_list_reasons(small, 1, date(2026, 1, 1))[0]


def loan(amount, drawdown, paid=None, term=36, refinanced=True, other=False):
    return SimpleNamespace(amount=Decimal(amount), drawdown_date=drawdown, supplier_paid_date=paid,
                           term_months=term, refinanced_on=drawdown if refinanced else None,
                           other_subsidy=other)


# (loan, relending principal, rate, subsidy points, months, subsidy) — worked by hand:
# principal = amount × 60%; subsidy = amount × points × min(term, 24) / 12
CASES = [
    # before the relending tool: none in force → figures refused (parameter missing) — below
    (loan("1000", date(2024, 4, 7), date(2024, 4, 8), 12), "600", "0.0175", "0.01", 12, "10"),
    (loan("1000", date(2024, 6, 30), date(2024, 6, 30), 12), "600", "0.0175", "0.01", 12, "10"),
    (loan("1000", date(2024, 7, 1), date(2024, 7, 1), 12), "600", "0.0175", "0.015", 12, "15"),
    (loan("2000", date(2025, 5, 7), date(2025, 5, 9), 24), "1200", "0.0175", "0.015", 24, "60"),
    (loan("2000", date(2025, 5, 8), date(2025, 5, 9), 24), "1200", "0.015", "0.015", 24, "60"),
    (loan("333.3333", date(2026, 1, 18), date(2026, 2, 1), 18), "200", "0.015", "0.015", 18,
     "7.5"),
    (loan("333.3333", date(2026, 1, 19), date(2026, 2, 1), 18), "200", "0.0125", "0.015", 18,
     "7.5"),
    # straddles the two-year cap: 36 months' term, subsidy counted for 24
    (loan("1234.5678", date(2026, 3, 2), date(2026, 3, 5), 36), "740.7407", "0.0125", "0.015",
     24, "37.037"),
]


@pytest.mark.parametrize(("item", "principal", "rate", "points", "months", "subsidy"), CASES)
def test_figures_match_hand_computation(rules_app, item, principal, rate, points, months,
                                        subsidy):
    figures = loan_figures(item, listed=True, jurisdiction="320506")
    assert figures.relending_principal == Decimal(principal)
    assert figures.relending_rate == Decimal(rate)
    assert figures.subsidy_points == Decimal(points)
    assert figures.subsidy_months == months
    assert figures.subsidy == Decimal(subsidy)


def test_no_subsidy_without_refinancing_listing_or_when_already_subsidised(rules_app):
    base = dict(amount="1000", drawdown=date(2025, 1, 2), paid=date(2025, 1, 3))
    assert loan_figures(loan(**base), listed=False, jurisdiction="320506").subsidy == 0
    unrefinanced = loan_figures(loan(**base, refinanced=False), listed=True,
                                jurisdiction="320506")
    assert unrefinanced.relending_principal == Decimal(600) and unrefinanced.subsidy == 0
    twice = loan_figures(loan(**base, other=True), listed=True, jurisdiction="320506")
    assert twice.subsidy == 0 and twice.notes


def test_loan_book_and_project_show_the_figures(clean_app, client, bank_cast):
    [(pid, version)] = whitelisted_projects(clean_app, bank_cast, 1)
    bank, pboc = bank_cast.api(client, "bank05"), bank_cast.api(client, "pboc")
    v = _credit(bank_cast, client, pid, version, "bank05")
    v = bank.fire(pid, "sign_contract", v, amount="2000", signed_on="2026-03-02",
                  contract_number="借1", term_months=36).json["version"]
    over = bank.fire(pid, "record_loan", v, amount="2500", drawdown_date="2026-03-05")
    assert over.status_code == 422 and "above the contract" in over.json["message"]
    v = bank.fire(pid, "record_loan", v, amount="1000", drawdown_date="2026-03-05",
                  supplier_paid_date="2026-03-06").json["version"]
    [entry] = bank.get("/loans").json["items"]
    assert entry["figures"]["relending_principal"] == "600"
    assert entry["figures"]["subsidy"] == "0"  # not refinanced yet
    pboc.fire(pid, "confirm_refinancing", v, loan=entry["id"], refinanced_on="2026-04-01")
    [entry] = bank.get("/loans").json["items"]
    assert entry["figures"]["relending_rate"] == "0.0125"
    assert entry["figures"]["subsidy"] == "30"  # 1000 × 1.5% × 24/12
    assert bank_cast.api(client, "bank06").get("/loans").json["items"] == []


def test_intended_banks_api(clean_app, client, bank_cast):
    ent = bank_cast.api(client, "ent")
    p = ent.post("/projects", project_payload()).json
    banks = ent.get("/banks", jurisdiction="320506").json["items"]
    assert len(banks) == BANKS  # bank_far serves Heilongjiang only
    ids = [b["id"] for b in banks]
    four = ent.put(f"/projects/{p['id']}/intended-banks", {"version": 1, "banks": ids[:4]})
    assert four.status_code == 422 and "banks" in four.json["fields"]
    ok = ent.put(f"/projects/{p['id']}/intended-banks", {"version": 1, "banks": ids[:3]})
    assert ok.status_code == 200 and ok.json["version"] == 2
    financing = ent.get(f"/projects/{p['id']}/financing").json
    assert [b["id"] for b in financing["intended_banks"]] == ids[:3]
    assert bank_cast.api(client, "miit").put(f"/projects/{p['id']}/intended-banks",
                                             {"version": 2, "banks": []}).status_code == 404


def test_figures_are_kept_by_the_step_and_read_everywhere_from_there(clean_app, client,
                                                                       bank_cast, monkeypatch):
    """A parameter entered later with an earlier date changes no figure a step kept: the
    loan book, the project's financing and the dashboard agree; a kept figure changed behind
    the app's back is what `stats verify` finds."""
    [(pid, version)] = whitelisted_projects(clean_app, bank_cast, 1)
    bank, pboc = bank_cast.api(client, "bank05"), bank_cast.api(client, "pboc")
    v = _credit(bank_cast, client, pid, version, "bank05")
    v = bank.fire(pid, "sign_contract", v, amount="2000", signed_on="2026-03-02",
                  contract_number="借1", term_months=36).json["version"]
    v = bank.fire(pid, "record_loan", v, amount="1000", drawdown_date="2026-03-05",
                  supplier_paid_date="2026-03-06").json["version"]
    [entry] = bank.get("/loans").json["items"]
    pboc.fire(pid, "confirm_refinancing", v, loan=entry["id"], refinanced_on="2026-04-01")

    import app.rules.finance as finance
    real = finance.parameter
    monkeypatch.setattr(finance, "parameter", lambda name, on, place="000000": real(
        name, on, place) * (2 if name in ("subsidy_points", "relending_rate") else 1))
    [entry] = bank.get("/loans").json["items"]
    assert entry["figures"]["subsidy"] == "30" and entry["figures"]["relending_rate"] == "0.0125"
    [loan] = bank.get(f"/projects/{pid}/financing").json["loans"]
    assert loan["figures"]["subsidy"] == "30"
    summary = bank_cast.api(client, "miit").get("/stats/summary").json
    assert summary["financing"]["subsidy"] == "30"

    with clean_app.app_context():
        db.session.execute(text("UPDATE loans SET subsidy_yuan = subsidy_yuan + 1"))
        found = stats.differences()
        assert len(found) == 1 and "subsidy_total kept 30, its loans sum to 30.0001" \
            in found[0]
        db.session.execute(text("UPDATE loans SET subsidy_yuan = subsidy_yuan - 1"))
        db.session.commit()
