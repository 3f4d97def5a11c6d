"""The project list in the shape agencies submit upward: Excel (with a summary sheet) or CSV.
Chinese headers, amounts as numbers in 万元, one row per project."""

import csv
import io
from collections import Counter
from decimal import Decimal

from openpyxl import Workbook

from ..i18n import gettext as _
from ..labels import STATUS_LABELS, SUBSIDY_STATUS_LABELS, TASK_LABELS
from ..models import Project, User
from ..projects.operations import ProjectFilter, list_projects

MAX_ROWS = 200_000

COLUMNS = [  # header (translated), value
    (lambda: _("Project code"), lambda p: p.project_code or ""),
    (lambda: _("Project name"), lambda p: p.name),
    (lambda: _("Enterprise"), lambda p: p.enterprise.name),
    (lambda: _("Unified social credit code"), lambda p: p.enterprise.credit_code),
    (lambda: _("Key industry"), lambda p: p.industry or ""),
    (lambda: _("Key task"), lambda p: str(TASK_LABELS[p.task.value]) if p.task else ""),
    (lambda: _("Location"), lambda p: p.jurisdiction.full_name),
    (lambda: _("Total investment (10k yuan)"), lambda p: p.total_investment),
    (lambda: _("Equipment investment (10k yuan)"), lambda p: p.equipment_investment),
    (lambda: _("Planned investment this year (10k yuan)"), lambda p: p.annual_investment),
    (lambda: _("Financing need (10k yuan)"), lambda p: p.financing_need),
    (lambda: _("Stage"), lambda p: str(STATUS_LABELS[p.status.value])),
    (lambda: _("Lead bank"), lambda p: p.lead_bank.name if p.lead_bank else ""),
    (lambda: _("Planned start"), lambda p: p.planned_start),
    (lambda: _("Planned completion"), lambda p: p.planned_end),
    (lambda: _("Declared on"), lambda p: p.declared_at.date() if p.declared_at else None),
    (lambda: _("Batch year"), lambda p: p.batch_year),
]
MONEY_COLUMNS = (7, 8, 9, 10)


def matching_projects(user: User, filters: ProjectFilter):
    """Every visible project matching the filters, in pages, newest first."""
    cursor, sent = None, 0
    while sent < MAX_ROWS:
        page, cursor = list_projects(user, filters, limit=1000, cursor=cursor)
        yield from page
        sent += len(page)
        if cursor is None:
            return


def rows(projects) -> list[list]:
    return [[value(p) for _header, value in COLUMNS] for p in projects]


def headers() -> list[str]:
    return [header() for header, _value in COLUMNS]


def workbook(projects: list[Project]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Projects"))
    sheet.append(headers())
    body = rows(projects)
    for row in body:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    totals = [sum((r[i] or Decimal(0) for r in body), Decimal(0)) for i in MONEY_COLUMNS]
    sheet.append([_("Total"), f"{len(body)}", *[""] * 5, *[float(t) for t in totals]])
    summary = book.create_sheet(_("Summary"))
    summary.append([_("Stage"), _("Projects"), _("Total investment (10k yuan)")])
    by_stage = Counter(p.status.value for p in projects)
    for status, label in STATUS_LABELS.items():
        if by_stage[status]:
            invested = sum((p.total_investment or Decimal(0) for p in projects
                            if p.status.value == status), Decimal(0))
            summary.append([str(label), by_stage[status], float(invested)])
    summary.append([_("Total"), len(projects), float(totals[0])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(projects: list[Project]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers())
    for row in rows(projects):
        writer.writerow(["" if v is None else v for v in row])
    return "\ufeff" + out.getvalue()  # the BOM lets Excel open Chinese CSV correctly


# -- subsidy claims as a finance bureau files them upward: one row per loan per quarter ----

SUBSIDY_COLUMNS = [  # header (translated), value of (claim, project, line or None)
    (lambda: _("Claim"), lambda c, p, line: c.number),
    (lambda: _("Period"), lambda c, p, line: c.period),
    (lambda: _("Project code"), lambda c, p, line: p.project_code or ""),
    (lambda: _("Project name"), lambda c, p, line: p.name),
    (lambda: _("Enterprise"), lambda c, p, line: p.enterprise.name),
    (lambda: _("Claimant"), lambda c, p, line: c.claimant.name),
    (lambda: _("Loan"), lambda c, p, line: line["loan"] if line else ""),
    (lambda: _("Principal (10k yuan)"),
     lambda c, p, line: Decimal(line["principal"]) if line else None),
    (lambda: _("Paid to supplier"), lambda c, p, line: line["supplier_paid"] if line else ""),
    (lambda: _("Subsidised until"), lambda c, p, line: line["subsidy_last_day"] if line else ""),
    (lambda: _("Days"), lambda c, p, line: line["days"] if line else None),
    (lambda: _("Rates by period"), lambda c, p, line: "；".join(
        f"{s['first']}～{s['last']} {s['days']}天 {(Decimal(s['rate']) * 100).normalize():f}%"
        for s in line["segments"]) if line else ""),
    (lambda: _("Claimed (10k yuan)"),
     lambda c, p, line: Decimal(line["amount"]) if line else c.claimed),
    (lambda: _("Status"), lambda c, p, line: str(SUBSIDY_STATUS_LABELS[c.status.value])),
    (lambda: _("Paid on"), lambda c, p, line: c.paid_on.isoformat() if c.paid_on else ""),
    (lambda: _("Payment voucher number"), lambda c, p, line: c.voucher or ""),
]
SUBSIDY_MONEY = (7, 12)


def subsidy_rows(claims) -> list[list]:
    """Each claim's loans, one row each (a grant, which lists no loans, one row)."""
    return [[value(claim, project, line) for _header, value in SUBSIDY_COLUMNS]
            for claim, project in claims for line in (claim.lines or [None])]


def subsidy_workbook(claims) -> bytes:
    """The claims with their loans, and per claim what was approved, paid and clawed back."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Subsidy claims"))
    sheet.append([header() for header, _value in SUBSIDY_COLUMNS])
    body = subsidy_rows(claims)
    for row in body:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    claimed = sum((r[12] or Decimal(0) for r in body), Decimal(0))
    sheet.append([_("Total"), *[""] * 11, float(claimed)])
    ledger = book.create_sheet(_("Ledger"))
    ledger.append([_("Claim"), _("Period"), _("Claimant"), _("Claimed (10k yuan)"),
                   _("Approved (10k yuan)"), _("Paid (10k yuan)"), _("Clawed back (10k yuan)")])
    for claim, _project in claims:
        ledger.append([claim.number, claim.period, claim.claimant.name, float(claim.claimed),
                       float(claim.approved or 0), float(claim.paid or 0),
                       float(claim.clawed_back or 0)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
