"""The subsidy arithmetic (rules/subsidy.py), against figures worked out by hand.

Heilongjiang's provincial interest subsidy as its 省财政厅 might set it: 2% a year until
2025-05-07, 1.5% from 2025-05-08, for 2 years from the day the supplier was paid, interest
by the day over 360. Two relending loans: 1,000 万元 paid to the supplier 2024-04-15
(covered to 2026-04-14) and 600 万元 paid 2024-05-20 (covered to 2026-05-19); the bank claims
2025Q2, 2025Q3, 2026Q1 and 2026Q2."""

import re
from datetime import date
from decimal import Decimal as D
from fractions import Fraction
from pathlib import Path

import pytest

from app.rules.subsidy import add_years, capped, loan_line, quarter_days
from app.workflow.definitions import DefinitionError, parse_text

CHANGE = date(2025, 5, 8)


def rate_on(day):
    return D("0.015") if day >= CHANGE else D("0.02")


LOANS = [("L1", D("1000"), date(2024, 4, 15)), ("L2", D("600"), date(2024, 5, 20))]


def claim(period):
    first, last = quarter_days(period)
    return [loan_line(name, principal, paid, first, last, rate_on=rate_on, years=2,
                      day_basis=D(360)) for name, principal, paid in LOANS]


def test_quarters_and_years():
    assert quarter_days("2025Q2") == (date(2025, 4, 1), date(2025, 6, 30))
    assert quarter_days("2024Q4") == (date(2024, 10, 1), date(2024, 12, 31))
    assert add_years(date(2024, 2, 29), 2) == date(2026, 3, 1)


def test_whole_quarters_at_one_rate():
    l1, l2 = claim("2025Q3")  # 92 days at 1.5%
    assert (l1.days, l2.days) == (92, 92)
    assert l1.amount == D("3.8333")  # 1000 × 1.5% × 92/360 = 3.8333…, down to the yuan
    assert l2.amount == D("2.3000")  # 600 × 1.5% × 92/360 = 2.3
    l1, l2 = claim("2026Q1")  # 90 days
    assert (l1.amount, l2.amount) == (D("3.7500"), D("2.2500"))


def test_a_quarter_straddling_the_rate_change_is_split_at_it():
    l1, l2 = claim("2025Q2")
    assert [(s.first, s.last, s.days, s.rate) for s in l1.segments] == [
        (date(2025, 4, 1), date(2025, 5, 7), 37, D("0.02")),
        (date(2025, 5, 8), date(2025, 6, 30), 54, D("0.015"))]
    assert [s.amount for s in l1.segments] == [D("2.0555"), D("2.2500")]  # 2.0555…, 2.25
    assert [s.amount for s in l2.segments] == [D("1.2333"), D("1.3500")]  # 1.2333…, 1.35
    assert l1.amount + l2.amount == D("6.8888")


def test_the_two_year_cap_is_counted_per_loan_from_its_supplier_paid_date():
    l1, l2 = claim("2026Q2")
    assert (l1.subsidy_last_day, l2.subsidy_last_day) == (date(2026, 4, 14), date(2026, 5, 19))
    assert (l1.days, l2.days) == (14, 49)  # 1–14 April; 1 April – 19 May
    assert l1.amount == D("0.5833")  # 1000 × 1.5% × 14/360 = 0.58333…
    assert l2.amount == D("1.2250")  # 600 × 1.5% × 49/360 = 1.225
    assert [line.days for line in claim("2026Q3")] == [0, 0]


def test_days_before_the_supplier_was_paid_earn_nothing():
    first, last = quarter_days("2024Q2")
    line = loan_line("L1", D("1000"), date(2024, 4, 15), first, last, rate_on=rate_on,
                     years=2, day_basis=D(360))
    assert (line.segments[0].first, line.days) == (date(2024, 4, 15), 77)  # 16 + 31 + 30


@pytest.mark.parametrize("period", ["2024Q2", "2025Q2", "2025Q3", "2026Q1", "2026Q2"])
def test_never_more_than_the_days_and_rates_give(period):
    first, last = quarter_days(period)
    for line in claim(period):
        exact = sum(Fraction(line.principal) * Fraction(rate_on(d)) / 360
                    for d in _days(first, last)
                    if line.supplier_paid <= d <= line.subsidy_last_day)
        assert Fraction(line.amount) <= exact < Fraction(line.amount) + Fraction(
            len(line.segments), 10000)


def _days(first, last):
    from datetime import timedelta
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def test_a_cap_bounds_the_claims_together():
    assert capped(D("8"), D("20"), D("15")) == D("5")
    assert capped(D("8"), None, D("15")) == D("8")
    assert capped(D("8"), D("10"), D("12")) == D("0")


# -- the definitions' programmes and joint approvals, as `workflows check` reads them ------

HLJ = Path(__file__).parent.parent / "workflows" / "heilongjiang-2024-67.toml"


def test_heilongjiang_programme_and_its_joint_approval_are_read():
    definition = parse_text(HLJ.read_text(encoding="utf-8"), HLJ)
    [programme] = definition.programmes
    assert (programme.key, programme.kind, programme.claimant, programme.clause) == (
        "hlj-tech-interest", "interest", "bank", "三(三)")
    assert {n.name: n.basis.owner for n in programme.numbers.values()} == {
        name: "agency:treasury" for name in ("rate", "max_years", "cap_per_project",
                                             "cap_per_enterprise", "cap_per_year",
                                             "claim_days")}
    assert {(s.role, s.all_of) for s in definition.transitions_for("approve_subsidy")} == {
        ("agency:treasury", ("agency:treasury", "agency:miit")),
        ("agency:miit", ("agency:treasury", "agency:miit"))}


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('all_of = ["agency:treasury", "agency:miit"]', 'all_of = ["agency:treasury", "agency:land"]',
     "has no 'approve_subsidy' transition"),
    ('[programmes.numbers.rate]\nlabel = "省级技术改造贴息（年化比例）"',
     '[programmes.numbers.rate]\nvalue = "0.02"\nlabel = "省级技术改造贴息（年化比例）"',
     "states no value here"),
    ('kind = "interest"', 'kind = "grant"', "interest is claimed per quarter"),
    ('[programmes.numbers.claim_days]\nlabel = "申报期限（季度结束后天数）"\nbasis = "local"\n'
     'owner = "agency:treasury"',
     '[programmes.numbers.claim_days]\nlabel = "申报期限（季度结束后天数）"\nvalue = 10',
     "states no value here"),
])
def test_workflows_check_refuses_a_joint_step_or_programme_it_cannot_run(old, new, problem):
    text = HLJ.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(DefinitionError, match=re.escape(problem)):
        parse_text(text.replace(old, new), HLJ)


def test_a_grant_claimed_once_has_no_claim_deadline():
    path = HLJ.with_name("liaocheng-2024-draft.toml")
    text = path.read_text(encoding="utf-8")
    deadline = ('[programmes.numbers.claim_days]\nlabel = "申报期限"\nbasis = "local"\n'
                'owner = "agency:treasury"\n\n')
    with pytest.raises(DefinitionError, match="a grant claimed once has none"):
        parse_text(text.replace("[programmes.numbers.cap_per_project]",
                                deadline + "[programmes.numbers.cap_per_project]", 1), path)
