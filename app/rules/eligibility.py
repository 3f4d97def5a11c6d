"""Commitment-based filing (承诺备案制): no new land and mainly equipment renewal.

national-miit-2024-53.txt 三(四): 对不新增土地、以设备更新为主的技术改造项目，推广承诺备案制.
"Mainly equipment" is read as equipment investment reaching a share of total investment that
each definition sets.
"""

from decimal import Decimal

from ..i18n import gettext as _


def equipment_share(total: Decimal | None, equipment: Decimal | None) -> Decimal | None:
    if not total or equipment is None:
        return None
    return equipment / total


def commitment_filing_reasons(*, new_land: bool, total: Decimal | None,
                              equipment: Decimal | None, threshold: Decimal) -> list[str]:
    """Why a project does not qualify for commitment filing; empty when it does."""
    reasons = []
    if new_land:
        reasons.append(_("The project adds new land, so it follows ordinary filing."))
    share = equipment_share(total, equipment)
    if share is None:
        reasons.append(_("Total and equipment investment are needed to judge eligibility."))
    elif share < threshold:
        reasons.append(_(
            "Equipment investment is %(share)s of total investment; commitment filing needs at "
            "least %(threshold)s.", share=_percent(share), threshold=_percent(threshold)))
    return reasons


def _percent(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.1'))}%"
