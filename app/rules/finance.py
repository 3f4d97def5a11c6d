"""Relending-list eligibility and the relending and interest-subsidy figures of a loan.

Relending (科技创新和技术改造再贷款): the bank lends first at its own risk; the people's bank then
refinances a share of the principal of loans to listed projects, at its rate in force on the
drawdown date. Interest subsidy (财金〔2024〕54号): a number of percentage points of the
principal a year, for at most two years counted from the day the loan was paid to the
equipment supplier, only for listed projects whose loan was refinanced, and never on a loan
another programme already subsidises. All values come from the versioned parameters.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..i18n import gettext as _
from .money import format_wan, to_yuan
from .parameters import ParameterMissing, parameter

MONTHS = Decimal(12)


def relending_list_reasons(project, intended_banks: int, today: date) -> list[str]:
    """Why the project may not join the relending list (empty: it may)."""
    place = project.jurisdiction_code
    minimum = parameter("relending_min_total_investment", today, place)
    max_banks = int(parameter("relending_max_intended_banks", today, place))
    min_term = int(parameter("relending_min_term_months", today, place))
    total, loan = project.total_investment or Decimal(0), project.financing_need or Decimal(0)
    reasons = []
    if total < minimum:
        reasons.append(_("Total investment of %(total)s (10k yuan) is below the %(minimum)s "
                         "(10k yuan) the relending list requires.", total=format_wan(total),
                         minimum=format_wan(minimum)))
    if project.filed_at is None:
        reasons.append(_("The project is not filed yet."))
    if loan <= 0:
        reasons.append(_("The project has no financing need."))
    elif loan > total:
        reasons.append(_("Loan %(loan)s (10k yuan) exceeds total investment %(total)s (10k yuan).",
                         loan=format_wan(loan), total=format_wan(total)))
    term = project.financing_term_months or 0
    if term < min_term:
        reasons.append(_("Loan term of %(term)s months is shorter than %(minimum)s months.",
                         term=term, minimum=min_term))
    if intended_banks > max_banks:
        reasons.append(_("%(n)s intended banks, at most %(max)s.", n=intended_banks,
                         max=max_banks))
    if project.policy_class is not None and project.policy_class.value in ("restricted",
                                                                           "eliminated"):
        reasons.append(_("Projects of a restricted or eliminated industry class are excluded."))
    return reasons


@dataclass
class LoanFigures:
    amount: Decimal
    relending_share: Decimal | None = None
    relending_principal: Decimal = Decimal(0)
    relending_rate: Decimal | None = None
    subsidy_points: Decimal | None = None
    subsidy_months: int = 0
    subsidy: Decimal = Decimal(0)
    notes: list[str] = field(default_factory=list)
    refinanced: bool = False  # the people's bank confirmed the refinancing

    @property
    def relending_estimated(self) -> Decimal | None:
        """The relending principal the loan would earn, while the people's bank has not
        confirmed it (then it is no support yet, only an estimate)."""
        return None if self.refinanced else self.relending_principal

    @property
    def relending_confirmed(self) -> Decimal | None:
        return self.relending_principal if self.refinanced else None


def loan_totals(figures: list[LoanFigures]) -> dict:
    """The loan book's 合计 row: amounts, relending estimated and confirmed apart, subsidy."""
    def total(name):
        return sum((getattr(f, name) or Decimal(0) for f in figures), Decimal(0))

    return {"loans": len(figures), "amount": total("amount"),
            "relending_estimated": total("relending_estimated"),
            "relending_confirmed": total("relending_confirmed"), "subsidy": total("subsidy")}


# The loan's columns that hold its figures (models/finance.py), by LoanFigures field.
STORED = ("relending_share", "relending_principal", "relending_rate", "subsidy_points",
          "subsidy_months", "subsidy")


def loan_notes(loan, *, listed: bool) -> list[str]:
    """Why a loan earns no relending or no subsidy (empty: it earns both)."""
    if not listed:
        return [_("The project is not on the relending list.")]
    if loan.refinanced_on is None:
        return [_("Not yet refinanced by the people's bank: no subsidy.")]
    if loan.other_subsidy:
        return [_("Another programme subsidises this loan: no second subsidy.")]
    if loan.supplier_paid_date is None:
        return [_("The subsidy starts when the supplier is paid.")]
    return []


def loan_figures(loan, *, listed: bool, jurisdiction: str) -> LoanFigures:
    """The relending and subsidy figures of one loan, each from the value in force on its
    date — worked out by the step that records or refinances the loan, which keeps them on
    it (`STORED`); everything after reads them there (`kept_figures`)."""
    figures = LoanFigures(amount=loan.amount, notes=loan_notes(loan, listed=listed),
                          refinanced=loan.refinanced_on is not None)
    if not listed:
        return figures
    on = loan.drawdown_date
    try:
        figures.relending_share = parameter("relending_share", on, jurisdiction)
        figures.relending_rate = parameter("relending_rate", on, jurisdiction)
    except ParameterMissing:
        figures.notes = [_("Drawn on %(date)s, before the relending tool existed: no relending "
                           "and no subsidy.", date=on)]
        return figures
    figures.relending_principal = to_yuan(loan.amount * figures.relending_share)
    if figures.notes:
        return figures
    start = loan.supplier_paid_date
    figures.subsidy_points = parameter("subsidy_points", start, jurisdiction)
    cap = int(parameter("subsidy_max_years", start, jurisdiction) * MONTHS)
    figures.subsidy_months = min(loan.term_months or cap, cap)
    figures.subsidy = to_yuan(loan.amount * figures.subsidy_points * figures.subsidy_months
                              / MONTHS)
    return figures


def kept_figures(loan, *, listed: bool) -> LoanFigures:
    """A loan's figures as its last step kept them (never worked out again on reading, so a
    parameter entered later with an earlier date cannot make two pages disagree)."""
    kept = {name: getattr(loan, name) for name in STORED}
    kept["relending_principal"] = kept["relending_principal"] or Decimal(0)
    kept["subsidy"] = kept["subsidy"] or Decimal(0)
    kept["subsidy_months"] = kept["subsidy_months"] or 0
    return LoanFigures(amount=loan.amount, notes=loan_notes(loan, listed=listed),
                       refinanced=loan.refinanced_on is not None, **kept)
