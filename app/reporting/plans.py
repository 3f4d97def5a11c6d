"""Importing an equipment-renewal plan table (units and 万元 per key industry per year).

The file is checked whole before anything is written: a missing column, a value that is not
a number, an unknown industry or a duplicate row refuses the import, naming row and column.
Rows named 合计 are the table's stated totals; where they differ from the sum of the rows the
import says so, with both numbers, and keeps both.
"""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete

from ..database import unit_of_work
from ..errors import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..labels import key_industries
from ..models import Jurisdiction, PlanEntry, PlanImport, utcnow

COLUMNS = ("industry", "year", "equipment_units", "investment_10k_yuan")
TOTAL = "合计"


@dataclass
class Discrepancy:
    year: int
    column: str
    stated: Decimal
    summed: Decimal


@dataclass
class PlanReport:
    rows: int
    years: list[int]
    discrepancies: list[Discrepancy] = field(default_factory=list)


@dataclass
class CellError:
    row: int  # as in a spreadsheet: the header is row 1
    column: str
    reason: str

    def __str__(self):
        return _("row %(row)s, column %(column)s: %(reason)s", row=self.row, column=self.column,
                 reason=self.reason)


def parse_plan(text: str) -> tuple[list[dict], dict[int, dict], list[CellError]]:
    try:
        return _parse(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    except csv.Error as err:
        return [], {}, [CellError(1, "—", _("not a CSV table: %(error)s", error=str(err)))]


def _parse(reader) -> tuple[list[dict], dict[int, dict], list[CellError]]:
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], {}, [CellError(1, c, _("column missing")) for c in missing]
    rows, totals, errors, seen = [], {}, [], set()
    industries = set(key_industries())
    for number, raw in enumerate(reader, start=2):
        values = {}
        industry = (raw["industry"] or "").strip() if isinstance(raw["industry"], str) else ""
        if industry != TOTAL and industry not in industries:
            errors.append(CellError(number, "industry",
                                    _("unknown industry “%(name)s”", name=industry)))
        for column, kind in (("year", int), ("equipment_units", int),
                             ("investment_10k_yuan", Decimal)):
            cell = (raw[column] or "").strip().replace(",", "")
            try:
                value = kind(cell)
                if value < 0 or (column == "year" and not 2000 <= value <= 2100):
                    raise ValueError
                values[column] = value
            except (ValueError, InvalidOperation):
                errors.append(CellError(number, column,
                                        _("“%(value)s” is not a valid number", value=cell)))
        if len(values) < 3:
            continue
        key = (industry, values["year"])
        if key in seen:
            errors.append(CellError(number, "industry", _("duplicate row for %(industry)s "
                                                          "%(year)s", industry=industry,
                                                          year=values["year"])))
        seen.add(key)
        entry = {"industry": industry, "year": values["year"],
                 "equipment_units": values["equipment_units"],
                 "investment": values["investment_10k_yuan"]}
        if industry == TOTAL:
            totals[values["year"]] = entry
        else:
            rows.append(entry)
    return rows, totals, errors


def discrepancies(rows: list[dict], totals: dict[int, dict]) -> list[Discrepancy]:
    found = []
    for year, stated in sorted(totals.items()):
        for column in ("equipment_units", "investment"):
            summed = sum((Decimal(r[column]) for r in rows if r["year"] == year), Decimal(0))
            if summed != Decimal(stated[column]):
                found.append(Discrepancy(year, column, Decimal(stated[column]), summed))
    return found


def import_plan(text: str, jurisdiction_code: str, source: str) -> PlanReport:
    """Replace the jurisdiction's plan with the file's, or refuse it whole."""
    if db.session.get(Jurisdiction, jurisdiction_code) is None:
        raise Invalid(_("Unknown jurisdiction."), fields={"jurisdiction": jurisdiction_code})
    rows, totals, errors = parse_plan(text)
    if errors:
        raise Invalid(_("The plan table was not imported: %(n)s problem(s).", n=len(errors)),
                      fields={f"row {e.row} {e.column}": e.reason for e in errors},
                      reasons=[str(e) for e in errors])
    found = discrepancies(rows, totals)
    with unit_of_work():
        db.session.execute(delete(PlanEntry).where(PlanEntry.jurisdiction_code == jurisdiction_code))
        for row in rows:
            db.session.add(PlanEntry(jurisdiction_code=jurisdiction_code, **row))
        db.session.add(PlanImport(
            jurisdiction_code=jurisdiction_code, source=source, imported_at=utcnow(),
            stated_totals={str(y): {"equipment_units": t["equipment_units"],
                                    "investment": str(t["investment"])} for y, t in totals.items()},
            discrepancies=[{"year": d.year, "column": d.column, "stated": str(d.stated),
                            "summed": str(d.summed)} for d in found]))
    return PlanReport(rows=len(rows), years=sorted({r["year"] for r in rows}), discrepancies=found)
