"""The guards and branch predicates definitions may name."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, func, select, true

from ..extensions import db
from ..i18n import format_day
from ..i18n import gettext as _
from ..labels import FIELD_LABELS, LIST_LABELS, ROLE_LABELS, join_list, status_label
from ..models import (
    BankClaim,
    ChangeRequest,
    ChangeStatus,
    ClaimStatus,
    Engagement,
    EquipmentItem,
    EquipmentKind,
    IntendedBank,
    ListEntry,
    Loan,
    Opinion,
    Verdict,
    china_date,
    china_today,
)
from .context import RuleContext, branch, guard
from .eligibility import commitment_filing_reasons
from .finance import relending_list_reasons
from .money import format_wan
from .parameters import parameter
from .settings import local_value

DECLARATION_FIELDS = (
    "name", "industry", "task", "batch_year", "content", "total_investment",
    "fixed_asset_investment", "equipment_investment", "planned_start", "planned_end",
)


def commitment_reasons(project, today) -> list[str]:
    """Why `project` does not qualify for commitment filing on `today` (empty: it does)."""
    threshold = parameter("commitment_equipment_share", today, project.jurisdiction_code)
    return commitment_filing_reasons(new_land=project.new_land, total=project.total_investment,
                                     equipment=project.equipment_investment, threshold=threshold)


def status_name(project, status=None) -> str:
    """The name of `status` (default: the project's own) as this project lives it: its filing
    stage is 一般备案 (ordinary filing) where the project may not file on commitment."""
    status = getattr(status or project.status, "value", status or project.status)
    ordinary = (status == "commitment_filing"
                and bool(commitment_reasons(project, china_today())))
    return status_label(status, ordinary)


def _commitment_reasons(ctx: RuleContext) -> list[str]:
    return commitment_reasons(ctx.project, ctx.today)


@branch("needs_financing")
def needs_financing(ctx: RuleContext) -> bool:
    return ctx.project.needs_financing


@branch("no_financing_need")
def no_financing_need(ctx: RuleContext) -> bool:
    return not ctx.project.needs_financing


def missing_declaration_fields(project) -> list[str]:
    """The fields a declaration still lacks before it may be submitted (empty: complete)."""
    missing = [f for f in DECLARATION_FIELDS if getattr(project, f) in (None, "")]
    if not project.has_equipment:
        missing.append("equipment")
    return missing


@guard("declaration_complete")
def declaration_complete(ctx: RuleContext):
    missing = [str(FIELD_LABELS[f]) for f in missing_declaration_fields(ctx.project)]
    if missing:
        return _("The declaration is incomplete: %(fields)s.", fields=join_list(missing))
    return None


@guard("commitment_eligible")
def commitment_eligible(ctx: RuleContext):
    reasons = _commitment_reasons(ctx)
    return " ".join(reasons) if reasons else None


@guard("commitment_not_signed")
def commitment_not_signed(ctx: RuleContext):
    if ctx.project.commitment_signed_at is None:
        return None
    return _("The enterprise signed the filing commitment on %(date)s.",
             date=format_day(china_date(ctx.project.commitment_signed_at)))


@guard("commitment_signed_if_eligible")
def commitment_signed_if_eligible(ctx: RuleContext):
    if not _commitment_reasons(ctx) and ctx.project.commitment_signed_at is None:
        return _("The enterprise has not signed the filing commitment yet.")
    return None


@guard("project_code_known")
def project_code_known(ctx: RuleContext):
    if ctx.project.project_code or ctx.data.get("project_code") or ctx.probing:
        return None
    return _("The project has no project code; give the code issued by the online approval "
             "platform.")


@guard("not_on_list")
def not_on_list(ctx: RuleContext):
    if ctx.probing:
        return None
    listed = db.session.scalar(select(exists().where(
        ListEntry.project_id == ctx.project.id, ListEntry.list_key == ctx.data.get("list"),
        ListEntry.batch == ctx.data.get("batch"))))
    if listed:
        return _("The project is already on list %(list)s, batch %(batch)s.",
                 list=ctx.data.get("list"), batch=ctx.data.get("batch"))
    return None


# -- what the step being decided adds ------------------------------------------------------
# An effect describes the rows its step adds or changes; they are written with the step,
# after the decision. The decision's later rules (which steps are owed next) must see them,
# so the effect stages them on the project (`project.staged`) and the readers below look
# there before the database.


def staged(project) -> dict:
    return getattr(project, "staged", None) or {}


@guard("whitelisted")
def whitelisted(ctx: RuleContext):
    listed = staged(ctx.project).get("lists") or db.session.scalar(select(exists().where(
        ListEntry.project_id == ctx.project.id)))
    return None if listed else _("The project is not on any whitelist yet.")


def open_claim_of(project) -> BankClaim | None:
    if "open_claim" in staged(project):
        return staged(project)["open_claim"]
    return db.session.scalar(select(BankClaim).where(
        BankClaim.project_id == project.id, BankClaim.status == ClaimStatus.OPEN))


@guard("no_open_claim")
def no_open_claim(ctx: RuleContext):
    claim = open_claim_of(ctx.project)
    if claim is None:
        return None
    return _("%(bank)s has already claimed lead bank; the claim awaits a decision.",
             bank=claim.bank.name)


@guard("open_claim")
def open_claim(ctx: RuleContext):
    return None if open_claim_of(ctx.project) else _("No bank has an open lead-bank claim.")


@guard("filed")
def filed(ctx: RuleContext):
    return None if ctx.project.filed_at else _("The project has not been filed yet.")


@guard("completion_reported")
def completion_reported(ctx: RuleContext):
    if ctx.project.completion_reported_at:
        return None
    return _("The enterprise has not reported completion yet.")


@guard("completion_not_reported")
def completion_not_reported(ctx: RuleContext):
    """Reported once; the agency returns the report if it needs correcting."""
    if ctx.project.completion_reported_at is None:
        return None
    return _("Completion has been reported and awaits verification.")


@guard("completion_date_valid")
def completion_date_valid(ctx: RuleContext):
    """(Kept for definitions in the first format.)"""
    completed_on = ctx.data.get("completed_on")
    if completed_on and completed_on > ctx.today:
        return _("The completion date %(date)s lies in the future.", date=format_day(completed_on))
    return None


@guard("completion_dates_valid")
def completion_dates_valid(ctx: RuleContext):
    """A project is completed after it was filed and started, and not in the future."""
    completed_on = ctx.data.get("completed_on")
    if not completed_on:
        return None
    if completed_on > ctx.today:
        return _("The completion date %(date)s lies in the future.", date=format_day(completed_on))
    filed_at = ctx.project.filed_at
    if filed_at is not None and completed_on < china_date(filed_at):
        return _("The completion date %(date)s precedes the filing (%(filed)s).",
                 date=format_day(completed_on), filed=format_day(china_date(filed_at)))
    start = ctx.project.planned_start
    if start is not None and completed_on < start:
        return _("The completion date %(date)s precedes the planned start (%(start)s).",
                 date=format_day(completed_on), start=format_day(start))
    return None


@guard("completion_checks_pass")
def completion_checks_pass(ctx: RuleContext):
    """Verification records what was checked; each shortfall is named."""
    if ctx.probing:
        return None
    failures = completion_failures(ctx)
    return " ".join(failures) if failures else None


def completion_failures(ctx: RuleContext) -> list[str]:
    """What the verification found short: equipment not delivered, retired equipment not
    disposed of, new equipment below the energy-efficiency grade the document demands."""
    failures = []
    items = list(db.session.scalars(select(EquipmentItem).where(
        EquipmentItem.project_id == ctx.project.id).order_by(EquipmentItem.position)))
    if any(i.kind == EquipmentKind.NEW for i in items) and not ctx.data.get("equipment_delivered"):
        failures.append(_("The declared new equipment has not all been delivered."))
    if any(i.kind == EquipmentKind.OLD for i in items) and not ctx.data.get("retired_disposed"):
        failures.append(_("The equipment to be retired has not been disposed of."))
    required = ctx.definition.energy_grade
    if required is not None:
        checked = ctx.data.get("energy_grades") or {}
        for item in items:
            if item.kind != EquipmentKind.NEW:
                continue
            grade = checked.get(str(item.position), item.energy_grade)
            if grade is None:
                failures.append(_("The energy-efficiency grade of “%(name)s” was not checked.",
                                  name=item.name))
            elif grade > required.value:
                failures.append(_("“%(name)s” is of energy-efficiency grade %(grade)s; the "
                                  "document demands grade %(required)s or better.",
                                  name=item.name, grade=grade, required=required.value))
    return failures


@guard("loan_dates_valid")
def loan_dates_valid(ctx: RuleContext):
    drawdown, paid = ctx.data.get("drawdown_date"), ctx.data.get("supplier_paid_date")
    if drawdown and drawdown > ctx.today:
        return _("The drawdown date %(date)s lies in the future.", date=format_day(drawdown))
    if drawdown and paid and paid < drawdown:
        return _("The supplier cannot be paid (%(paid)s) before the loan is drawn (%(drawn)s).",
                 paid=paid, drawn=drawdown)
    return None


@guard("batch_open")
def batch_open(ctx: RuleContext):
    """A batch closes on the cut-off date the agency set for it (no implicit year end)."""
    year = ctx.project.batch_year
    if year is None:
        return None
    cutoff = batch_cutoff(year, ctx.project.jurisdiction_code, ctx.today)
    if cutoff is not None and ctx.today > date.fromisoformat(cutoff.value):
        return _("The %(year)s batch closed on %(date)s (set by %(by)s); declare the project "
                 "for an open batch.", year=year, date=format_day(cutoff.value),
                 by=cutoff.set_by)
    return None


def batch_cutoff(year: int, jurisdiction_code: str, today):
    """The cut-off date set for the batch of `year` where the project lies, if any."""
    return local_value(f"batch_cutoff:{year}", jurisdiction_code, today)


@guard("recommended")
def recommended(ctx: RuleContext):
    if ctx.project.recommended_at:
        return None
    return _("The county-level department has not reviewed and recommended the project yet.")


@guard("not_recommended")
def not_recommended(ctx: RuleContext):
    return _("The project has already been recommended.") if ctx.project.recommended_at else None


@guard("ordinary_filing")
def ordinary_filing(ctx: RuleContext):
    if _commitment_reasons(ctx):
        return None
    return _("The project qualifies for commitment filing; no consultation opinion is needed.")


def stage_opinions(project) -> dict[str, Opinion]:
    """The latest opinion of each consulted role since the project entered its stage."""
    rows = db.session.scalars(select(Opinion).where(
        Opinion.project_id == project.id, Opinion.recorded_at >= project.status_changed_at)
        .order_by(Opinion.recorded_at))
    return {row.role: row for row in rows}


@guard("opinion_not_recorded")
def opinion_not_recorded(ctx: RuleContext):
    if ctx.acting_role not in stage_opinions(ctx.project):
        return None
    return _("Your department's opinion is already recorded.")


@guard("opinions_recorded")
def opinions_recorded(ctx: RuleContext):
    """An ordinary filing needs an approving opinion from every department the definition
    consults (each role that has a record_opinion step)."""
    if not _commitment_reasons(ctx):
        return None
    consulted = sorted({s.role for s in ctx.definition.transitions_for("record_opinion")})
    opinions = stage_opinions(ctx.project)
    missing = [str(ROLE_LABELS[role]) for role in consulted
               if role not in opinions or opinions[role].verdict != Verdict.APPROVE]
    if missing:
        return _("Ordinary filing needs the approving opinion of: %(departments)s.",
                 departments=join_list(missing))
    return None


# -- preliminary procedures (前期手续), tracked beside the filing --------------------------

PROCEDURE_OF_ROLE = {"agency:land": "land", "agency:env": "environment",
                     "agency:ndrc": "energy", "agency:energy": "energy"}


def energy_review_exempt(project, today) -> bool:
    """Below both thresholds a year, a project needs no energy review (practice)."""
    if project.energy_tce is None or project.electricity_kwh is None:
        return False
    place = project.jurisdiction_code
    return (project.energy_tce < parameter("energy_review_min_tce", today, place)
            and project.electricity_kwh < parameter("energy_review_min_kwh", today, place))


def procedure_needed(project, procedure: str, today) -> bool:
    """An ordinary filing tracks land (where it adds land), energy (unless exempt) and
    environment procedures; a commitment filing simplifies them away."""
    if not commitment_reasons(project, today):
        return False
    if procedure == "land":
        return bool(project.new_land)
    if procedure == "energy":
        return not energy_review_exempt(project, today)
    return True


def procedures_recorded(project) -> dict[str, Opinion]:
    """The latest recorded outcome of each department's procedure since the project was
    accepted into the library."""
    since = project.accepted_at
    if since is None or project.id is None:
        return {}
    rows = db.session.scalars(select(Opinion).where(
        Opinion.project_id == project.id, Opinion.recorded_at >= since)
        .order_by(Opinion.recorded_at))
    return {**{row.role: row for row in rows}, **staged(project).get("opinions", {})}


@guard("procedure_owed")
def procedure_owed(ctx: RuleContext):
    procedure = PROCEDURE_OF_ROLE.get(ctx.acting_role)
    if procedure is None or not procedure_needed(ctx.project, procedure, ctx.today):
        return _("This project needs no such procedure.")
    if ctx.acting_role in procedures_recorded(ctx.project):
        return _("Your department's outcome is already recorded.")
    return None


@guard("matchmaking_open")
def matchmaking_open(ctx: RuleContext):
    if ctx.project.matchmaking_ended_at is None:
        return None
    return _("The enterprise has already ended financing matchmaking.")


@guard("matchmaking_ended")
def matchmaking_ended(ctx: RuleContext):
    if ctx.project.matchmaking_ended_at is not None:
        return None
    return _("Financing matchmaking is still open: end it, or sign a loan contract first.")


@guard("relocation_possible")
def relocation_possible(ctx: RuleContext):
    """A change filing that moves the project is registered only where the new place's
    document can carry it on at its stage."""
    request = pending_change_of(ctx.project)
    place = (request.changes or {}).get("jurisdiction") if request else None
    if not place or place == ctx.project.jurisdiction_code or ctx.relocation is None:
        return None
    return ctx.relocation.refusal(ctx.project, place)


def pending_change_of(project) -> ChangeRequest | None:
    """The project's pending change request — also one the step being decided adds."""
    staged = getattr(project, "staged", {}).get("change_request")
    if staged is not None:
        return staged
    return db.session.scalar(select(ChangeRequest).where(
        ChangeRequest.project_id == project.id, ChangeRequest.status == ChangeStatus.PENDING))


@guard("change_pending")
def change_pending(ctx: RuleContext):
    return None if pending_change_of(ctx.project) else _("No change filing is pending.")


@guard("not_filed")
def not_filed(ctx: RuleContext):
    if ctx.project.filed_at is None:
        return None
    return _("The project is already filed (%(number)s).", number=ctx.project.filing_number)


@guard("known_list")
def known_list(ctx: RuleContext):
    if ctx.probing or ctx.data.get("list") in LIST_LABELS:
        return None
    return _("Unknown list %(list)s.", list=ctx.data.get("list"))


def intended_bank_count(project) -> int:
    return db.session.scalar(select(func.count()).select_from(IntendedBank)
                             .where(IntendedBank.project_id == project.id))


@guard("relending_eligible")
def relending_eligible(ctx: RuleContext):
    """Joining the relending list needs the list's conditions, each named when it fails."""
    if ctx.probing or ctx.data.get("list") != "relending":
        return None
    reasons = relending_list_reasons(ctx.project, intended_bank_count(ctx.project), ctx.today)
    return " ".join(reasons) if reasons else None


def engaged_banks(project) -> list[int]:
    """The banks that have taken the project up (expressed interest), in that order."""
    found = list(db.session.scalars(select(Engagement.bank_id).where(
        Engagement.project_id == project.id).order_by(Engagement.id)))
    return found + [bank for bank in staged(project).get("engagements", {}) if bank not in found]


def engagement_of(project, bank_id) -> Engagement | None:
    if bank_id in staged(project).get("engagements", {}):
        return staged(project)["engagements"][bank_id]
    return db.session.scalar(select(Engagement).where(Engagement.project_id == project.id,
                                                      Engagement.bank_id == bank_id))


def _engagement(ctx: RuleContext) -> Engagement | None:
    return engagement_of(ctx.project, ctx.actor.organization_id) if ctx.actor else None


@guard("not_interested")
def not_interested(ctx: RuleContext):
    return _("Your bank has already expressed interest.") if _engagement(ctx) else None


@guard("interested")
def interested(ctx: RuleContext):
    return None if _engagement(ctx) else _("Your bank has not expressed interest yet.")


@guard("credit_not_approved")
def credit_not_approved(ctx: RuleContext):
    """One credit decision per bank and project."""
    engagement = _engagement(ctx)
    if engagement is None or engagement.credit_amount is None:
        return None
    return _("Your bank approved credit of %(amount)s (10k yuan) on %(date)s.",
             amount=format_wan(engagement.credit_amount), date=format_day(engagement.credit_approved_on))


@guard("contract_not_signed")
def contract_not_signed(ctx: RuleContext):
    """One loan contract per bank and project; drawdowns are recorded under it."""
    engagement = _engagement(ctx)
    if engagement is None or engagement.contract_amount is None:
        return None
    return _("Your bank signed loan contract %(number)s on %(date)s.",
             number=engagement.contract_number, date=format_day(engagement.contract_signed_on))


@guard("credit_approved")
def credit_approved(ctx: RuleContext):
    engagement = _engagement(ctx)
    if engagement is None or engagement.credit_amount is None:
        return _("Your bank has not approved credit for this project yet.")
    amount = ctx.data.get("amount")
    if amount is not None and amount > engagement.credit_amount:
        return _("The contract (%(amount)s, 10k yuan) exceeds the approved credit (%(credit)s, 10k yuan).",
                 amount=format_wan(amount), credit=format_wan(engagement.credit_amount))
    return None


@guard("contract_signed")
def contract_signed(ctx: RuleContext):
    """A drawdown needs a signed contract with room left under it."""
    engagement = _engagement(ctx)
    if engagement is None or engagement.contract_amount is None:
        return _("Your bank has not signed a loan contract for this project yet.")
    amount = ctx.data.get("amount")
    if amount is None:
        return None
    drawn = db.session.scalar(select(func.coalesce(func.sum(Loan.amount), 0)).where(
        Loan.project_id == ctx.project.id, Loan.bank_id == engagement.bank_id)) or 0
    drawn = Decimal(drawn)
    if drawn + amount > engagement.contract_amount:
        return _("Drawdowns would reach %(total)s (10k yuan), above the contract's %(contract)s (10k yuan).",
                 total=format_wan(drawn + amount), contract=format_wan(engagement.contract_amount))
    drawdown = ctx.data.get("drawdown_date")
    if drawdown and engagement.contract_signed_on and drawdown < engagement.contract_signed_on:
        return _("A drawdown cannot precede the contract (signed %(date)s).",
                 date=format_day(engagement.contract_signed_on))
    return None


@guard("loan_refinanceable")
def loan_refinanceable(ctx: RuleContext):
    if ctx.probing:  # owed while a loan of a relending-listed project awaits refinancing
        if loans_awaiting_refinancing(ctx.project) and on_list(ctx.project, "relending"):
            return None
        return _("No loan of this project awaits relending refinancing.")
    loan = loan_of(ctx.project, ctx.data.get("loan"))
    if loan is None:
        return _("No such loan on this project.")
    if loan.refinanced_on is not None:
        return _("This loan was already refinanced on %(date)s.", date=format_day(loan.refinanced_on))
    if not on_list(ctx.project, "relending"):
        return _("The project is not on the relending list.")
    if ctx.data.get("refinanced_on") and ctx.data["refinanced_on"] < loan.drawdown_date:
        return _("Refinancing cannot precede the drawdown (%(date)s).", date=format_day(loan.drawdown_date))
    return None


def loan_of(project, public_id) -> Loan | None:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return db.session.scalar(select(Loan).where(Loan.public_id == key,
                                                Loan.project_id == project.id))


def loans_awaiting_refinancing(project) -> bool:
    step = staged(project)
    refinanced = step.get("refinanced", set())
    return bool(step.get("new_loans")) or bool(db.session.scalar(select(exists().where(
        Loan.project_id == project.id, Loan.refinanced_on.is_(None),
        Loan.id.not_in(refinanced) if refinanced else true()))))


def on_list(project, list_key: str) -> bool:
    if list_key in staged(project).get("lists", ()):
        return True
    return bool(db.session.scalar(select(exists().where(
        ListEntry.project_id == project.id, ListEntry.list_key == list_key))))
