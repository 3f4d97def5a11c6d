"""Batch import of declarations an agency collected offline, from a workbook.

Every row is checked first and its problems reported (row, column, reason: the first
thousand word for word, the rest counted); only a file without problems is imported.
Imported projects are drafts of their enterprises, who are told to check and submit them.
Only the agency that accepts an enterprise's projects into the library imports for it
(`access.enter_for_refusal`).

What a workbook may be is bounded before it is read — its size, what it unpacks to (an
.xlsx is a zip), its rows and the cells read of each — and it is read as a stream. The job
that runs an import (app/jobs/imports.py) checks the rows, outside any write lock, then
writes them in chunks, each its own short transaction.
"""

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from pydantic import ValidationError
from sqlalchemy import select

from .. import access
from ..errors import DomainError, Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..labels import TASK_LABELS
from ..models import Organization, OrgKind, Project, User
from ..projects.operations import create_project
from ..rules.cells import formula_like
from ..rules.project_input import ProjectCreate
from ..rules.project_values import check_values

# (payload key, header in the template). Headers are the file format, hence fixed Chinese.
COLUMNS = [
    ("credit_code", "统一社会信用代码"), ("name", "项目名称"), ("jurisdiction", "建设地点代码"),
    ("address", "详细地址"), ("industry", "重点行业"), ("task", "重点任务"),
    ("batch_year", "批次年度"), ("content", "建设内容及规模"), ("total_investment", "总投资"),
    ("fixed_asset_investment", "固定资产投资"), ("equipment_investment", "设备投资"),
    ("retired_equipment_value", "淘汰设备原值"), ("annual_investment", "年度计划投资"),
    ("new_land", "是否新增用地"), ("planned_start", "计划开工"), ("planned_end", "计划竣工"),
    ("financing_need", "融资需求"), ("financing_term_months", "融资期限（月）"),
    ("financing_purpose", "贷款用途"), ("project_code", "项目代码"),
    ("equipment_name", "新购设备名称"), ("equipment_quantity", "新购设备数量"),
    ("equipment_unit_price", "新购设备单价"), ("equipment_energy_grade", "新购设备能效等级"),
]
HEADER = dict(COLUMNS)
REQUIRED = ("credit_code", "name", "jurisdiction")
AMOUNTS = {"total_investment", "fixed_asset_investment", "equipment_investment",
           "retired_equipment_value", "annual_investment", "financing_need",
           "equipment_unit_price"}
MAX_COLUMNS = 64  # cells read of each row: the template's columns, in any order, and some
MAX_MEMBERS = 1000  # files inside the workbook (a zip)


@dataclass
class RowError:
    row: int
    column: str
    reason: str

    def as_dict(self):
        return {"row": self.row, "column": self.column, "reason": self.reason}


def template() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "申报项目"
    sheet.append([header for _key, header in COLUMNS])
    sheet.append(["91320506MA0000001N", "数控机床更新改造项目", "320506", "吴中大道1号", "高端装备",
                  "先进设备更新", 2026, "更新五轴数控机床2台", 5000, 4600, 4000, 800, 3000, "否",
                  date(2026, 3, 1), date(2026, 12, 31), 2000, 36, "购置设备",
                  "2603-320506-07-02-000001", "五轴数控机床", 2, 300, 2])
    notes = book.create_sheet("填写说明")
    for line in ("每行一个项目；第一行为表头，请勿修改。示例行请删除后再导入。",
                 "金额单位为万元；日期格式为 年-月-日；是否新增用地填 是 或 否。",
                 "建设地点代码为县级行政区划代码（6位）；重点任务填写名称或代码。",
                 "导入前逐行校验，任何一行有误则全部不导入，并列出错误。"):
        notes.append([line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _task_key(value):
    with force_locale("zh_CN"):
        names = {str(label): key for key, label in TASK_LABELS.items()}
    return names.get(value, value)


def check_upload(data: bytes, config) -> None:
    """Refuse at once a file that cannot be a workbook we read: too large, not a zip, or
    unpacking to too much (a small file of a million blank rows, a zip bomb)."""
    megabytes = 1024 * 1024
    if len(data) > config["IMPORT_MAX_BYTES"]:
        raise Invalid(_("The file is too large."), fields={"file": _(
            "At most %(mb)s MB; split the rows into several files.",
            mb=config["IMPORT_MAX_BYTES"] // megabytes)})
    problem = _unpacking_problem(data, config["IMPORT_MAX_UNPACKED"])
    if problem:
        raise Invalid(problem, fields={"file": problem})


def _unpacking_problem(data: bytes, most: int) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            members = book.infolist()
    except (zipfile.BadZipFile, ValueError):
        return _("The file is not an Excel workbook (.xlsx).")
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > most:
        return _("The workbook unpacks to more than %(mb)s MB; split the rows into several "
                 "files.", mb=most // (1024 * 1024))
    return None


class FileProblem(Exception):
    """The workbook as a whole cannot be imported (unreadable, a column missing, too many
    rows); `errors` say why."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(e.reason for e in errors))
        self.errors = errors


def read_rows(data: bytes, max_rows: int, max_unpacked: int) -> Iterator[tuple[int, dict]]:
    """The first sheet's rows after the header, as (spreadsheet row number, {key: value}),
    blank rows left out; FileProblem for a file that cannot be imported as a whole."""
    problem = _unpacking_problem(data, max_unpacked)
    if problem:
        raise FileProblem([RowError(1, "—", problem)])
    try:
        # Formulas as written (data_only=False): a name typed as `=HYPERLINK(…)` is kept as
        # that text, never replaced by what a spreadsheet computed from it.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        header = [str(h).strip() if h is not None else "" for h in next(lines, [])]
    except Exception:  # any unreadable upload is the user's file, not our fault
        raise FileProblem([RowError(1, "—", _("The file is not an Excel workbook (.xlsx)."))]) \
            from None
    missing = [h for _k, h in COLUMNS if h not in header]
    if missing:
        raise FileProblem([RowError(1, h, _("column missing")) for h in missing])
    index = {key: header.index(h) for key, h in COLUMNS}
    count = 0
    try:
        for number, values in enumerate(lines, start=2):
            if values is None or all(v in (None, "") for v in values):
                continue
            count += 1
            if count > max_rows:
                raise FileProblem([RowError(number, "—", _(
                    "More than %(n)s rows; split them into several files.", n=max_rows))])
            yield number, {key: _cell(values[i]) if i < len(values) else None
                           for key, i in index.items()}
    finally:
        book.close()


def estimated_rows(data: bytes) -> int:
    """The rows the sheet says it has (its dimension; a guess for the progress bar)."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True)
        try:
            return max((book.worksheets[0].max_row or 1) - 1, 0)
        finally:
            book.close()
    except Exception:
        return 0


@dataclass
class Entry:
    """A checked row: the enterprise it declares for and its declaration."""

    number: int
    enterprise: Organization
    payload: ProjectCreate


class Checker:
    """Checks rows a batch at a time, reading for each batch only the enterprises and
    project codes its rows name (the database's, and the codes of earlier rows)."""

    def __init__(self, actor: User):
        self.actor = actor
        self.enterprises: dict[str, Organization | None] = {}
        self.codes: set[str] = set()  # codes taken: in the database, or by an earlier row
        self.refusals: dict[tuple[int, str], str | None] = {}

    def check(self, batch: list[tuple[int, dict]]) -> list[tuple[int, list[RowError], Entry | None]]:
        credit = {str(raw.get("credit_code") or "").upper() for _n, raw in batch} - {""}
        unknown = credit - self.enterprises.keys()
        if unknown:
            self.enterprises.update(dict.fromkeys(unknown))
            self.enterprises.update({o.credit_code: o for o in db.session.scalars(
                select(Organization).where(Organization.kind == OrgKind.ENTERPRISE,
                                           Organization.credit_code.in_(unknown)))})
        named = {str(raw["project_code"]) for _n, raw in batch if raw.get("project_code")}
        if named - self.codes:
            self.codes |= set(db.session.scalars(select(Project.project_code).where(
                Project.project_code.in_(named - self.codes))))
        results = []
        for number, raw in batch:
            enterprise = self.enterprises.get(str(raw.get("credit_code") or "").upper())
            problems, parsed = _check_row(number, raw, enterprise, self.codes)
            if parsed is not None:
                refusal = self._refusal(enterprise, parsed.jurisdiction)
                if refusal:
                    problems.append(RowError(number, HEADER["credit_code"], refusal))
            results.append((number, problems, None if problems
                            else Entry(number, enterprise, parsed)))
        return results

    def _refusal(self, enterprise: Organization, place: str) -> str | None:
        key = (enterprise.id, place)
        if key not in self.refusals:
            refusal = access.enter_for_refusal(self.actor, enterprise, place)
            self.refusals[key] = refusal.message if refusal else None
        return self.refusals[key]


def create_row(actor: User, entry: Entry, filename: str) -> None:
    """The row's draft, through the step writer, in the caller's transaction."""
    create_project(actor, entry.payload, on_behalf_of=entry.enterprise,
                   imported_from=filename, imported_row=entry.number)


TEXT = ("name", "address", "content", "industry", "financing_purpose", "equipment_name")


def text_notes(number: int, raw: dict) -> list[dict]:
    """The row's text cells that a spreadsheet would take for a formula: they are stored as
    typed (as text), and the job says so."""
    return [{"row": number, "column": HEADER[key],
             "note": _("Starts with %(sign)s: kept as text, not as a formula.",
                       sign=raw[key][0])}
            for key in TEXT if formula_like(raw.get(key))]


def _number(text: str) -> bool:
    try:
        Decimal(text.replace(",", ""))
    except InvalidOperation:
        return False
    return True


def _payload(raw: dict, errors: list[RowError], number: int) -> dict:
    payload = {}
    for key, value in raw.items():
        if value is None or key in ("credit_code",) or key.startswith("equipment_"):
            continue
        if key in AMOUNTS and formula_like(value) and not _number(value):
            errors.append(RowError(number, HEADER[key], _(
                "A formula is not read: write the amount itself.")))
            continue
        if key in AMOUNTS:
            try:
                value = Decimal(str(value).replace(",", ""))
            except InvalidOperation:
                errors.append(RowError(number, HEADER[key], _("Must be an amount.")))
                continue
        elif key == "new_land":
            if value not in ("是", "否", True, False):
                errors.append(RowError(number, HEADER[key], _("Write 是 or 否.")))
                continue
            value = value in ("是", True)
        elif key == "task":
            value = _task_key(value)
        elif key in ("jurisdiction", "project_code", "name", "address", "content",
                     "industry", "financing_purpose"):
            value = str(value)
        payload[key] = value
    if raw.get("equipment_name"):
        payload["equipment"] = [{
            "kind": "new", "name": str(raw["equipment_name"]),
            "quantity": raw.get("equipment_quantity"),
            "unit_price": raw.get("equipment_unit_price"),
            "energy_grade": raw.get("equipment_energy_grade")}]
    return payload


def _check_row(number: int, raw: dict, enterprise, codes: set):
    """One row's problems, and its declaration when it has none (the code it names is then
    taken)."""
    row_errors: list[RowError] = [RowError(number, HEADER[key], _("This field is required."))
                                  for key in REQUIRED if raw.get(key) in (None, "")]
    if raw.get("credit_code") and enterprise is None:
        row_errors.append(RowError(number, HEADER["credit_code"],
                                   _("No registered enterprise has this code.")))
    payload = _payload(raw, row_errors, number)
    if row_errors:
        return row_errors, None
    try:
        parsed = ProjectCreate.model_validate(payload, strict=False)
        check_values(parsed.model_dump(exclude_unset=True))
    except ValidationError as err:
        for error in err.errors():
            key = str(error["loc"][0])
            column = HEADER.get(key, HEADER.get(f"equipment_{error['loc'][-1]}", key))
            row_errors.append(RowError(number, column, _field_message(err, error)))
        return row_errors, None
    except DomainError as err:
        return [RowError(number, HEADER.get(k, k), m) for k, m in err.fields.items()], None
    code = parsed.project_code
    if code and code in codes:
        row_errors.append(RowError(number, HEADER["project_code"],
                                   _("Another project already has this code.")))
    if code:
        codes.add(code)
    return row_errors, None if row_errors else parsed


def _field_message(err: ValidationError, error: dict) -> str:
    from ..validation import validation_fields

    fields = validation_fields(ValidationError.from_exception_data(err.title, [error]))
    return next(iter(fields.values()))


