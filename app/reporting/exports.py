"""The project list in the shape agencies submit upward: Excel (with a summary sheet) or CSV.
Chinese headers, amounts as numbers in 万元, one row per project.

The sheet opens with what it covers (place, batch year, stages), so an export from the
dashboard says it holds the dashboard's projects. Text typed by users is written as text,
never as a formula (rules/cells.py).
"""

import csv
import io
from collections import Counter
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .. import access
from ..extensions import db
from ..i18n import gettext as _
from ..labels import STATUS_LABELS, SUBSIDY_STATUS_LABELS, TASK_LABELS
from ..models import Jurisdiction, Project, Status, User
from ..projects.operations import ProjectFilter, list_projects
from ..rules.cells import csv_safe

MAX_ROWS = 200_000

COLUMNS = [  # header (translated), value, column width (characters)
    (lambda: _("Project code"), lambda p: p.project_code or "", 26),
    (lambda: _("Project name"), lambda p: p.name, 36),
    (lambda: _("Enterprise"), lambda p: p.enterprise.name, 30),
    (lambda: _("Unified social credit code"), lambda p: p.enterprise.credit_code, 22),
    (lambda: _("Key industry"), lambda p: p.industry or "", 14),
    (lambda: _("Key task"), lambda p: str(TASK_LABELS[p.task.value]) if p.task else "", 16),
    (lambda: _("Location"), lambda p: p.jurisdiction.full_name, 24),
    (lambda: _("Total investment (10k yuan)"), lambda p: p.total_investment, 16),
    (lambda: _("Equipment investment (10k yuan)"), lambda p: p.equipment_investment, 16),
    (lambda: _("Planned investment this year (10k yuan)"), lambda p: p.annual_investment, 18),
    (lambda: _("Financing need (10k yuan)"), lambda p: p.financing_need, 16),
    (lambda: _("Stage"), lambda p: str(STATUS_LABELS[p.status.value]), 14),
    (lambda: _("Lead bank"), lambda p: p.lead_bank.name if p.lead_bank else "", 24),
    (lambda: _("Planned start"), lambda p: p.planned_start, 12),
    (lambda: _("Planned completion"), lambda p: p.planned_end, 12),
    (lambda: _("Declared on"), lambda p: p.declared_at.date() if p.declared_at else None, 12),
    (lambda: _("Batch year"), lambda p: p.batch_year, 10),
]
MONEY_COLUMNS = (7, 8, 9, 10)
HEADER_ROW = 2  # row 1 says what the sheet covers


def coverage(user: User, filters: ProjectFilter) -> str:
    """What an export holds, in words: its place (an agency's own, unless narrowed), batch
    year and stages."""
    place = (db.session.get(Jurisdiction, filters.jurisdiction) if filters.jurisdiction
             else user.organization.jurisdiction if access.is_agency(user) else None)
    where = place.full_name if place else _("Everything you may see")
    year = (_("Batch year %(year)s", year=filters.year) if filters.year
            else _("All batch years"))
    stages = ("、".join(str(STATUS_LABELS[Status(s).value]) for s in filters.status)
              if filters.status else _("All stages"))
    parts = [where, year, _("Stages: %(stages)s", stages=stages)]
    if filters.industry:
        parts.append(filters.industry)
    if filters.q:
        parts.append(_("Search: %(q)s", q=filters.q))
    return " · ".join(parts)


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
    return [[value(p) for _header, value, _width in COLUMNS] for p in projects]


def headers() -> list[str]:
    return [header() for header, _value, _width in COLUMNS]


def _cell(sheet, value, bold=False):
    """A write-only cell; text is always a text cell (openpyxl would make `=…` a formula)."""
    if isinstance(value, Decimal):
        value = float(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    if bold:
        cell.font = Font(bold=True)
    return cell


def workbook(projects: list[Project], covers: str = "") -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Projects"))
    for i, (_header, _value, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    body = rows(projects)
    last = get_column_letter(len(COLUMNS))
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(body), 1)}"
    sheet.append([_cell(sheet, covers)])
    sheet.append([_cell(sheet, h, bold=True) for h in headers()])
    for row in body:
        sheet.append([_cell(sheet, v) for v in row])
    totals = [sum((r[i] or Decimal(0) for r in body), Decimal(0)) for i in MONEY_COLUMNS]
    sheet.append([_cell(sheet, _("Total"), bold=True), _cell(sheet, len(body), bold=True),
                  *[None] * 5, *[_cell(sheet, t, bold=True) for t in totals]])
    summary = book.create_sheet(_("Summary"))
    summary.append([_cell(summary, covers)])
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
        writer.writerow(["" if v is None else csv_safe(v) for v in row])
    return "\ufeff" + out.getvalue()  # the BOM lets Excel open Chinese CSV correctly


# -- subsidy claims as a finance bureau files them upward: one row per loan per quarter ----

SUBSIDY_COLUMNS = [  # header (translated), value of (claim, project, line or None)
    (lambda: _("Claim number"), lambda c, p, line: c.number),
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
    ledger.append([_("Claim number"), _("Period"), _("Claimant"), _("Claimed (10k yuan)"),
                   _("Approved (10k yuan)"), _("Paid (10k yuan)"), _("Clawed back (10k yuan)")])
    for claim, _project in claims:
        ledger.append([claim.number, claim.period, claim.claimant.name, float(claim.claimed),
                       float(claim.approved or 0), float(claim.paid or 0),
                       float(claim.clawed_back or 0)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
