"""Property-based tests: rules and parsers hold for any input, and never crash on bad input."""

import json
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app import create_app
from app.config import TestConfig
from app.errors import Invalid
from app.models.base import WanYuan
from app.projects.attachments import clean_filename
from app.projects.operations import MAX_ID, decode_cursor, encode_cursor
from app.reporting.plans import parse_plan
from app.review.queue import decode
from app.rules.calendar import add_working_days, is_working_day, working_days_between
from app.rules.eligibility import commitment_filing_reasons
from app.rules.finance import loan_figures
from app.rules.project_input import ProjectCreate, ProjectFields

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
amounts = st.decimals(min_value=0, max_value=10_000_000, places=4, allow_nan=False,
                      allow_infinity=False)


@pytest.fixture(scope="module")
def ctx():
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    with app.test_request_context("/"):
        yield


@SETTINGS
@given(amounts)
def test_money_round_trips_exactly_through_whole_yuan(value):
    column = WanYuan()
    stored = column.process_bind_param(value, None)
    assert isinstance(stored, int)
    assert column.process_result_value(stored, None) == value


@SETTINGS
@given(st.text())
def test_cursors_decode_or_are_refused(text):
    for decoder in (decode_cursor, decode):
        try:
            decoder(text)
        except Invalid as err:
            assert "cursor" in err.fields


@SETTINGS
@given(st.integers(min_value=1, max_value=MAX_ID))
def test_cursor_round_trip(last_id):
    assert decode_cursor(encode_cursor(last_id)) == last_id


@SETTINGS
@given(st.integers(min_value=MAX_ID + 1, max_value=10**18 - 1))
def test_a_cursor_beyond_every_id_starts_from_the_newest(beyond):
    assert decode_cursor(encode_cursor(beyond)) == MAX_ID


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=20), children, max_size=4), max_leaves=12)


@SETTINGS
@given(st.dictionaries(st.sampled_from(sorted(ProjectFields.model_fields) + ["extra"]),
                       json_values, max_size=8))
def test_any_json_either_validates_or_names_fields(body):
    required = {"name", "jurisdiction"}
    try:
        parsed = ProjectCreate.model_validate_json(json.dumps(body))
    except ValidationError as err:
        named = {e["loc"][0] for e in err.errors()}
        # each refusal names a field the body gave, or a required one it left out
        assert named and named <= set(body) | required
    else:  # accepted: nothing unknown, nothing required missing, every given field kept
        assert required <= set(body) <= set(ProjectFields.model_fields)
        assert set(parsed.model_dump(exclude_unset=True)) == set(body)


@SETTINGS
@given(st.binary(max_size=200))
def test_any_bytes_are_refused_cleanly(raw):
    try:
        parsed = ProjectFields.model_validate_json(raw)
    except ValidationError as err:  # not JSON, not an object, or a field named as wrong
        assert all(e["type"] in ("json_invalid", "model_type") or e["loc"]
                   for e in err.errors())
    else:  # only a JSON object of known fields gets through
        assert set(parsed.model_dump(exclude_unset=True)) == set(json.loads(raw))


@SETTINGS
@given(total=st.decimals(min_value=1, max_value=1_000_000, places=2),
       share=st.decimals(min_value=0, max_value=1, places=3), new_land=st.booleans(),
       threshold=st.sampled_from([Decimal("0.5"), Decimal("0.6")]))
def test_commitment_eligibility_is_exactly_no_land_and_enough_equipment(
        ctx, total, share, new_land, threshold):
    equipment = (total * share).quantize(Decimal("0.01"))
    reasons = commitment_filing_reasons(new_land=new_land, total=total, equipment=equipment,
                                        threshold=threshold)
    assert (not reasons) == (not new_land and equipment / total >= threshold)


@SETTINGS
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 1)),
       st.integers(min_value=0, max_value=60))
def test_working_days_added_are_counted_back(start, days):
    due = add_working_days(start, days)
    assert working_days_between(start, due) == days
    assert days == 0 or is_working_day(due)


@SETTINGS
@given(amount=st.decimals(min_value=Decimal("0.0001"), max_value=1_000_000, places=4),
       drawdown=st.dates(min_value=date(2024, 4, 7), max_value=date(2026, 12, 31)),
       delay=st.integers(min_value=0, max_value=90), term=st.integers(min_value=1, max_value=120))
def test_loan_figures_stay_within_the_policy(ctx, amount, drawdown, delay, term):
    loan = SimpleNamespace(amount=amount, drawdown_date=drawdown,
                           supplier_paid_date=drawdown + timedelta(days=delay), term_months=term,
                           refinanced_on=drawdown, other_subsidy=False)
    figures = loan_figures(loan, listed=True, jurisdiction="320506")
    assert abs(figures.relending_principal - amount * Decimal("0.6")) <= Decimal("0.00005")
    assert figures.subsidy_months == min(term, 24)
    assert figures.subsidy <= amount * Decimal("0.015") * 2 + Decimal("0.0001")


@SETTINGS
@given(st.text(max_size=2000))
def test_plan_parser_reports_instead_of_crashing(ctx, text):
    rows, totals, errors = parse_plan(text)  # never raises
    for error in errors:
        assert error.row >= 1 and error.column and str(error)
    if not errors:  # whatever was accepted is well formed
        assert all(isinstance(r["year"], int) and r["investment"] >= 0 for r in rows)


@SETTINGS
@given(st.text())
def test_file_names_are_made_harmless(name):
    cleaned = clean_filename(name)
    assert cleaned and len(cleaned) <= 150
    assert "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned
    assert cleaned not in (".", "..")
