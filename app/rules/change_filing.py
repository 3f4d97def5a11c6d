"""Which edits of a filed project need a change filing (变更备案).

Practice (企业投资项目核准和备案管理办法): a change of the project's name or location, of
its investment by the configured share or more, or of its legal entity needs a new filing;
smaller edits are recorded and take effect at once.
"""

from datetime import date
from decimal import Decimal

from ..i18n import gettext as _
from .parameters import parameter


def change_filing_reasons(project, changes: dict, today: date) -> list[str]:
    reasons = []
    if "name" in changes and changes["name"] != project.name:
        reasons.append(_("The project name changes."))
    if "jurisdiction" in changes and changes["jurisdiction"] != project.jurisdiction_code:
        reasons.append(_("The project's location changes."))
    if changes.get("enterprise_credit_code") not in (None, project.enterprise.credit_code):
        reasons.append(_("The legal entity carrying the project changes."))
    old, new = project.total_investment, changes.get("total_investment")
    if new is not None and old:
        limit = parameter("change_filing_investment_share", today, project.jurisdiction_code)
        shift = abs(Decimal(new) - old) / old
        if shift >= limit:
            reasons.append(_("Total investment changes by %(shift)s (from %(old)s to %(new)s, "
                             "10k yuan); a change of %(limit)s or more needs a change filing.",
                             shift=f"{shift:.1%}", old=old, new=new, limit=f"{limit:.0%}"))
    return reasons
