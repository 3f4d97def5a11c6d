"""Fiscal support claims (贴息、奖补): the arithmetic, the programme's numbers, the guards.

Interest on loans is counted by the day. For each loan the days of the claimed quarter are
those from the day its equipment supplier was paid, up to the end of the programme's period
(`max_years` in force on that day, counted per loan); each day earns the principal times the
rate in force that day over the day basis, so a loan straddling a change of rate is split at
it. Each segment is rounded down to 4 places of 万元 (one yuan): the sum never exceeds what
the days and the parameters give. Caps, where the agency set them, bound the total of the
claims they count: a project's, an enterprise's over all its projects, an enterprise's in a
year (the claimed quarter's year; a grant's, the year it is claimed). An interest claim is
limited to the room the tightest cap leaves (the event names that cap); a grant asking for
more is refused naming it. Caps counting other projects' claims read them in the claim's own
transaction, which holds the enterprise's claims under the programme (`cap_keys`): two
projects claiming at once never pass them together. A claim deadline, where set, closes a
quarter's claims that many days after it ends (a returned claim may still be corrected).
Rates, periods, caps and deadlines no document states are the agency's own settings
(`local`, no default): until it sets a rate or period, claims are refused saying so; an
unset cap or deadline does not apply.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from types import SimpleNamespace

from sqlalchemy import bindparam, select

from ..database import Prepared, step_connection
from ..extensions import db
from ..i18n import format_day
from ..i18n import gettext as _
from ..labels import ROLE_LABELS, SUBSIDY_STATUS_LABELS, join_list
from ..models import Loan, Project, SubsidyClaim, SubsidyStatus, china_date
from .context import RuleContext, guard
from .money import format_wan
from .parameters import ParameterMissing, parameter
from .settings import local_value

PLACES = Decimal("0.0001")  # 万元 to the yuan
ONCE = "once"


class NumberMissing(LookupError):
    """A number the programme runs on has no value for the day (the agency has not set it)."""

    def __init__(self, name: str, on: date):
        super().__init__(name, on)
        self.name, self.on = name, on


# -- pure arithmetic ----------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    first: date
    last: date
    days: int
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class LoanLine:
    loan: str
    principal: Decimal
    supplier_paid: date
    subsidy_last_day: date  # the last day the programme's period covers
    segments: tuple[Segment, ...]

    @property
    def days(self) -> int:
        return sum(s.days for s in self.segments)

    @property
    def amount(self) -> Decimal:
        return sum((s.amount for s in self.segments), Decimal(0))


def quarter_days(period: str) -> tuple[date, date]:
    """The first and last day of a quarter written `2025Q2`."""
    year, q = int(period[:4]), int(period[5])
    first = date(year, 3 * q - 2, 1)
    after = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first, after - timedelta(days=1)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


def loan_line(loan: str, principal: Decimal, supplier_paid: date, first: date, last: date, *,
              rate_on: Callable[[date], Decimal | None], years: int,
              day_basis: Decimal) -> LoanLine:
    """One loan's subsidy for the days `first`..`last`: its days within the programme's
    period counted from `supplier_paid`, split wherever the rate in force changes."""
    ends = add_years(supplier_paid, years) - timedelta(days=1)
    day, end = max(first, supplier_paid), min(last, ends)
    segments = []
    while day <= end:
        rate = rate_on(day)
        if rate is None:
            raise NumberMissing("rate", day)
        start = day
        while day < end and rate_on(day + timedelta(days=1)) == rate:
            day += timedelta(days=1)
        days = (day - start).days + 1
        amount = (principal * rate * days / day_basis).quantize(PLACES, rounding=ROUND_DOWN)
        segments.append(Segment(start, day, days, rate, amount))
        day += timedelta(days=1)
    return LoanLine(loan, principal, supplier_paid, ends, tuple(segments))


def capped(amount: Decimal, cap: Decimal | None, claimed_before: Decimal) -> Decimal:
    """The amount within what a cap leaves after the claims before it."""
    if cap is None:
        return amount
    return max(min(amount, cap - claimed_before), Decimal(0))


# -- the programme's numbers --------------------------------------------------------------


def programme_of(definition):
    return definition.programmes[0] if definition is not None and definition.programmes else None


def number_on(programme, name: str, place: str, on: date) -> Decimal | None:
    """A programme's number for a place on a day: its dated parameter, or the value its
    agency set (None: not set)."""
    spec = programme.numbers.get(name)
    if spec is None:
        return None
    if spec.parameter:
        try:
            return parameter(spec.parameter, on, place)
        except ParameterMissing:
            return None
    found = local_value(spec.key(programme.key), place, on)
    return Decimal(found.value) if found is not None else None


def _missing_reason(programme, err: NumberMissing) -> str:
    spec = programme.numbers[err.name]
    owner = ROLE_LABELS.get(spec.basis.owner, spec.basis.owner) if spec.basis else ""
    return _("“%(number)s” of %(programme)s is not set for %(date)s: no document states it, "
             "and the %(owner)s has not entered it yet.", number=spec.label,
             programme=programme.label, date=err.on, owner=owner)


@dataclass(frozen=True)
class Limit:
    """A cap the agency set, and the room it leaves this claim."""

    name: str  # cap_per_project | cap_per_enterprise | cap_per_year
    label: str
    cap: Decimal
    before: Decimal  # what the claims it counts add up to already
    room: Decimal

    def json(self) -> dict:
        return {"cap": self.name, "label": self.label, "value": str(self.cap),
                "claimed_before": str(self.before)}


@dataclass
class ClaimFigures:
    lines: list[LoanLine] = field(default_factory=list)
    computed: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)  # within every cap
    limited_by: Limit | None = None  # the cap that made the amount less than computed
    reasons: list[str] = field(default_factory=list)


def eligible_loans(project, programme, bank_id: int) -> list[Loan]:
    """The bank's loans on the project that the programme subsidises."""
    query = select(Loan).where(Loan.project_id == project.id, Loan.bank_id == bank_id,
                               Loan.other_subsidy.is_(False),
                               Loan.supplier_paid_date.is_not(None)).order_by(Loan.id)
    if programme.loans == "relending":
        query = query.where(Loan.refinanced_on.is_not(None))
    return list(db.session.scalars(query))


def interest_claim(project, programme, bank_id: int, period: str) -> ClaimFigures:
    """What a bank may claim for its loans on the project for one quarter."""
    place = project.jurisdiction_code
    first, last = quarter_days(period)
    figures = ClaimFigures()
    basis = parameter("interest_day_basis", last, place)
    try:
        for loan in eligible_loans(project, programme, bank_id):
            years = number_on(programme, "max_years", place, loan.supplier_paid_date)
            if years is None:
                raise NumberMissing("max_years", loan.supplier_paid_date)
            line = loan_line(str(loan.public_id), loan.amount, loan.supplier_paid_date, first,
                             last, years=int(years), day_basis=basis,
                             rate_on=lambda day: number_on(programme, "rate", place, day))
            if line.segments:
                figures.lines.append(line)
    except NumberMissing as err:
        figures.reasons.append(_missing_reason(programme, err))
        return figures
    figures.computed = sum((line.amount for line in figures.lines), Decimal(0))
    return figures


def lines_json(lines: list[LoanLine]) -> list[dict]:
    return [{"loan": line.loan, "principal": str(line.principal),
             "supplier_paid": line.supplier_paid.isoformat(),
             "subsidy_last_day": line.subsidy_last_day.isoformat(), "days": line.days,
             "amount": str(line.amount),
             "segments": [{"first": s.first.isoformat(), "last": s.last.isoformat(),
                           "days": s.days, "rate": str(s.rate), "amount": str(s.amount)}
                          for s in line.segments]} for line in lines]


# -- a project's claims, as the step being decided leaves them ----------------------------

CLAIM_COLUMNS = ("id", "public_id", "number", "project_id", "programme", "claimant_id", "period",
                 "status", "claimed", "approved", "paid", "clawed_back", "approvals", "claimed_at")


def claim_view(claim, **changed) -> SimpleNamespace:
    return SimpleNamespace(**{**{c: getattr(claim, c, None) for c in CLAIM_COLUMNS}, **changed})


def stage_claim(project, view: SimpleNamespace) -> None:
    """Let the step's own later rules (what is owed next) see the claim as it leaves it."""
    project.staged.setdefault("claims", {})[str(view.public_id)] = view


def claims_of(project) -> list:
    """The project's claims (ORM rows, or views where the step being decided changed them)."""
    staged = (getattr(project, "staged", None) or {}).get("claims", {})
    found = [staged.get(str(c.public_id), c) for c in db.session.scalars(
        select(SubsidyClaim).where(SubsidyClaim.project_id == project.id)
        .order_by(SubsidyClaim.id))]
    known = {str(c.public_id) for c in found}
    return found + [v for key, v in staged.items() if key not in known]


def claim_of(project, public_id):
    return next((c for c in claims_of(project) if str(c.public_id) == str(public_id)), None)


def period_claim(project, programme: str, period: str):
    return next((c for c in claims_of(project)
                 if c.programme == programme and c.period == period), None)


def claimed_total(project, programme: str, leaving_out: str | None = None) -> Decimal:
    """What the project's claims under the programme add up to (returned ones aside)."""
    return sum((c.claimed for c in claims_of(project) if c.programme == programme
                and c.status != SubsidyStatus.RETURNED and c.period != leaving_out), Decimal(0))


def claim_year(claim) -> int:
    """The year a claim counts in against a yearly cap: its quarter's, or for a grant the
    year it was claimed."""
    return int(claim.period[:4]) if claim.period != ONCE else china_date(claim.claimed_at).year


def _others_statement():
    c, p = SubsidyClaim.__table__, Project.__table__
    return (select(c.c.period, c.c.claimed_yuan.label("claimed"), c.c.claimed_at)
            .select_from(c.join(p, c.c.project_id == p.c.id))
            .where(p.c.enterprise_id == bindparam("enterprise"), p.c.id != bindparam("project"),
                   c.c.programme == bindparam("programme"), c.c.status != bindparam("returned")))


_OTHERS = Prepared(_others_statement)


def enterprise_claimed(project, programme: str, leaving_out: str,
                       year: int | None = None) -> Decimal:
    """What the enterprise's claims under the programme add up to — all its projects', this
    one's as the step leaves them, its claim for `leaving_out` aside, returned ones aside —
    in `year` only where given. The other projects' claims are read on the step's connection:
    in a claim step, inside the transaction that holds `cap_keys` and writes the claim."""
    others = [SimpleNamespace(**row) for row in _OTHERS.rows(step_connection(), {
        "enterprise": project.enterprise_id, "project": project.id, "programme": programme,
        "returned": SubsidyStatus.RETURNED})]
    own = [c for c in claims_of(project) if c.programme == programme
           and c.status != SubsidyStatus.RETURNED and c.period != leaving_out]
    return sum((c.claimed for c in [*others, *own] if year is None or claim_year(c) == year),
               Decimal(0))


CROSS_PROJECT_CAPS = ("cap_per_enterprise", "cap_per_year")  # they count other projects' claims


def cap_keys(ctx: RuleContext) -> tuple[str, ...]:
    """What a claim step is serialised on: its enterprise's claims under the programme, where
    the agency set a cap that counts them (nothing otherwise: the project's own claims are
    guarded by its version)."""
    programme = programme_of(ctx.definition)
    if programme is None:
        return ()
    place = ctx.project.jurisdiction_code
    if all(number_on(programme, name, place, ctx.today) is None for name in CROSS_PROJECT_CAPS):
        return ()
    return (f"subsidy-claims:{programme.key}:{ctx.project.enterprise_id}",)


def limits(ctx: RuleContext, programme, period: str, computed: Decimal) -> list[Limit]:
    """The caps the programme's agency set, each with the room it leaves this claim."""
    project, place = ctx.project, ctx.project.jurisdiction_code
    year = int(period[:4]) if period != ONCE else ctx.today.year
    counted = {
        "cap_per_project": lambda: claimed_total(project, programme.key, leaving_out=period),
        "cap_per_enterprise": lambda: enterprise_claimed(project, programme.key, period),
        "cap_per_year": lambda: enterprise_claimed(project, programme.key, period, year)}
    found = []
    for name, before in counted.items():
        cap = number_on(programme, name, place, ctx.today)
        if cap is not None:
            spent = before()
            found.append(Limit(name, programme.numbers[name].label, cap, spent,
                               capped(computed, cap, spent)))
    return found


def claim_figures(ctx: RuleContext) -> ClaimFigures:
    """The figures of the claim `ctx` would file (its reasons: why it may not)."""
    programme = programme_of(ctx.definition)
    project, period = ctx.project, ctx.data.get("period")
    if programme.kind == "interest":
        if period is None:
            return ClaimFigures(reasons=[_("Name the quarter claimed.")])
        if quarter_days(period)[1] >= ctx.today:
            return ClaimFigures(reasons=[_("The quarter %(period)s has not ended yet.",
                                           period=period)])
        figures = interest_claim(project, programme, ctx.actor.organization_id, period)
        if figures.reasons:
            return figures
        if figures.computed <= 0:
            figures.reasons.append(_("None of your bank's loans on this project earns %(name)s "
                                     "in %(period)s.", name=programme.label, period=period))
            return figures
    else:
        period = ONCE
        figures = ClaimFigures(computed=ctx.data.get("amount") or Decimal(0))
    figures.amount = figures.computed
    tightest = min(limits(ctx, programme, period, figures.computed), key=lambda lim: lim.room,
                   default=None)
    if tightest is not None and tightest.room < figures.computed:
        figures.amount, figures.limited_by = tightest.room, tightest
    cap = figures.limited_by
    if cap is not None and figures.amount <= 0:
        figures.reasons.append(_("The cap “%(cap)s” of %(value)s (10k yuan) is reached: the "
                                 "claims it counts add up to %(before)s (10k yuan).",
                                 cap=cap.label, value=format_wan(cap.cap),
                                 before=format_wan(cap.before)))
    elif cap is not None and programme.kind == "grant":
        figures.reasons.append(_("At most %(room)s (10k yuan) is left under the cap "
                                 "“%(cap)s” of %(value)s (10k yuan).", room=format_wan(cap.room),
                                 cap=cap.label, value=format_wan(cap.cap)))
    return figures


def claim_deadline(programme, project, period: str) -> date | None:
    """The last day a quarter's claim may be filed, where the agency set a deadline (the
    setting in force when the quarter ended)."""
    last = quarter_days(period)[1]
    days = number_on(programme, "claim_days", project.jurisdiction_code, last)
    return None if days is None else last + timedelta(days=int(days))


def _status(claim) -> str:
    return str(SUBSIDY_STATUS_LABELS[SubsidyStatus(claim.status).value])


@guard("subsidy_claimable")
def subsidy_claimable(ctx: RuleContext):
    programme = programme_of(ctx.definition)
    if programme is None:
        return _("The project's document runs no subsidy programme.")
    if ctx.probing:
        if programme.kind == "interest" and ctx.actor is not None and not eligible_loans(
                ctx.project, programme, ctx.actor.organization_id):
            return _("Your bank has no loan on this project that %(name)s covers.",
                     name=programme.label)
        return None
    period = ctx.data.get("period") if programme.kind == "interest" else ONCE
    earlier = period and period_claim(ctx.project, programme.key, period)
    if earlier is not None and earlier.status != SubsidyStatus.RETURNED:
        return _("%(period)s is already claimed: claim %(number)s of %(date)s (%(status)s).",
                 period=period if period != ONCE else _("This programme"),
                 number=earlier.number, date=earlier.claimed_at.date(), status=_status(earlier))
    if earlier is not None and earlier.claimant_id != ctx.actor.organization_id:
        return _("Claim %(number)s was filed by another organisation.", number=earlier.number)
    if earlier is None and period and period != ONCE:  # a returned claim may be corrected late
        closed = claim_deadline(programme, ctx.project, period)
        if closed is not None and ctx.today > closed:
            spec = programme.numbers["claim_days"]
            owner = spec.basis.owner if spec.basis else ""
            return _("Claims for %(period)s closed on %(date)s: “%(label)s” is set by the "
                     "%(owner)s.", period=period, date=format_day(closed), label=spec.label,
                     owner=ROLE_LABELS.get(owner, owner))
    figures = claim_figures(ctx)
    return " ".join(figures.reasons) if figures.reasons else None


def _claim(ctx: RuleContext, *statuses):
    """The claim the step names, or the reason it cannot act on it."""
    claim = claim_of(ctx.project, ctx.data.get("claim"))
    if claim is None:
        return None, _("No such subsidy claim on this project.")
    if claim.status not in statuses:
        return None, _("Claim %(number)s is %(status)s.", number=claim.number,
                       status=_status(claim))
    return claim, None


def _any(ctx: RuleContext, test) -> str | None:
    if any(test(c) for c in claims_of(ctx.project)):
        return None
    return _("No subsidy claim of this project awaits this step.")


def approved_roles(claim) -> set[str]:
    return {a["role"] for a in claim.approvals or ()}


@guard("claim_under_review")
def claim_under_review(ctx: RuleContext):
    if ctx.probing:
        return _any(ctx, lambda c: c.status == SubsidyStatus.SUBMITTED)
    return _claim(ctx, SubsidyStatus.SUBMITTED)[1]


@guard("claim_awaits_approval")
def claim_awaits_approval(ctx: RuleContext):
    role = ctx.acting_role
    if ctx.probing:
        return _any(ctx, lambda c: c.status == SubsidyStatus.SUBMITTED
                    and role not in approved_roles(c))
    claim, refusal = _claim(ctx, SubsidyStatus.SUBMITTED)
    if refusal:
        return refusal
    if role in approved_roles(claim):
        waiting = [str(ROLE_LABELS.get(r, r)) for r in joint_roles(ctx.definition)
                   if r not in approved_roles(claim)]
        return _("Your agency approved claim %(number)s already; it awaits %(others)s.",
                 number=claim.number, others=join_list(waiting))
    return None


def joint_roles(definition) -> tuple[str, ...]:
    """The roles whose approvals together approve a claim (会签), or the one approving role."""
    specs = definition.transitions_for("approve_subsidy")
    joint = next((s.all_of for s in specs if s.all_of), None)
    return joint or tuple(dict.fromkeys(s.role for s in specs))[:1]


@guard("claim_payable")
def claim_payable(ctx: RuleContext):
    if ctx.probing:
        return _any(ctx, lambda c: c.status == SubsidyStatus.APPROVED)
    claim, refusal = _claim(ctx, SubsidyStatus.APPROVED)
    if refusal:
        return refusal
    amount = ctx.data.get("amount")
    if amount is not None and amount > claim.approved:
        return _("The payout (%(amount)s, 10k yuan) exceeds the approved %(approved)s "
                 "(10k yuan).", amount=format_wan(amount), approved=format_wan(claim.approved))
    if ctx.data.get("paid_on") and ctx.data["paid_on"] > ctx.today:
        return _("The payment date %(date)s lies in the future.", date=ctx.data["paid_on"])
    return None


@guard("claim_recoverable")
def claim_recoverable(ctx: RuleContext):
    if ctx.probing:
        return _any(ctx, lambda c: c.status == SubsidyStatus.PAID)
    claim, refusal = _claim(ctx, SubsidyStatus.PAID)
    if refusal:
        return refusal
    room = claim.paid - claim.clawed_back
    amount = ctx.data.get("amount")
    if amount is not None and amount > room:
        return _("At most %(room)s (10k yuan) of claim %(number)s remains to claw back.",
                 room=format_wan(room), number=claim.number)
    if ctx.data.get("ground") == "failed_acceptance" and ctx.project.status.value != "failed":
        return _("The project has not failed its acceptance.")
    return None
