"""Realistic generated projects for benchmarks and report tests (`flask bench-data`).

Projects are spread over the five seed jurisdictions, key industries, tasks and stages, each
consistent with its stage: the workflow it is frozen on, filing, whitelisting, lead bank,
per-bank credit and contracts, loans with their figures, owed deadlines, stage times, and an
audit trail whose hash chain verifies. Rows are written in bulk (PostgreSQL COPY, SQLite
executemany) with ids assigned here, never one ORM object at a time.
"""

import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import func, insert, select, text

from app.accounts.operations import hash_password
from app.demo import AREAS, credit_code, load_jurisdictions
from app.extensions import db
from app.labels import key_industries
from app.models import (
    AgencyKind,
    BankClaim,
    Deadline,
    DefinitionSnapshot,
    Engagement,
    EquipmentItem,
    Jurisdiction,
    Level,
    ListEntry,
    Loan,
    Organization,
    Project,
    StageTime,
    User,
    WorkflowEvent,
    bank_service_areas,
)
from app.models.base import PPM, WanYuan
from app.reporting import rollup as stats
from app.rules.finance import loan_figures
from app.workflow import workflows
from app.workflow.audit import GENESIS

WAN = 10000
# status: share of projects, and the happy-path steps that brought it there
STAGE_MIX = [
    ("draft", 0.08, []),
    ("declared", 0.14, ["submit"]),
    ("returned", 0.04, ["submit", "return"]),
    ("rejected", 0.02, ["submit", "reject"]),
    ("withdrawn", 0.02, ["submit", "withdraw"]),
    ("commitment_filing", 0.18, ["submit", "accept", "sign_commitment"]),
    ("financing_matchmaking", 0.17, ["submit", "accept", "sign_commitment", "file", "whitelist"]),
    ("lead_bank_designated", 0.17, ["submit", "accept", "sign_commitment", "file", "whitelist",
                                    "express_interest", "approve_credit", "claim_lead_bank",
                                    "designate_lead_bank", "sign_contract", "record_loan"]),
    ("completed", 0.18, ["submit", "accept", "sign_commitment", "file", "whitelist",
                         "express_interest", "approve_credit", "claim_lead_bank",
                         "designate_lead_bank", "sign_contract", "record_loan",
                         "report_completion", "verify_completion"]),
]
DEST = {"submit": "declared", "return": "returned", "reject": "rejected", "withdraw": "withdrawn",
        "accept": "commitment_filing", "file": "financing_matchmaking",
        "designate_lead_bank": "lead_bank_designated", "verify_completion": "completed"}
ROLE = {"submit": "enterprise", "withdraw": "enterprise", "sign_commitment": "enterprise",
        "report_completion": "enterprise", "express_interest": "bank", "approve_credit": "bank",
        "claim_lead_bank": "bank", "sign_contract": "bank", "record_loan": "bank"}
OWED = {"declared": ("agency:miit", "accept", 15), "commitment_filing": ("agency:ndrc", "file", 5),
        "financing_matchmaking": ("agency:miit", "whitelist", 10)}
TASKS = ["advanced_equipment", "digital_transformation", "green_equipment", "intrinsic_safety",
         "supply_capacity"]
AREA_WEIGHTS = [0.30, 0.20, 0.18, 0.14, 0.18]


@dataclass
class Cast:
    area: object
    counties: list[str]
    enterprises: list[tuple[int, str]]  # (org id, user id)
    banks: list[tuple[int, int, str]]  # (org id, user id, name)
    agencies: dict[str, tuple[int, int, str]]  # role -> (org id, user id, name)
    definition: object


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _write(table, rows: list[dict]) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        columns = list(rows[0])
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_pg(row[c]) for c in columns])
    else:
        # Through the column types here, so money (whole yuan in these rows) goes in as 万元.
        money = [c.name for c in table.c if isinstance(c.type, WanYuan)]
        if money:
            rows = [{**row, **{c: None if row[c] is None else Decimal(row[c]) / WAN
                               for c in money if c in row}} for row in rows]
        connection.execute(insert(table), rows)


def _keep_definitions(definitions) -> None:
    """The text of each definition the projects are frozen on, as the engine keeps it on a
    project's first step: a later version on disk must not strand them."""
    for definition in definitions:
        if db.session.get(DefinitionSnapshot, (definition.key, definition.version)) is None:
            db.session.add(DefinitionSnapshot(
                key=definition.key, version=definition.version, sha256=definition.sha256,
                source_text=definition.text))
    db.session.flush()


def _pg(value):
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _cast(area, index: int, enterprises: int, password: str) -> Cast:
    """Organisations and one user each for an area (reused on later runs)."""
    definition = workflows().resolve(area.county, date.today())
    place = db.session.get(Jurisdiction, area.code)
    counties = [code for code in db.session.scalars(select(Jurisdiction.code).where(
        Jurisdiction.level == Level.COUNTY)) if place.contains(code)] or [area.county]
    org_rows, user_rows = [], []
    org_id, user_id = _next_id(Organization), _next_id(User)

    def org(kind, name, code, agency_kind=None, credit=None):
        nonlocal org_id, user_id
        existing = db.session.execute(select(Organization.id, User.id).join(
            User, User.organization_id == Organization.id).where(Organization.name == name)
        ).first()
        if existing:
            return existing[0], existing[1], name
        org_rows.append({"id": org_id, "public_id": uuid.uuid4(), "kind": kind,
                         "agency_kind": agency_kind, "name": name, "credit_code": credit,
                         "jurisdiction_code": code, "created_at": datetime(2024, 5, 1)})
        user_rows.append({"id": user_id, "public_id": uuid.uuid4(),
                          "username": f"bench-{org_id}", "display_name": f"{name}经办人",
                          "password_hash": password, "organization_id": org_id,
                          "is_admin": False, "active": True, "created_at": datetime(2024, 5, 1)})
        org_id, user_id = org_id + 1, user_id + 1
        return org_id - 1, user_id - 1, name

    agencies = {}
    for spec in definition.transitions:
        if spec.agency_kind and spec.role not in agencies:
            agencies[spec.role] = org("agency", f"{area.agencies[spec.agency_kind]}（基准）",
                                      area.code, AgencyKind(spec.agency_kind).value)
    banks = [org("bank", f"{name}（基准）", area.code) for name in area.banks]
    firms = [org("enterprise", f"{area.slug}基准企业{n:05d}有限公司", counties[n % len(counties)],
                 credit=credit_code(counties[n % len(counties)], 500000 + index * 100000 + n))
             for n in range(enterprises)]
    _write(Organization.__table__, org_rows)
    _write(User.__table__, user_rows)
    _write(bank_service_areas, [{"bank_id": b[0], "jurisdiction_code": area.code}
                                for b in banks if any(r["id"] == b[0] for r in org_rows)])
    return Cast(area, counties, [(f[0], f[1]) for f in firms], banks, agencies, definition)


def generate(total: int, *, seed: int = 2024, today: date | None = None) -> dict:
    """Add `total` projects (with everything their stage implies); returns row counts."""
    rng = random.Random(seed)
    today = today or date.today()
    load_jurisdictions()
    password = hash_password("jigai-bench")
    industries = list(key_industries())[:12]
    casts = [_cast(area, i, max(5, total // 40), password) for i, area in enumerate(AREAS)]
    _keep_definitions({(c.definition.key, c.definition.version): c.definition for c in casts}.values())
    ids = {model: _next_id(model) for model in (Project, EquipmentItem, WorkflowEvent, ListEntry,
                                                BankClaim, Engagement, Loan, Deadline, StageTime)}
    counts = dict.fromkeys(("projects", "events", "equipment", "loans"), 0)
    stages = [s for s, _w, _p in STAGE_MIX]
    weights = [w for _s, w, _p in STAGE_MIX]
    paths = {s: p for s, _w, p in STAGE_MIX}
    chunk = 5000
    for start in range(0, total, chunk):
        rows = {model: [] for model in ids}
        for _n in range(min(chunk, total - start)):
            cast = rng.choices(casts, AREA_WEIGHTS)[0]
            status = rng.choices(stages, weights)[0]
            _project(rng, cast, status, paths[status], industries, ids, rows, today)
        for model, batch in rows.items():
            _write(model.__table__, batch)
        counts["projects"] += len(rows[Project])
        counts["events"] += len(rows[WorkflowEvent])
        counts["equipment"] += len(rows[EquipmentItem])
        counts["loans"] += len(rows[Loan])
        db.session.commit()
    _advance_sequences([Organization, User, *ids])
    stats.rebuild()  # the rollup, recounted once from the rows just written
    db.session.commit()
    return counts


def _advance_sequences(models) -> None:
    """Ids were given here; PostgreSQL's sequences must move past them."""
    if db.engine.dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"))
    db.session.commit()


def _project(rng, cast, status, path, industries, ids, rows, today):
    pid = _take(ids, Project)
    public_id = uuid.uuid4()
    county = rng.choice(cast.counties)
    enterprise_org, enterprise_user = rng.choice(cast.enterprises)
    total_wan = Decimal(int(rng.lognormvariate(8.2, 0.8)))  # median ≈ 3,600 万元
    equipment = (total_wan * Decimal(rng.choice(["0.55", "0.65", "0.75", "0.85", "0.4"]))).quantize(1)
    needs_loan = rng.random() < 0.8 or status in ("lead_bank_designated", "completed")
    need = (total_wan * Decimal("0.4")).quantize(1) if needs_loan else Decimal(0)
    year = rng.choice([2024, 2025, 2026, 2027])
    # after the relending tool began (2024-04), and early enough that the whole trail is past
    created = datetime(max(year - 1, 2024), rng.randint(5, 11), rng.randint(1, 28),
                       rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59),
                       rng.randint(0, 999999))
    created = min(created, datetime.combine(today - timedelta(days=180), created.time()))
    definition = cast.definition
    project = {
        "id": pid, "public_id": public_id, "name": f"{rng.choice(industries)}设备更新项目{pid}",
        "enterprise_id": enterprise_org, "jurisdiction_code": county,
        "province_code": county[:2] + "0000", "city_code": county[:4] + "00", "address": None,
        "workflow_key": None if status == "draft" else definition.key,
        "workflow_version": None if status == "draft" else definition.version,
        "industry": rng.choice(industries), "task": rng.choice(TASKS), "policy_class": None,
        "batch_year": year, "content": "更新改造生产设备及配套软件。",
        "total_investment_yuan": int(total_wan * WAN),
        "fixed_asset_investment_yuan": int(total_wan * WAN * Decimal("0.9")),
        "equipment_investment_yuan": int(equipment * WAN),
        "retired_equipment_value_yuan": int(total_wan * WAN * Decimal("0.1")),
        "annual_investment_yuan": int(total_wan * WAN * Decimal("0.6")), "new_land": False,
        "planned_start": date(year, 3, 1), "planned_end": date(year, 12, 31),
        "financing_need_yuan": int(need * WAN), "financing_term_months": 36,
        "financing_purpose": "购置设备", "project_code": f"{year % 100:02d}03-{county}-07-02-{pid:06d}"
        if pid < 1_000_000 else None,
        "status": status, "version": 1, "status_changed_at": created, "declared_at": None,
        "commitment_signed_at": None, "filing_number": None, "filed_at": None,
        "lead_bank_id": None, "recommended_at": None, "completion_reported_at": None,
        "accepted_at": None, "matchmaking_ended_at": None, "energy_tce": None,
        "electricity_kwh": None, "actual_equipment_investment_yuan": None,
        "actual_total_investment_yuan": None, "completed_on": None, "clock_used_days": 0,
        "clock_paused_state": None, "created_at": created, "updated_at": created,
        "credit_total_yuan": 0, "contract_total_yuan": 0, "drawn_total_yuan": 0, "loan_count": 0,
        "relending_total_yuan": 0, "subsidy_total_yuan": 0,
    }
    quantity = rng.randint(1, 12)
    project["new_units"] = quantity
    rows[EquipmentItem] += [
        {"id": _take(ids, EquipmentItem), "project_id": pid, "position": 1, "kind": "new",
         "name": "数控加工中心", "quantity": quantity,
         "unit_price_yuan": int(equipment * WAN / quantity), "years_in_service": None,
         "energy_grade": rng.choice([1, 2])},
        {"id": _take(ids, EquipmentItem), "project_id": pid, "position": 2, "kind": "old",
         "name": "普通车床", "quantity": rng.randint(1, 8), "unit_price_yuan": None,
         "years_in_service": rng.randint(10, 25), "energy_grade": None}]
    bank_org, bank_user, _bank_name = rng.choice(cast.banks)
    at, state, prev = created, "draft", GENESIS
    events = [("create", None, "draft", enterprise_user, "enterprise", enterprise_org, None, {})]
    stay_start = created
    designates = bool(definition.transitions_for("designate_lead_bank"))
    for trigger in path:
        if not definition.transitions_for(trigger):
            continue  # a lead-bank claim where no agency designates one
        at += timedelta(days=rng.randint(1, 12), seconds=rng.randint(0, 30000))
        dest = DEST.get(trigger, state)
        if trigger == "sign_contract" and not designates and state == "financing_matchmaking":
            dest = "lead_bank_designated"  # the first contract makes its bank the lead
        role = ROLE.get(trigger, "agency")
        if role == "enterprise":
            actor = (enterprise_user, "enterprise", enterprise_org)
        elif role == "bank":
            actor = (bank_user, "bank", bank_org)
        else:
            spec_role = next(s.role for s in definition.transitions_for(trigger)
                             if state in s.sources)
            org_id, user_id, _name = cast.agencies[spec_role]
            actor = (user_id, spec_role, org_id)
        clause = next(s.clause for s in definition.transitions_for(trigger) if state in s.sources)
        data = _effects(trigger, project, rows, ids, at, (bank_org, bank_user), cast, need, rng)
        events.append((trigger, state, dest, actor[0], actor[1], actor[2], clause, data))
        if dest != state:
            rows[StageTime].append({"id": _take(ids, StageTime), "project_id": pid,
                                    "status": state, "entered_at": stay_start, "left_at": at,
                                    "working_days": max(1, (at - stay_start).days * 5 // 7),
                                    "jurisdiction_code": county, "batch_year": year})
            stay_start, state = at, dest
    if state in OWED:
        role, trigger, sla = OWED[state]
        rows[Deadline].append({"id": _take(ids, Deadline), "project_id": pid, "role": role,
                               "level": "", "trigger": trigger, "started_on": at.date(),
                               "sla_days": sla, "used_days": 0,
                               "due_on": at.date() + timedelta(days=sla * 7 // 5),
                               "met_at": None, "jurisdiction_code": county,
                               "province_code": project["province_code"],
                               "city_code": project["city_code"], "batch_year": year})
    for seq, (trigger, source, dest, user_id, role, org_id, clause, data) in enumerate(events, 1):
        stamp = created if seq == 1 else at
        body = {"project": str(public_id), "seq": seq, "trigger": trigger, "from": source,
                "to": dest, "workflow": project["workflow_key"] if seq > 1 else None,
                "workflow_version": project["workflow_version"] if seq > 1 else None,
                "clause": clause, "actor": f"用户{user_id}", "role": role,
                "organization": f"单位{org_id}", "comment": None, "data": data,
                "at": stamp.isoformat(timespec="microseconds")}
        digest = hashlib.sha256((prev + json.dumps(body, sort_keys=True, ensure_ascii=False,
                                                   separators=(",", ":"))).encode()).hexdigest()
        rows[WorkflowEvent].append({
            "id": _take(ids, WorkflowEvent), "project_id": pid, "seq": seq, "trigger": trigger,
            "from_state": source, "to_state": dest, "workflow_key": body["workflow"],
            "workflow_version": body["workflow_version"], "clause": clause, "actor_id": user_id,
            "actor_name": body["actor"], "actor_role": role, "actor_org_id": org_id,
            "actor_org_name": body["organization"], "comment": None, "data": data,
            "created_at": stamp, "prev_hash": prev, "hash": digest})
        prev = digest
    project.update(version=len(events), updated_at=at, status_changed_at=stay_start)
    rows[Project].append(project)


def _take(ids, model) -> int:
    ids[model] += 1
    return ids[model] - 1


def _effects(trigger, project, rows, ids, at, bank, cast, need, rng) -> dict:
    """What each step leaves behind, as the engine's effects would."""
    pid, (bank_org, bank_user) = project["id"], bank
    if trigger == "submit":
        project["declared_at"] = project["declared_at"] or at
    elif trigger == "accept":
        project["accepted_at"] = at
    elif trigger == "sign_commitment":
        project["commitment_signed_at"] = at
    elif trigger == "file":
        project["filing_number"], project["filed_at"] = f"备{pid}", at
    elif trigger == "whitelist":
        rows[ListEntry].append({"id": _take(ids, ListEntry), "project_id": pid,
                                "list_key": "relending", "batch": f"{at.year}-1",
                                "added_by_id": cast.agencies["agency:miit"][1], "added_at": at})
        return {"list": "relending", "batch": f"{at.year}-1"}
    elif trigger == "express_interest":
        rows[Engagement].append({"id": _take(ids, Engagement), "public_id": uuid.uuid4(),
                                 "project_id": pid, "bank_id": bank_org, "interested_at": at,
                                 "credit_amount_yuan": None, "credit_approved_on": None,
                                 "contract_amount_yuan": None, "contract_signed_on": None,
                                 "contract_number": None, "contract_term_months": None})
    elif trigger == "approve_credit":
        rows[Engagement][-1].update(credit_amount_yuan=int(need * WAN), credit_approved_on=at.date())
        project["credit_total_yuan"] += int(need * WAN)
    elif trigger == "sign_contract":
        rows[Engagement][-1].update(contract_amount_yuan=int(need * WAN),
                                    contract_signed_on=at.date(), contract_number=f"借{pid}",
                                    contract_term_months=36)
        project["contract_total_yuan"] += int(need * WAN)
        if not cast.definition.transitions_for("designate_lead_bank"):
            project["lead_bank_id"] = project["lead_bank_id"] or bank_org
    elif trigger == "claim_lead_bank":
        rows[BankClaim].append({"id": _take(ids, BankClaim), "public_id": uuid.uuid4(),
                                "project_id": pid, "bank_id": bank_org, "status": "open",
                                "claimed_by_id": bank_user, "claimed_at": at,
                                "decided_by_id": None, "decided_at": None, "comment": None})
    elif trigger == "designate_lead_bank":
        rows[BankClaim][-1].update(status="designated", decided_at=at)
        project["lead_bank_id"] = bank_org
    elif trigger == "record_loan":
        amount = (need * Decimal(rng.choice(["0.5", "0.8", "1"]))).quantize(1)
        refinanced = rng.random() < 0.7
        figures = loan_figures(SimpleNamespace(
            amount=amount, drawdown_date=at.date(), supplier_paid_date=at.date(), term_months=36,
            refinanced_on=at.date() if refinanced else None, other_subsidy=False),
            listed=True, jurisdiction=project["jurisdiction_code"])
        rows[Loan].append({
            "id": _take(ids, Loan), "public_id": uuid.uuid4(), "project_id": pid,
            "bank_id": bank_org, "amount_yuan": int(amount * WAN), "drawdown_date": at.date(),
            "supplier_paid_date": at.date(), "term_months": 36,
            "refinanced_on": at.date() if refinanced else None, "other_subsidy": False,
            "relending_principal_yuan": int(figures.relending_principal * WAN),
            "subsidy_yuan": int(figures.subsidy * WAN), "recorded_by_id": bank_user,
            "recorded_at": at, "subsidy_months": figures.subsidy_months,
            **{f"{name}_ppm": None if value is None else int(value * PPM) for name, value in (
                ("relending_share", figures.relending_share),
                ("relending_rate", figures.relending_rate),
                ("subsidy_points", figures.subsidy_points))}})
        loan = rows[Loan][-1]
        project["drawn_total_yuan"] += loan["amount_yuan"]
        project["loan_count"] += 1
        project["relending_total_yuan"] += loan["relending_principal_yuan"]
        project["subsidy_total_yuan"] += loan["subsidy_yuan"]
    elif trigger == "report_completion":
        project["completion_reported_at"] = at
        project["actual_total_investment_yuan"] = project["total_investment_yuan"]
        project["actual_equipment_investment_yuan"] = project["equipment_investment_yuan"]
        project["completed_on"] = at.date()
    return {}
