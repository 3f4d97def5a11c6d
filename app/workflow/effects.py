"""What each trigger records besides the status change (the same under every definition).

An effect runs once the step is decided, before anything is written. It changes the
project's values on the decision's `ProjectState`, describes the other rows it adds or
changes in the step's `ChangeSet` (a claim, a loan, an opinion), and returns facts worth
keeping in the audit event's data snapshot.
"""

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from ..models import (
    BankClaim,
    ChangeStatus,
    ClaimStatus,
    Engagement,
    ListEntry,
    Loan,
    Opinion,
    ProgressReport,
    SubsidyClaim,
    SubsidyStatus,
    Verdict,
)
from ..rules import RuleContext
from ..rules.finance import STORED, loan_figures
from ..rules.guards import (
    PROCEDURE_OF_ROLE,
    engagement_of,
    loan_of,
    on_list,
    open_claim_of,
    pending_change_of,
)
from ..rules.progress import due_on, month_of, open_problem, report_day
from ..rules.project_values import apply_changes
from ..rules.resend import (
    clear_items,
    items_due_on,
    items_of,
    items_setting,
    review_again,
    send_back_target,
    undo_from,
)
from ..rules.subsidy import (
    ONCE,
    cap_keys,
    claim_figures,
    claim_of,
    claim_view,
    joint_roles,
    lines_json,
    period_claim,
    programme_of,
    quarter_days,
    stage_claim,
)
from .changeset import ChangeSet

EFFECTS: dict[str, Callable[[RuleContext, datetime, ChangeSet], dict]] = {}
# Triggers whose decision (guards and effect) reads rows that steps on other projects write:
# the keys such a step is serialised on, from its context — none where it reads nothing of
# other projects this time (see `database.serialised_step`).
SERIALISED: dict[str, Callable[[RuleContext], tuple[str, ...]]] = {}


def effect(trigger: str, serialised_by: Callable[[RuleContext], tuple[str, ...]] | None = None):
    def register(fn):
        EFFECTS[trigger] = fn
        if serialised_by is not None:
            SERIALISED[trigger] = serialised_by
        return fn
    return register


@effect("submit")
def _submit(ctx, now, changes):
    if ctx.project.declared_at is None:
        ctx.project.declared_at = now
    return {}


@effect("return")
def _return(ctx, now, changes):
    # A returned project is reviewed again from the start: recommendation, acceptance,
    # commitment and filing lapse (procedures too: they count from the acceptance).
    review_again(ctx.project)
    return {}


@effect("send_back")
def _send_back(ctx, now, changes):
    # 驳回到指定环节: the target and the steps after it are undone, those kept stand.
    target = send_back_target(ctx)
    return {"to": target, "undone": undo_from(ctx.project, ctx.definition, target)}


@effect("accept")
def _accept(ctx, now, changes):
    p = ctx.project
    p.accepted_at = now
    items = ctx.data.get("items_to_follow")
    if not items:
        clear_items(p)
        return {}
    # 容缺受理: accepted without these documents, owed by the enterprise by a working day
    p.items_to_follow = "\n".join(dict.fromkeys(items))
    p.items_commitment = ctx.data["commitment"]
    p.items_due_on = items_due_on(items_setting(ctx), p.jurisdiction_code, ctx.today)
    return {"items_due_on": p.items_due_on.isoformat()}


@effect("supply_items")
def _supply_items(ctx, now, changes):
    p = ctx.project
    supplied = ctx.data.get("items") or items_of(p)
    left = [item for item in items_of(p) if item not in supplied]
    p.items_to_follow = "\n".join(left) or None
    if not left:
        p.items_due_on = None
    return {"items": supplied, "outstanding": left}


@effect("recommend")
def _recommend(ctx, now, changes):
    ctx.project.recommended_at = now
    return {"recommended_by": ctx.actor.organization.name}


def _stage(project, kind: str, key=None, value=None):
    """Let the step's own later rules (what is owed next) see a row it adds or changes."""
    found = project.staged.setdefault(kind, {} if key is not None else set())
    if key is not None:
        found[key] = value
    else:
        found.add(value)


@effect("record_opinion")
def _record_opinion(ctx, now, changes):
    opinion = Opinion(project_id=ctx.project.id, role=ctx.actor.role,
                      organization_id=ctx.actor.organization_id, user_id=ctx.actor.id,
                      verdict=Verdict(ctx.data["opinion"]), reference=ctx.data.get("reference"),
                      decided_on=ctx.data.get("decided_on"), comment=ctx.comment,
                      recorded_at=now)
    changes.add(opinion)
    _stage(ctx.project, "opinions", ctx.actor.role, opinion)
    return {"department": ctx.actor.organization.name,
            "procedure": PROCEDURE_OF_ROLE.get(ctx.actor.role)}


def _decide_change(ctx, now, changes, status: ChangeStatus, **values):
    request = pending_change_of(ctx.project)
    changes.change(request, status=status, decided_by_id=ctx.actor.id, decided_at=now,
                   comment=ctx.comment, **values)
    return request


@effect("approve_change")
def _approve_change(ctx, now, changes):
    number = ctx.data["filing_number"]
    request = _decide_change(ctx, now, changes, ChangeStatus.APPROVED, filing_number=number)
    fields = apply_changes(ctx.project, request.changes)
    ctx.project.filing_number = number
    ctx.project.filed_at = now
    moved = ctx.relocation.apply(ctx.project, changes, now) if ctx.relocation else {}
    return {"changes": request.changes, "fields": fields, **moved}


@effect("refuse_change")
def _refuse_change(ctx, now, changes):
    return {"changes": _decide_change(ctx, now, changes, ChangeStatus.REFUSED).changes}


@effect("sign_commitment")
def _sign_commitment(ctx, now, changes):
    ctx.project.commitment_signed_at = now
    return {}


@effect("file")
def _file(ctx, now, changes):
    p = ctx.project
    p.filing_number = ctx.data["filing_number"]
    p.filed_at = now
    if ctx.data.get("project_code"):
        p.project_code = ctx.data["project_code"]
    return {"project_code": p.project_code}


@effect("whitelist")
def _whitelist(ctx, now, changes):
    changes.add(ListEntry(project_id=ctx.project.id, list_key=ctx.data["list"],
                          batch=ctx.data["batch"], added_by_id=ctx.actor.id, added_at=now))
    _stage(ctx.project, "lists", value=ctx.data["list"])
    return {}


@effect("claim_lead_bank")
def _claim(ctx, now, changes):
    bank = ctx.actor.organization
    changes.add(BankClaim(project_id=ctx.project.id, bank_id=bank.id, status=ClaimStatus.OPEN,
                          claimed_by_id=ctx.actor.id, claimed_at=now))
    ctx.project.staged["open_claim"] = SimpleNamespace(bank_id=bank.id,
                                                       bank=SimpleNamespace(name=bank.name))
    return {"bank": bank.name}


def _decide(ctx, now, changes, status: ClaimStatus) -> BankClaim:
    claim = open_claim_of(ctx.project)
    changes.change(claim, status=status, decided_by_id=ctx.actor.id, decided_at=now,
                   comment=ctx.comment)
    ctx.project.staged["open_claim"] = None
    return claim


@effect("decline_claim")
def _decline(ctx, now, changes):
    return {"bank": _decide(ctx, now, changes, ClaimStatus.DECLINED).bank.name}


@effect("designate_lead_bank")
def _designate(ctx, now, changes):
    claim = _decide(ctx, now, changes, ClaimStatus.DESIGNATED)
    ctx.project.lead_bank_id = claim.bank_id
    return {"bank": claim.bank.name}


@effect("express_interest")
def _express_interest(ctx, now, changes):
    engagement = Engagement(project_id=ctx.project.id, bank_id=ctx.actor.organization_id,
                            interested_at=now)
    changes.add(engagement)
    _stage(ctx.project, "engagements", engagement.bank_id, _engaged(engagement))
    return {"bank": ctx.actor.organization.name}


ENGAGEMENT_TERMS = ("bank_id", "credit_amount", "credit_approved_on", "contract_amount",
                    "contract_signed_on", "contract_number", "contract_term_months")


def _engaged(engagement, **changed) -> SimpleNamespace:
    """A bank's engagement as the step leaves it (the ORM row is left as read)."""
    return SimpleNamespace(**{**{t: getattr(engagement, t, None) for t in ENGAGEMENT_TERMS},
                              **changed})


@effect("approve_credit")
def _approve_credit(ctx, now, changes):
    engagement = engagement_of(ctx.project, ctx.actor.organization_id)
    ctx.project.credit_total += ctx.data["amount"] - (engagement.credit_amount or 0)
    terms = {"credit_amount": ctx.data["amount"], "credit_approved_on": ctx.data["approved_on"]}
    changes.change(engagement, **terms)
    _stage(ctx.project, "engagements", engagement.bank_id, _engaged(engagement, **terms))
    return {"bank": ctx.actor.organization.name}


@effect("sign_contract")
def _sign_contract(ctx, now, changes):
    engagement = engagement_of(ctx.project, ctx.actor.organization_id)
    ctx.project.contract_total += ctx.data["amount"] - (engagement.contract_amount or 0)
    terms = {"contract_amount": ctx.data["amount"], "contract_signed_on": ctx.data["signed_on"],
             "contract_number": ctx.data.get("contract_number"),
             "contract_term_months": ctx.data.get("term_months")}
    changes.change(engagement, **terms)
    _stage(ctx.project, "engagements", engagement.bank_id, _engaged(engagement, **terms))
    facts = {"bank": ctx.actor.organization.name}
    # Where no agency designates a lead bank, the first bank to sign a contract leads.
    if ctx.project.lead_bank_id is None and not ctx.definition.transitions_for(
            "designate_lead_bank"):
        ctx.project.lead_bank_id = ctx.actor.organization_id
        facts["lead_bank"] = True
    return facts


@effect("end_matchmaking")
def _end_matchmaking(ctx, now, changes):
    ctx.project.matchmaking_ended_at = now
    return {}


@effect("record_loan")
def _record_loan(ctx, now, changes):
    engagement = engagement_of(ctx.project, ctx.actor.organization_id)
    loan = Loan(public_id=uuid.uuid4(), project_id=ctx.project.id,
                bank_id=ctx.actor.organization_id, amount=ctx.data["amount"],
                drawdown_date=ctx.data["drawdown_date"],
                supplier_paid_date=ctx.data.get("supplier_paid_date"),
                term_months=engagement.contract_term_months if engagement else None,
                other_subsidy=bool(ctx.data.get("other_subsidy")), refinanced_on=None,
                recorded_by_id=ctx.actor.id, recorded_at=now)
    for name, value in refigured(loan, ctx.project).items():
        setattr(loan, name, value)
    changes.add(loan)
    ctx.project.staged.setdefault("new_loans", []).append(loan)
    ctx.project.drawn_total += loan.amount
    ctx.project.loan_count += 1
    return {"loan": str(loan.public_id), "bank": ctx.actor.organization.name}


@effect("confirm_refinancing")
def _confirm_refinancing(ctx, now, changes):
    loan = loan_of(ctx.project, ctx.data["loan"])
    refinanced = SimpleNamespace(**{attr: getattr(loan, attr) for attr in LOAN_TERMS},
                                 refinanced_on=ctx.data["refinanced_on"])
    changes.change(loan, refinanced_on=refinanced.refinanced_on,
                   **refigured(refinanced, ctx.project))
    _stage(ctx.project, "refinanced", value=loan.id)
    return {"amount": str(loan.amount)}


# What a loan's figures depend on besides its refinancing, and the figures it keeps.
LOAN_TERMS = ("amount", "drawdown_date", "supplier_paid_date", "term_months", "other_subsidy",
              "relending_principal", "subsidy")


def refigured(loan, project) -> dict:
    """The loan's figures as of now, by column, to keep on it; the project keeps the sums of
    its loans' principal and subsidy for the statistics rollup."""
    figures = loan_figures(loan, listed=on_list(project, "relending"),
                           jurisdiction=project.jurisdiction_code)
    project.relending_total += figures.relending_principal - (loan.relending_principal or 0)
    project.subsidy_total += figures.subsidy - (loan.subsidy or 0)
    return {name: getattr(figures, name) for name in STORED}


@effect("report_completion")
def _report_completion(ctx, now, changes):
    p = ctx.project
    p.actual_total_investment = ctx.data["actual_total_investment"]
    p.actual_equipment_investment = ctx.data.get("actual_equipment_investment")
    p.completed_on = ctx.data["completed_on"]
    p.completion_reported_at = now
    return {}


@effect("verify_completion")
def _verify_completion(ctx, now, changes):
    """What the agency checked replaces what the enterprise reported (the event keeps both)."""
    p = ctx.project
    reported = {"reported_total_investment": str(p.actual_total_investment),
                "reported_equipment_investment": str(p.actual_equipment_investment)}
    p.actual_total_investment = ctx.data["checked_total_investment"]
    p.actual_equipment_investment = ctx.data["checked_equipment_investment"]
    return reported


@effect("return_completion")
def _return_completion(ctx, now, changes):
    ctx.project.completion_reported_at = None  # the enterprise corrects and reports again
    return {}



@effect("report_progress")
def _report_progress(ctx, now, changes):
    """The month's report is its own row; the project keeps where the latest one stands."""
    p, data = ctx.project, ctx.data
    month = month_of(data["month"])
    late = ctx.today > due_on(month, report_day(ctx.definition, p.jurisdiction_code, ctx.today))
    installed = {k: v.isoformat() for k, v in (data.get("equipment_installed") or {}).items()}
    report = ProgressReport(project_id=p.id, month=month,
                            actual_start_on=data.get("actual_start_on"),
                            investment_completed=data["investment_completed"],
                            percent_complete=data["percent_complete"],
                            equipment_installed=installed, problems=data.get("problems"),
                            late=late, reported_by_id=ctx.actor.id, reported_at=now)
    changes.add(report)
    p.staged.setdefault("progress_reports", []).append(report)
    if p.actual_start_on is None and data.get("actual_start_on"):
        p.actual_start_on = data["actual_start_on"]
    if p.progress_month is None or month >= p.progress_month:
        p.investment_completed = data["investment_completed"]
        p.percent_complete = data["percent_complete"]
        p.progress_month = month
    return {"month": month.strftime("%Y-%m"), "late": late}


@effect("answer_problem")
def _answer_problem(ctx, now, changes):
    report = open_problem(ctx.project)
    changes.change(report, answer=ctx.comment, answered_by_id=ctx.actor.id,
                   answered_by_name=ctx.actor.organization.name, answered_at=now)
    ctx.project.staged.setdefault("answered", []).append(report.id)
    return {"month": report.month.strftime("%Y-%m"), "problems": report.problems}


@effect("exit_library")
def _exit_library(ctx, now, changes):
    return {"reason": ctx.project.stall_reason}


@effect("defer_batch")
def _defer_batch(ctx, now, changes):
    """Moved to a later batch: the warning is cleared, misses and the lapse count afresh."""
    p = ctx.project
    before = p.batch_year
    p.batch_year = ctx.data.get("batch_year") or max(before or 0, ctx.today.year) + 1
    reason = p.stall_reason
    p.stall_warned_at, p.stall_reason = None, None
    p.progress_reset_on = ctx.today
    return {"batch_from": before, "batch_to": p.batch_year, "reason": reason}


# -- fiscal support claims (贴息、奖补): rows of their own, the project's status unchanged ----


@effect("claim_subsidy", serialised_by=cap_keys)
def _claim_subsidy(ctx, now, changes):
    """A claim for one period, with its loans' days and amounts as computed now; a returned
    claim for the period is corrected in place (its number stays)."""
    programme = programme_of(ctx.definition)
    figures = claim_figures(ctx)
    period = ctx.data.get("period") if programme.kind == "interest" else ONCE
    first, last = quarter_days(period) if period != ONCE else (None, None)
    values = {"status": SubsidyStatus.SUBMITTED, "claimed": figures.amount, "approved": None,
              "lines": lines_json(figures.lines), "approvals": [], "comment": ctx.comment,
              "updated_at": now}
    earlier = period_claim(ctx.project, programme.key, period)
    ctx.project.claimed_total += figures.amount  # a returned claim no longer counted
    if earlier is not None:
        changes.change(earlier, **values)
        view = claim_view(earlier, **values)
    else:
        claim = SubsidyClaim(
            public_id=uuid.uuid4(), number=f"{programme.key}-{ctx.project.id}-{period}",
            project_id=ctx.project.id, workflow_key=ctx.definition.key, programme=programme.key,
            jurisdiction_code=ctx.project.jurisdiction_code,
            claimant_id=ctx.actor.organization_id, period=period, period_start=first,
            period_end=last, clawed_back=Decimal(0), claimed_by_id=ctx.actor.id,
            claimed_at=now, **values)
        changes.add(claim)
        view = claim_view(claim)
    stage_claim(ctx.project, view)
    return {"claim": view.number, "claimant": ctx.actor.organization.name,
            "programme": programme.key, "period": period,
            "amount": str(figures.amount), "computed": str(figures.computed),
            "limited_by": figures.limited_by.json() if figures.limited_by else None,
            "corrects": earlier is not None,
            "loans": [{"loan": line.loan, "days": line.days, "amount": str(line.amount)}
                      for line in figures.lines]}


def _on_claim(ctx, now, changes, **values) -> dict:
    claim = claim_of(ctx.project, ctx.data["claim"])
    changes.change(claim, updated_at=now, **values)
    stage_claim(ctx.project, claim_view(claim, **values))
    return {"claim": claim.number, "period": claim.period, "claimant": claim.claimant.name}


@effect("return_claim")
def _return_claim(ctx, now, changes):
    # Any objection returns the claim: the approvals so far lapse with it, and its amount
    # counts nowhere until it is corrected.
    ctx.project.claimed_total -= claim_of(ctx.project, ctx.data["claim"]).claimed
    return _on_claim(ctx, now, changes, status=SubsidyStatus.RETURNED, approvals=[],
                     comment=ctx.comment)


@effect("approve_subsidy")
def _approve_subsidy(ctx, now, changes):
    """One agency's approval; the claim is approved once every co-signing role approved."""
    claim = claim_of(ctx.project, ctx.data["claim"])
    approvals = [*(claim.approvals or []), {
        "role": ctx.acting_role, "org": ctx.actor.organization.name, "user": ctx.actor.id,
        "at": now.isoformat()}]
    joint = joint_roles(ctx.definition)
    done = {a["role"] for a in approvals} >= set(joint)
    values = {"approvals": approvals}
    if done:
        values.update(status=SubsidyStatus.APPROVED, approved=claim.claimed)
        ctx.project.approved_total += claim.claimed
    facts = _on_claim(ctx, now, changes, **values)
    return {**facts, "approved": done, "amount": str(claim.claimed),
            "awaiting": [r for r in joint if r not in {a["role"] for a in approvals}]}


@effect("record_payout")
def _record_payout(ctx, now, changes):
    ctx.project.paid_total += ctx.data["amount"]
    facts = _on_claim(ctx, now, changes, status=SubsidyStatus.PAID, paid=ctx.data["amount"],
                      paid_on=ctx.data["paid_on"], voucher=ctx.data["voucher"])
    return {**facts, "amount": str(ctx.data["amount"])}


@effect("claw_back")
def _claw_back(ctx, now, changes):
    claim = claim_of(ctx.project, ctx.data["claim"])
    total = claim.clawed_back + ctx.data["amount"]
    ctx.project.clawed_back_total += ctx.data["amount"]
    facts = _on_claim(ctx, now, changes, clawed_back=total, comment=ctx.comment)
    return {**facts, "amount": str(ctx.data["amount"]), "clawed_back": str(total)}
