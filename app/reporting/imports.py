"""Batch import of declarations an agency collected offline, from a workbook.

Every row is checked first and every problem reported (row, column, reason); only a file
without problems is imported, all of it in one transaction. Imported projects are drafts of
their enterprises, who are told to check and submit them.
"""

import io
import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from pydantic import ValidationError
from sqlalchemy import select

from .. import access
from ..database import unit_of_work
from ..errors import DomainError, Forbidden
from ..extensions import db
from ..i18n import gettext as _
from ..labels import TASK_LABELS
from ..models import ImportJob, Organization, OrgKind, Project, User, utcnow
from ..projects.operations import create_project
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
PROGRESS: dict[str, tuple[int, int]] = {}  # job id -> (rows done, rows in all), this process


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
                 "导入前逐行校验，任何一行有误则全部不导入，并列出所有错误。"):
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


def read_rows(data: bytes) -> tuple[list[tuple[int, dict]], list[RowError]]:
    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception:  # any unreadable upload is the user's file, not our fault
        return [], [RowError(1, "—", _("The file is not an Excel workbook (.xlsx)."))]
    lines = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(lines, [])]
    missing = [h for _k, h in COLUMNS if h not in header]
    if missing:
        return [], [RowError(1, h, _("column missing")) for h in missing]
    index = {key: header.index(h) for key, h in COLUMNS}
    rows = []
    for number, values in enumerate(lines, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        rows.append((number, {key: _cell(values[i]) if i < len(values) else None
                              for key, i in index.items()}))
    return rows, []


def _payload(raw: dict, errors: list[RowError], number: int) -> dict:
    payload = {}
    for key, value in raw.items():
        if value is None or key in ("credit_code",) or key.startswith("equipment_"):
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


def check_rows(actor: User, rows: list[tuple[int, dict]], progress=None):
    """Every row's problems, and the valid rows as (enterprise, payload)."""
    agency = actor.organization
    if not access.is_agency(actor):
        raise Forbidden(_("Only agencies import declarations."))
    enterprises = {o.credit_code: o for o in db.session.scalars(
        select(Organization).where(Organization.kind == OrgKind.ENTERPRISE))}
    codes = set(db.session.scalars(select(Project.project_code).where(
        Project.project_code.is_not(None))))  # grows by each row's code: no two in one file
    errors, ready = [], []
    for done, (number, raw) in enumerate(rows, start=1):
        enterprise = enterprises.get(str(raw.get("credit_code") or "").upper())
        row_errors, parsed = _check_row(agency, number, raw, enterprise, codes)
        errors += row_errors
        if parsed is not None:
            ready.append((enterprise, parsed))
        if progress:
            progress(done, len(rows))
    return errors, ready


def _check_row(agency, number: int, raw: dict, enterprise, codes: set):
    """One row's problems, and its declaration when it has none."""
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
    if not agency.jurisdiction.contains(parsed.jurisdiction):
        row_errors.append(RowError(number, HEADER["jurisdiction"],
                                   _("The project lies outside your jurisdiction.")))
    code = parsed.project_code
    if code and code in codes:
        row_errors.append(RowError(number, HEADER["project_code"],
                                   _("Another project already has this code.")))
    codes.add(code)
    return row_errors, None if row_errors else parsed


def _field_message(err: ValidationError, error: dict) -> str:
    from ..validation import validation_fields

    fields = validation_fields(ValidationError.from_exception_data(err.title, [error]))
    return next(iter(fields.values()))


def run_import(actor: User, data: bytes, filename: str, job_id: int | None = None) -> ImportJob:
    """Check the workbook and import it whole, or nothing; the job records the outcome."""
    job = db.session.get(ImportJob, job_id) if job_id else None
    if job is None:
        with unit_of_work():
            job = ImportJob(user_id=actor.id, filename=filename[:200], status="running",
                            started_at=utcnow())
            db.session.add(job)
    key = str(job.public_id)
    rows, errors = read_rows(data)
    PROGRESS[key] = (0, len(rows) * 2)
    if not errors:
        errors, ready = check_rows(actor, rows,
                                   lambda done, total: PROGRESS.__setitem__(key, (done, total * 2)))
    if errors:
        with unit_of_work():
            job.status, job.rows, job.finished_at = "failed", len(rows), utcnow()
            job.errors = [e.as_dict() for e in errors]
        return job
    with unit_of_work():  # one transaction: every project, or none
        for done, (enterprise, payload) in enumerate(ready, start=1):
            create_project(actor, payload, on_behalf_of=enterprise, imported_from=filename)
            PROGRESS[key] = (len(rows) + done, len(rows) * 2)
        job.status, job.rows, job.created, job.finished_at = "done", len(rows), len(ready), utcnow()
    return job


def start_import(actor: User, data: bytes, filename: str) -> ImportJob:
    """Run an import in the background, so the page can show its progress."""
    with unit_of_work():
        job = ImportJob(user_id=actor.id, filename=filename[:200], status="running",
                        started_at=utcnow())
        db.session.add(job)
    app, user_id, job_id = current_app._get_current_object(), actor.id, job.id

    def work():
        with app.app_context():
            run_import(db.session.get(User, user_id), data, filename, job_id)

    threading.Thread(target=work, daemon=True).start()
    return job
