"""What each trigger records besides the status change (the same under every definition).

An effect runs once the step is decided, before anything is written. It changes the
project's values on the decision's `ProjectState`, describes the other rows it adds or
changes in the step's `ChangeSet` (a claim, a loan, an opinion), and returns facts worth
keeping in the audit event's data snapshot.
"""

import uuid
from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace

from ..models import (
    BankClaim,
    ChangeStatus,
    ClaimStatus,
    Engagement,
    ListEntry,
    Loan,
    Opinion,
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
from ..rules.project_values import apply_changes
from .changeset import ChangeSet

EFFECTS: dict[str, Callable[[RuleContext, datetime, ChangeSet], dict]] = {}


def effect(trigger: str):
    def register(fn):
        EFFECTS[trigger] = fn
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
    p = ctx.project
    p.recommended_at = None
    p.accepted_at = None
    p.commitment_signed_at = None
    p.filing_number = None
    p.filed_at = None
    return {}


@effect("accept")
def _accept(ctx, now, changes):
    ctx.project.accepted_at = now
    return {}


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

