"""Policy parameters return the value in force on each side of every effective date."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.rules.parameters import ParameterMissing, all_entries, entry, parameter


@pytest.fixture(scope="module")
def ctx():
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    with app.app_context():
        db.create_all(bind_key=None)  # local settings are read for `local` values
        yield


DAY = timedelta(days=1)
# name, effective date, value before it (None: nothing in force), value from it
CHANGES = [
    ("relending_rate", date(2024, 4, 7), None, "0.0175"),
    ("relending_rate", date(2025, 5, 8), "0.0175", "0.015"),
    ("relending_rate", date(2026, 1, 19), "0.015", "0.0125"),
    ("relending_share", date(2024, 4, 7), None, "0.6"),
    ("subsidy_points", date(2024, 3, 7), None, "0.01"),
    ("subsidy_points", date(2024, 7, 1), "0.01", "0.015"),
    ("relending_min_total_investment", date(2024, 4, 7), None, "500"),
    ("relending_max_intended_banks", date(2024, 4, 7), None, "3"),
    ("commitment_equipment_share", date(2024, 3, 27), None, "0.5"),
]


@pytest.mark.parametrize(("name", "effective", "before", "after"), CHANGES,
                         ids=[f"{c[0]}@{c[1]}" for c in CHANGES])
def test_value_on_both_sides_of_effective_date(ctx, name, effective, before, after):
    assert parameter(name, effective) == Decimal(after)
    assert parameter(name, effective + DAY) == Decimal(after)
    if before is None:
        with pytest.raises(ParameterMissing):
            parameter(name, effective - DAY)
    else:
        assert parameter(name, effective - DAY) == Decimal(before)


def test_latest_rate_holds_today(ctx):
    assert parameter("relending_rate", date(2026, 11, 22)) == Decimal("0.0125")


def test_every_value_names_its_basis(ctx):
    assert "54号" in entry("subsidy_points", date(2024, 3, 7)).source
    share = entry("commitment_equipment_share", date(2024, 3, 27))
    assert share.basis.kind == "local" and share.basis.owner == "agency:miit"
    for name, entries in all_entries().items():
        assert all(e.basis.kind in ("practice", "local") for e in entries), name  # no document
        # sets any of these (DOMAIN "Sources of numbers")


def test_jurisdiction_scoped_value_beats_national(ctx, tmp_path):
    (tmp_path / "parameters").mkdir()
    (tmp_path / "parameters" / "p.toml").write_text(
        '[[relending_min_total_investment]]\neffective = 2024-01-01\nvalue = "500"\n'
        'basis = "practice"\nsource = "清单条件"\n'
        '[[relending_min_total_investment]]\neffective = 2024-06-01\nvalue = "2000"\n'
        'jurisdiction = "230000"\nbasis = "local"\nowner = "agency:miit"\n', encoding="utf-8")
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://",
                                                  "WORKFLOWS_DIR": tmp_path}))
    with app.app_context():
        db.create_all(bind_key=None)
        assert parameter("relending_min_total_investment", date(2024, 7, 1), "230110") == 2000
        assert parameter("relending_min_total_investment", date(2024, 5, 1), "230110") == 500
        assert parameter("relending_min_total_investment", date(2024, 7, 1), "410305") == 500
