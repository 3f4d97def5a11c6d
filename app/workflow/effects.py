"""What each trigger records besides the status change (the same under every definition).

An effect runs inside the engine's transaction, after the conditional status update
succeeded, and returns facts worth keeping in the audit event's data snapshot.
"""

from collections.abc import Callable
from datetime import datetime

from ..extensions import db
from ..models import (
    BankClaim,
    ChangeRequest,
    ChangeStatus,
    ClaimStatus,
    Engagement,
    ListEntry,
    Loan,
    Opinion,
    Project,
    Verdict,
)
from ..rules import RuleContext
from ..rules.finance import loan_figures
from ..rules.guards import engagement_of, loan_of, on_list, open_claim_of, pending_change_of
from ..services.project_values import apply_changes

EFFECTS: dict[str, Callable[[RuleContext, datetime], dict]] = {}


def effect(trigger: str):
    def register(fn):
        EFFECTS[trigger] = fn
        return fn
    return register


@effect("submit")
def _submit(ctx, now):
    if ctx.project.declared_at is None:
        ctx.project.declared_at = now
    return {}


@effect("return")
def _return(ctx, now):
    # A returned project is reviewed again from the start: recommendation, commitment and
    # filing lapse (opinions lapse too: they count only from the current stage's start).
    p: Project = ctx.project
    p.recommended_at = None
    p.commitment_signed_at = None
    p.filing_number = None
    p.filed_at = None
    return {}


@effect("recommend")
def _recommend(ctx, now):
    ctx.project.recommended_at = now
    return {"recommended_by": ctx.actor.organization.name}


@effect("record_opinion")
def _record_opinion(ctx, now):
    db.session.add(Opinion(project_id=ctx.project.id, role=ctx.actor.role,
                           organization_id=ctx.actor.organization_id, user_id=ctx.actor.id,
                           verdict=Verdict(ctx.data["opinion"]), reference=ctx.data.get("reference"),
                           comment=ctx.comment, recorded_at=now))
    return {"department": ctx.actor.organization.name}


def _decide_change(ctx, now, status: ChangeStatus) -> ChangeRequest:
    request = pending_change_of(ctx.project)
    request.status = status
    request.decided_by_id = ctx.actor.id
    request.decided_at = now
    request.comment = ctx.comment
    return request


@effect("approve_change")
def _approve_change(ctx, now):
    request = _decide_change(ctx, now, ChangeStatus.APPROVED)
    request.filing_number = ctx.data["filing_number"]
    apply_changes(ctx.project, request.changes)
    ctx.project.filing_number = request.filing_number
    ctx.project.filed_at = now
    return {"changes": request.changes}


@effect("refuse_change")
def _refuse_change(ctx, now):
    return {"changes": _decide_change(ctx, now, ChangeStatus.REFUSED).changes}


@effect("sign_commitment")
def _sign_commitment(ctx, now):
    ctx.project.commitment_signed_at = now
    return {}


@effect("file")
def _file(ctx, now):
    p: Project = ctx.project
    p.filing_number = ctx.data["filing_number"]
    p.filed_at = now
    if ctx.data.get("project_code"):
        p.project_code = ctx.data["project_code"]
    return {"project_code": p.project_code}


@effect("whitelist")
def _whitelist(ctx, now):
    db.session.add(ListEntry(project_id=ctx.project.id, list_key=ctx.data["list"],
                             batch=ctx.data["batch"], added_by_id=ctx.actor.id, added_at=now))
    return {}


@effect("claim_lead_bank")
def _claim(ctx, now):
    bank = ctx.actor.organization
    db.session.add(BankClaim(project_id=ctx.project.id, bank_id=bank.id, status=ClaimStatus.OPEN,
                             claimed_by_id=ctx.actor.id, claimed_at=now))
    return {"bank": bank.name}


def _decide(ctx, now, status: ClaimStatus) -> BankClaim:
    claim = open_claim_of(ctx.project)
    claim.status = status
    claim.decided_by_id = ctx.actor.id
    claim.decided_at = now
    claim.comment = ctx.comment
    return claim


@effect("decline_claim")
def _decline(ctx, now):
    return {"bank": _decide(ctx, now, ClaimStatus.DECLINED).bank.name}


@effect("designate_lead_bank")
def _designate(ctx, now):
    claim = _decide(ctx, now, ClaimStatus.DESIGNATED)
    ctx.project.lead_bank_id = claim.bank_id
    return {"bank": claim.bank.name}


@effect("express_interest")
def _express_interest(ctx, now):
    db.session.add(Engagement(project_id=ctx.project.id, bank_id=ctx.actor.organization_id,
                              interested_at=now))
    return {"bank": ctx.actor.organization.name}


@effect("approve_credit")
def _approve_credit(ctx, now):
    engagement = engagement_of(ctx.project, ctx.actor.organization_id)
    ctx.project.credit_total += ctx.data["amount"] - (engagement.credit_amount or 0)
    engagement.credit_amount = ctx.data["amount"]
    engagement.credit_approved_on = ctx.data["approved_on"]
    return {"bank": ctx.actor.organization.name}


@effect("sign_contract")
def _sign_contract(ctx, now):
    engagement = engagement_of(ctx.project, ctx.actor.organization_id)
    ctx.project.contract_total += ctx.data["amount"] - (engagement.contract_amount or 0)
    engagement.contract_amount = ctx.data["amount"]
    engagement.contract_signed_on = ctx.data["signed_on"]
    engagement.contract_number = ctx.data.get("contract_number")
    engagement.contract_term_months = ctx.data.get("term_months")
    return {"bank": ctx.actor.organization.name}


@effect("record_loan")
def _record_loan(ctx, now):
    engagement = engagement_of(ctx.project, ctx.actor.organization_id)
    loan = Loan(project_id=ctx.project.id, bank_id=ctx.actor.organization_id,
                amount=ctx.data["amount"], drawdown_date=ctx.data["drawdown_date"],
                supplier_paid_date=ctx.data.get("supplier_paid_date"),
                term_months=engagement.contract_term_months if engagement else None,
                other_subsidy=bool(ctx.data.get("other_subsidy")),
                recorded_by_id=ctx.actor.id, recorded_at=now)
    db.session.add(loan)
    db.session.flush()
    ctx.project.drawn_total += loan.amount
    ctx.project.loan_count += 1
    store_figures(loan, ctx.project)
    return {"loan": str(loan.public_id), "bank": ctx.actor.organization.name}


@effect("confirm_refinancing")
def _confirm_refinancing(ctx, now):
    loan = loan_of(ctx.project, ctx.data["loan"])
    loan.refinanced_on = ctx.data["refinanced_on"]
    store_figures(loan, ctx.project)
    return {"amount": str(loan.amount)}


def store_figures(loan: Loan, project: Project) -> None:
    figures = loan_figures(loan, listed=on_list(project, "relending"),
                           jurisdiction=project.jurisdiction_code)
    # The project keeps the sums of its loans' figures for the statistics rollup.
    project.relending_total += figures.relending_principal - (loan.relending_principal or 0)
    project.subsidy_total += figures.subsidy - (loan.subsidy or 0)
    loan.relending_principal = figures.relending_principal
    loan.subsidy = figures.subsidy


@effect("report_completion")
def _report_completion(ctx, now):
    p: Project = ctx.project
    p.actual_total_investment = ctx.data["actual_total_investment"]
    p.completed_on = ctx.data["completed_on"]
    p.completion_reported_at = now
    return {}
