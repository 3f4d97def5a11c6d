"""Money conventions: amounts in 万元 as Decimal, at most four decimals (one yuan)."""

from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import get_locale

# 1,000 亿元: far beyond any single technical-transformation project; larger is a typo.
MAX_AMOUNT = Decimal("10000000")


def to_yuan(amount: Decimal) -> Decimal:
    """Rounded to one yuan (0.0001 万元), without trailing zeros: 600.0000 → 600."""
    return amount.quantize(Decimal("0.0001")).normalize() + Decimal(0)


def format_wan(amount: Decimal | None, locale=None) -> str:
    """An amount in 万元 with thousands separators, in the user's locale."""
    if amount is None:
        return "—"
    return format_decimal(amount, format="#,##0.####", locale=locale or get_locale() or "zh_CN")
