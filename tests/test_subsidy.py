"""Fiscal support claimed, reviewed and paid (issue 16 §1), through the API.

Heilongjiang 三(三): the provincial 技术改造贴息, whose rate and period its 省财政厅 enters
(no document states them): 2% a year, 1.5% from 2025-05-08, for 2 years from the day the
supplier was paid, interest by the day over 360 (practice). The project's lead bank holds two
relending loans — 1,000 万元 paid to the supplier 2024-04-15, 600 万元 paid 2024-05-20 — and
claims four quarters (2025Q2 across the change of rate, 2026Q2 across both loans' 2 years);
省财政厅 and 省工信厅 approve each (会签), 省财政厅 pays, and after the project fails its
acceptance part of a payment is clawed back. Figures are worked out by hand
in tests/test_subsidy_rules.py; here they are the claims' own."""

import io
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from app.accounts import operations as accounts
from app.extensions import db
from app.models import Deadline, SubsidyClaim, User, china_today
from app.review import settings as local_settings
from tests.helpers import PASSWORD, Cast, whitelist_cast, whitelisted_projects
from tests.web import signed_in

TODAY = date(2026, 12, 2)
EXPECTED = {"2025Q2": D("6.8888"), "2025Q3": D("6.1333"), "2026Q1": D("6.0000"),
            "2026Q2": D("1.8083")}
TOTAL = D("20.8304")


def colleague(app, cast: Cast, of: str, username: str) -> str:
    """A second user in `of`'s organisation (maker-checker needs one)."""
    with app.app_context():
        org = db.session.scalar(db.select(User).where(User.username == of)).organization
        user = accounts.create_user(username=username, password=PASSWORD, organization=org,
                                    display_name=f"{username} 经办人")
        cast.tokens[username] = accounts.issue_token(user)
    return username


def set_local(app, username: str, key: str, value: str, effective: str) -> None:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        local_settings.set_value(user, key, value, date.fromisoformat(effective), TODAY)


HLJ = "programme:hlj-tech-interest"


@pytest.fixture
def hlj(clean_app, client):
    """A Harbin project with its lead bank's two refinanced relending loans; the provincial
    treasury (two officers) and industry department; the treasury's own settings entered."""
    cast = whitelist_cast(clean_app, 3, county="230110")
    cast.agency("treasury", "treasury", "230000")
    colleague(clean_app, cast, "treasury", "treasury2")
    cast.agency("prov_miit", "miit", "230000")
    cast.agency("checker", "miit", "230100")
    set_local(clean_app, "treasury", f"{HLJ}:rate", "2%", "2024-01-01")
    set_local(clean_app, "treasury", f"{HLJ}:rate", "1.5%", "2025-05-08")
    set_local(clean_app, "treasury", f"{HLJ}:max_years", "2", "2024-01-01")
    [(pid, v)] = whitelisted_projects(clean_app, cast, 1)
    bank, pboc = cast.api(client, "bank00"), cast.api(client, "pboc")

    def step(api, trigger, comment=None, **data):
        nonlocal v
        response = api.fire(pid, trigger, v, comment=comment, **data)
        assert response.status_code == 200, (trigger, response.json)
        v = response.json["version"]
        return response.json

    step(bank, "express_interest")
    step(bank, "claim_lead_bank")
    step(pboc, "designate_lead_bank")
    step(cast.api(client, "finance"), "designate_lead_bank")  # 会签
    step(bank, "approve_credit", amount="2000", approved_on="2024-04-08")
    step(bank, "sign_contract", amount="2000", signed_on="2024-04-09", contract_number="哈借1",
         term_months=60)
    step(bank, "record_loan", amount="1000", drawdown_date="2024-04-10",
         supplier_paid_date="2024-04-15")
    step(bank, "record_loan", amount="600", drawdown_date="2024-05-16",
         supplier_paid_date="2024-05-20")
    loans = cast.api(client, "bank00").get("/loans").json["items"]
    for loan in loans:
        step(pboc, "confirm_refinancing", loan=loan["id"], refinanced_on="2024-06-10")
    cast.pid = pid
    cast.version = lambda: cast.api(client, "ent").get(f"/projects/{pid}").json["version"]
    return cast


def claims(cast, client, who="treasury") -> dict:
    found = cast.api(client, who).get("/subsidies", project=cast.pid).json
    return {c["period"]: c for c in found["items"]} | {"totals": found["totals"]}


def owes(app, username: str, trigger: str) -> bool:
    """Whether `username`'s queue (the single owed source) holds `trigger`."""
    from app.access import owed_condition
    from app.models import Project
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        return bool(db.session.scalar(db.select(db.func.count()).select_from(Deadline)
                                      .join(Project, Deadline.project_id == Project.id)
                                      .where(owed_condition(user), Deadline.trigger == trigger)))


def test_heilongjiang_four_quarters_claimed_cosigned_paid_and_partly_clawed_back(
        clean_app, client, hlj):
    cast, pid = hlj, hlj.pid
    fire = lambda who, trigger, comment=None, **data: cast.api(client, who).fire(  # noqa: E731
        pid, trigger, cast.version(), comment=comment, **data)

    for period in EXPECTED:
        done = fire("bank00", "claim_subsidy", period=period)
        assert done.status_code == 200, done.json
        assert done.json["status"] == "lead_bank_designated"  # a claim leaves the stage as is
    found = claims(cast, client)
    assert {p: D(found[p]["claimed"]) for p in EXPECTED} == EXPECTED
    q2 = found["2025Q2"]
    assert [(line["days"], D(line["amount"])) for line in q2["lines"]] == [
        (91, D("4.3055")), (91, D("2.5833"))]
    assert [s["first"] for s in q2["lines"][0]["segments"]] == ["2025-04-01", "2025-05-08"]
    assert [(line["days"], line["subsidy_last_day"]) for line in found["2026Q2"]["lines"]] == [
        (14, "2026-04-14"), (49, "2026-05-19")]

    # a second claim for a quarter already claimed is refused, naming the first
    again = fire("bank00", "claim_subsidy", period="2025Q2")
    assert again.status_code == 422
    assert found["2025Q2"]["number"] in again.json["message"]
    # a quarter not yet over cannot be claimed
    assert fire("bank00", "claim_subsidy", period="2030Q1").status_code == 422

    # 会签: each claim waits for both departments; both owe it in their queues
    assert owes(clean_app, "treasury", "approve_subsidy")
    assert owes(clean_app, "prov_miit", "approve_subsidy")
    assert not owes(clean_app, "miit", "approve_subsidy")  # the city's, not its step
    for period in EXPECTED:
        ok = fire("treasury", "approve_subsidy", claim=found[period]["id"])
        assert ok.status_code == 200, ok.json
    assert not owes(clean_app, "treasury", "approve_subsidy")
    assert {c["status"] for p, c in claims(cast, client).items() if p != "totals"} == {"submitted"}
    twice = fire("treasury", "approve_subsidy", claim=found["2025Q2"]["id"])
    assert twice.status_code == 422 and "prov_miit" not in twice.json["message"]

    # the industry department objects to 2025Q1: back to the bank, approvals lapse
    back = fire("prov_miit", "return_claim", "付款凭证与贷款合同金额不符", claim=found["2025Q3"]["id"])
    assert back.status_code == 200, back.json
    assert claims(cast, client)["2025Q3"]["status"] == "returned"
    assert claims(cast, client)["2025Q3"]["approvals"] == []
    corrected = fire("bank00", "claim_subsidy", "已补正付款凭证", period="2025Q3")
    assert corrected.status_code == 200, corrected.json
    after = claims(cast, client)["2025Q3"]
    assert (after["status"], after["number"], D(after["claimed"])) == (
        "submitted", found["2025Q3"]["number"], D("6.1333"))
    assert fire("treasury", "approve_subsidy", claim=after["id"]).status_code == 200
    for period in EXPECTED:
        ok = fire("prov_miit", "approve_subsidy", claim=found[period]["id"])
        assert ok.status_code == 200, ok.json
    found = claims(cast, client)
    assert {found[p]["status"] for p in EXPECTED} == {"approved"}
    assert {p: D(found[p]["approved"]) for p in EXPECTED} == EXPECTED
    assert [a["role"] for a in found["2025Q2"]["approvals"]] == ["agency:treasury", "agency:miit"]

    # the finance department pays; the officer who approved may not also pay (maker-checker)
    assert owes(clean_app, "treasury2", "record_payout")
    assert not owes(clean_app, "treasury", "record_payout")
    own = fire("treasury", "record_payout", claim=found["2025Q2"]["id"], amount="6.8888",
               paid_on="2026-01-15", voucher="黑财贴2026-001")
    assert own.status_code == 403
    over = fire("treasury2", "record_payout", claim=found["2025Q2"]["id"], amount="6.8889",
                paid_on="2026-01-15", voucher="黑财贴2026-001")
    assert over.status_code == 422
    for n, period in enumerate(EXPECTED, start=1):
        paid = fire("treasury2", "record_payout", claim=found[period]["id"],
                    amount=str(EXPECTED[period]), paid_on="2026-01-15", voucher=f"黑财贴2026-{n:03d}")
        assert paid.status_code == 200, paid.json
    assert not owes(clean_app, "treasury2", "record_payout")

    # the project fails its acceptance: part of the last payment is clawed back
    early = fire("treasury2", "claw_back", "竣工验收未通过", claim=found["2026Q2"]["id"],
                 amount="1.0000", ground="failed_acceptance")
    assert early.status_code == 422  # it has not failed yet
    ent = fire("ent", "report_completion", actual_total_investment="4900",
               actual_equipment_investment="3900", completed_on=china_today().isoformat())
    assert ent.status_code == 200, ent.json
    failed = fire("checker", "fail_completion", "主要设备未按承诺到位")
    assert failed.status_code == 200 and failed.json["status"] == "failed"
    too_much = fire("treasury2", "claw_back", "竣工验收未通过", claim=found["2026Q2"]["id"],
                    amount="1.8084", ground="failed_acceptance")
    assert too_much.status_code == 422
    clawed = fire("treasury2", "claw_back", "竣工验收未通过，追回部分贴息",
                  claim=found["2026Q2"]["id"], amount="1.2000", ground="failed_acceptance")
    assert clawed.status_code == 200, clawed.json

    found = claims(cast, client, "ent")  # the enterprise sees its project's claims
    assert {p: (found[p]["status"], D(found[p]["paid"])) for p in EXPECTED} == {
        p: ("paid", amount) for p, amount in EXPECTED.items()}
    assert D(found["2026Q2"]["clawed_back"]) == D("1.2000")
    assert {k: D(v) for k, v in found["totals"].items()} == {
        "claimed": TOTAL, "approved": TOTAL, "paid": TOTAL,
        "clawed_back": D("1.2000")}
    # the dashboard's totals (the statistics rollup, kept by every step) say the same
    summary = cast.api(client, "treasury").get("/stats/summary").json
    assert {k: D(summary["financing"][f"subsidy_{k}"]) for k in found["totals"]} == {
        k: D(v) for k, v in found["totals"].items()}
    [harbin] = [row for row in summary["by_region"] if row["code"] == "230100"]
    assert (harbin["programme"], D(harbin["subsidy_claimed"]), D(harbin["subsidy_paid"])) == (
        "省级技术改造贴息", TOTAL, TOTAL)
    # the workbook a finance bureau files upward: one row per loan per quarter
    book = load_workbook(io.BytesIO(signed_in(clean_app, "treasury").get(
        "/subsidies/export.xlsx").data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert header[:2] == ("申请编号", "期间") and len(body) == 2 * len(EXPECTED)
    assert [(r[1], r[10]) for r in body if r[1] == "2026Q2"] == [("2026Q2", 14), ("2026Q2", 49)]
    assert "2025-04-01～2025-05-07 37天 2%" in body[0][11]
    assert sum(D(str(r[12])) for r in body) == D(str(total[12])) == TOTAL
    ledger = list(book.worksheets[1].iter_rows(values_only=True))[1:]
    assert sum(D(str(r[6])) for r in ledger) == D("1.2")
    # each step is an audit event of the project, citing 三(三)
    events = cast.api(client, "treasury").get(f"/projects/{pid}/events").json["items"]
    subsidy = [e for e in events if e["trigger"] in (
        "claim_subsidy", "return_claim", "approve_subsidy", "record_payout", "claw_back")]
    assert len(subsidy) == 5 + 1 + 9 + 4 + 1
    assert {e["clause"] for e in subsidy} == {"三(三)"}
    # another bank sees none of the lead bank's claims, in the list or in the trail
    assert cast.api(client, "bank01").get("/subsidies").json["items"] == []
    trail = cast.api(client, "bank01").get(f"/projects/{pid}/events").json["items"]
    assert trail and not {e["trigger"] for e in trail} & {
        "claim_subsidy", "return_claim", "approve_subsidy", "record_payout", "claw_back"}
    own = cast.api(client, "bank00").get(f"/projects/{pid}/events").json["items"]
    assert sum(e["trigger"] == "approve_subsidy" for e in own) == 9


def test_claims_wait_for_the_treasury_to_set_its_rate(clean_app, client):
    pid, v, bank = _contracted(clean_app, client, "2025")
    v = bank.fire(pid, "record_loan", v, amount="100", drawdown_date="2025-01-04",
                  supplier_paid_date="2025-01-05").json["version"]
    refused = bank.fire(pid, "claim_subsidy", v, period="2025Q3")
    assert refused.status_code == 422
    assert "has not entered it yet" in refused.json["message"]
    with clean_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SubsidyClaim)) == 0


def test_a_loan_drawn_before_relending_existed_is_recorded_without_relending(clean_app, client):
    pid, v, bank = _contracted(clean_app, client, "2023")
    done = bank.fire(pid, "record_loan", v, amount="100", drawdown_date="2023-01-04",
                     supplier_paid_date="2023-01-05")
    assert done.status_code == 200, done.json
    [loan] = bank.get("/loans").json["items"]
    assert D(loan["figures"]["relending_principal"]) == 0


def _contracted(clean_app, client, year: str):
    """A heilongjiang project whose designated lead bank has signed a contract in `year`."""
    cast = whitelist_cast(clean_app, 1, county="230110")
    [(pid, v)] = whitelisted_projects(clean_app, cast, 1)
    bank = cast.api(client, "bank00")
    v = bank.fire(pid, "express_interest", v).json["version"]
    v = bank.fire(pid, "claim_lead_bank", v).json["version"]
    for agency in ("pboc", "finance"):  # 会签
        v = cast.api(client, agency).fire(pid, "designate_lead_bank", v).json["version"]
    v = bank.fire(pid, "approve_credit", v, amount="100", approved_on=f"{year}-01-02").json["version"]
    v = bank.fire(pid, "sign_contract", v, amount="100", signed_on=f"{year}-01-03",
                  contract_number="1").json["version"]
    return pid, v, bank
