"""Money conventions: amounts in 万元 as Decimal, at most four decimals (one yuan)."""

from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import get_locale

# 1,000 亿元: far beyond any single technical-transformation project; larger is a typo.
MAX_AMOUNT = Decimal("10000000")


def format_wan(amount: Decimal | None, locale=None) -> str:
    """An amount in 万元 with thousands separators, in the user's locale."""
    if amount is None:
        return "—"
    return format_decimal(amount, format="#,##0.####", locale=locale or get_locale() or "zh_CN")
