"""How API responses present projects, events and definitions."""

from .. import access
from ..labels import ROLE_LABELS
from ..models import Deadline, Project, User, WorkflowEvent, china_today
from ..projects.designations import tags_of
from ..projects.page import children_present
from ..rules.calendar import working_days_left
from ..rules.guards import (
    PROCEDURE_OF_ROLE,
    pending_change_of,
    procedures_recorded,
    status_name,
)
from ..rules.resend import items_of
from ..workflow import Definition, workflows
from ..workflow.audit import hashed_body
from ..workflow.render import basis_text, cite, cite_event
from ..workflow.vocabulary import TRIGGERS


def attachment_json(attachment, may_delete: bool) -> dict:
    return {"id": str(attachment.public_id), "filename": attachment.filename,
            "kind": attachment.kind.value, "content_type": attachment.content_type,
            "size": attachment.size, "sha256": attachment.sha256,
            "uploaded_by": attachment.uploaded_by.display_name,
            "uploaded_at": attachment.uploaded_at, "may_delete": may_delete}


def _org(org):
    return None if org is None else {"id": org.public_id, "name": org.name}


def project_state(project: Project) -> dict:
    return {"id": project.public_id, "status": project.status.value,
            "status_label": status_name(project), "version": project.version}


def bulk_item_json(outcome) -> dict:
    """One project's result in a bulk decision: its new status and version, or the refusal
    as a single step would have answered it (its HTTP status, code, message, fields)."""
    if outcome.done:
        return {"id": outcome.key, "result": "done", "http_status": 200,
                **project_state(outcome.state)}
    err = outcome.error
    body = {"id": outcome.key, "result": "refused", "http_status": err.status,
            "error": err.code, "message": err.message, "fields": err.fields}
    if err.reasons:
        body["reasons"] = err.reasons
    return body


def project_summary(project: Project) -> dict:
    return {
        **project_state(project),
        "name": project.name,
        "enterprise": _org(project.enterprise),
        "jurisdiction": project.jurisdiction_code,
        "jurisdiction_name": project.jurisdiction.full_name,
        "industry": project.industry,
        "task": project.task.value if project.task else None,
        "batch_year": project.batch_year,
        "total_investment": project.total_investment,
        "equipment_investment": project.equipment_investment,
        "financing_need": project.financing_need,
        "project_code": project.project_code,
        "lead_bank": _org(project.lead_bank),
        "updated_at": project.updated_at,
    }


def project_detail(project: Project, user: User) -> dict:
    definition = workflows().for_project(project) if project.workflow_key else None
    present = children_present(project)  # one query says which of its own rows to read
    # first: it reads the project's deadlines together with which of them the caller owes
    waits = access.awaited(user, project)
    body = project_summary(project)
    body.update({
        "enterprise": {**_org(project.enterprise),
                       "credit_code": project.enterprise.credit_code},
        "address": project.address,
        "contact_name": project.contact_name,
        "contact_phone": project.contact_phone,
        "content": project.content,
        "fixed_asset_investment": project.fixed_asset_investment,
        "retired_equipment_value": project.retired_equipment_value,
        "annual_investment": project.annual_investment,
        "new_land": project.new_land,
        "planned_start": project.planned_start,
        "planned_end": project.planned_end,
        "financing_term_months": project.financing_term_months,
        "financing_purpose": project.financing_purpose,
        "filing_number": project.filing_number,
        "declared_at": project.declared_at,
        "filed_at": project.filed_at,
        "commitment_signed_at": project.commitment_signed_at,
        "completion_reported_at": project.completion_reported_at,
        "actual_total_investment": project.actual_total_investment,
        "actual_equipment_investment": project.actual_equipment_investment,
        "completed_on": project.completed_on,
        "actual_start_on": project.actual_start_on,
        "investment_completed": project.investment_completed,
        "percent_complete": project.percent_complete,
        "stall_reason": project.stall_reason,
        "designations": tags_of(project) if "designations" in present else [],
        "energy_tce": project.energy_tce,
        "electricity_kwh": project.electricity_kwh,
        "matchmaking_ended_at": project.matchmaking_ended_at,
        # 容缺受理: the documents still owed, by when, under which written commitment
        "items_to_follow": {"items": items_of(project), "due_on": project.items_due_on,
                            "commitment": project.items_commitment}
        if project.items_to_follow else None,
        "created_at": project.created_at,
        "workflow": None if definition is None else _document(definition),
        "equipment": [{
            "kind": item.kind.value, "name": item.name, "model": item.model,
            "quantity": item.quantity,
            "unit_price": item.unit_price, "years_in_service": item.years_in_service,
            "energy_grade": item.energy_grade} for item in project.equipment],
        # the agencies' steps with their time limits
        "deadlines": [deadline_json(d) for d in project.deadlines
                      if d.met_at is None and d.due_on is not None],
        # everything the project waits for, as the caller sees it
        "waiting_for": [{**deadline_json(a.row), "id": a.row.id, "owed_by": a.owed_by,
                         "held_by": a.holder, "yours": a.mine,
                         "why_not_yours": a.reason} for a in waits],
        # joint steps (会签 all_of / 或签 any_of): who has signed, who is awaited
        "joint_steps": [{"trigger": j.trigger, "mode": j.mode, "signers": [{
            "role": s.role, "owed_by": s.owed_by, "signed": s.signed_at is not None,
            "signed_at": s.signed_at, "signed_by": s.signed_by} for s in j.signers]}
            for j in access.joint_steps(user, project)],
        "procedures": [{"procedure": PROCEDURE_OF_ROLE.get(o.role), "role": o.role,
                        "organization": o.organization.name, "verdict": o.verdict.value,
                        "reference": o.reference, "decided_on": o.decided_on,
                        "comment": o.comment, "at": o.recorded_at}
                       for o in (procedures_recorded(project) if "opinions" in present
                                 else {}).values()],
        "pending_change": _change(pending_change_of(project) if "changes" in present else None),
        "available_triggers": [{
            "trigger": a.trigger, "label": a.label, "requires": list(a.requires),
            "ready": a.ready, "reasons": a.reasons,
            "clause": (cite(definition, a.spec.clause).text if definition else a.spec.clause)
            if a.spec.clause else None,
            "quote": a.spec.quote}
            for a in access.available_steps(user, project)],
    })
    return body


def _document(definition: Definition) -> dict:
    """A definition's document as people cite it (never by its file)."""
    return {"key": definition.key, "version": definition.version, "title": definition.title,
            "document": definition.document or None, "draft": definition.draft,
            "assumed": definition.assumed or None}


def _change(request) -> dict | None:
    if request is None:
        return None
    return {"changes": request.changes, "reasons": request.reasons, "at": request.requested_at}


def deadline_json(deadline: Deadline) -> dict:
    return {
        "role": deadline.role, "role_label": str(ROLE_LABELS[deadline.role]),
        "level": deadline.level or None, "trigger": deadline.trigger,
        "step": str(TRIGGERS[deadline.trigger].label), "started_on": deadline.started_on,
        "sla_days": deadline.sla_days, "used_days": deadline.used_days,
        "due_on": deadline.due_on,
        "overdue": deadline.due_on is not None and deadline.due_on < china_today(),
    }


def queue_item_json(deadline: Deadline, today) -> dict:
    """An owed step in a queue: the project, the step, since when and until when."""
    return {"project": project_summary(deadline.project), "step_id": deadline.id,
            "held": deadline.holder_id is not None, "trigger": deadline.trigger,
            "step": str(TRIGGERS[deadline.trigger].label), "since": deadline.started_on,
            "due": deadline.due_on,
            "overdue": deadline.due_on is not None and deadline.due_on < today,
            "working_days_left": None if deadline.due_on is None
            else working_days_left(today, deadline.due_on)}


def event_json(event: WorkflowEvent, project: Project) -> dict:
    """An audit event; `hashed` is exactly what its hash covers (see workflow/audit.py)."""
    return {
        "seq": event.seq, "trigger": event.trigger, "from": event.from_state,
        "to": event.to_state, "workflow": event.workflow_key,
        "workflow_version": event.workflow_version, "clause": event.clause,
        "citation": getattr(cite_event(event), "text", None),
        "actor": {"name": event.actor_name, "role": event.actor_role,
                  "organization": event.actor_org_name},
        "comment": event.comment, "data": event.data, "at": event.created_at,
        "on_behalf_of": (event.data or {}).get("on_behalf_of") if event.on_behalf_of_id else None,
        # each field an edit, a change filing or its approval changed: {"old", "new"}
        "fields": (event.data or {}).get("fields") or {},
        "hashed": hashed_body(event, project.public_id),
        "prev_hash": event.prev_hash, "hash": event.hash,
    }


def definition_json(definition: Definition, *, full: bool = False) -> dict:
    body = {**_document(definition), "jurisdiction": definition.jurisdiction,
            "effective": definition.effective, "expires": definition.expires}
    if full:
        body["states"] = list(definition.states)
        body["transitions"] = [{
            "trigger": t.trigger, "source": list(t.sources), "dest": t.dest, "role": t.role,
            "levels": [level.value for level in t.levels], "when": t.when,
            "guards": list(t.guards), "requires": list(t.requires), "clause": t.clause or None,
            "citation": cite(definition, t.clause).text if t.clause else None,
            "quote": t.quote or None, "note": t.note or None,
            "time_limit": _figure(definition, definition.time_limit(t)),
            "send_back_to": list(t.send_back_to), "keep_on_resend": t.keep_on_resend,
            "items_to_follow": _figure(definition, definition.settings[t.items_to_follow])
            if t.items_to_follow else None}
            for t in definition.transitions]
        body["targets"] = [{
            "name": t.name, "label": t.label, "value": t.value, "unit": t.unit, "year": t.year,
            "baseline_year": t.baseline_year, "approximate": t.approximate,
            "citation": cite(definition, t.clause).text, "quote": t.quote}
            for t in definition.targets]
    return body


def _figure(definition: Definition, setting) -> dict | None:
    if setting is None:
        return None
    return {"setting": setting.name, "label": setting.label, "value": setting.value,
            "unit": setting.unit, "basis": setting.basis.kind,
            "basis_text": basis_text(setting.basis, definition)}


def figures_json(figures) -> dict:
    return {
        "relending_share": figures.relending_share, "relending_principal": figures.relending_principal,
        "relending_rate": figures.relending_rate, "subsidy_points": figures.subsidy_points,
        "subsidy_months": figures.subsidy_months, "subsidy": figures.subsidy,
        "notes": [str(n) for n in figures.notes],
    }


def loan_json(loan, figures, project=None) -> dict:
    body = {
        "id": loan.public_id, "bank": _org(loan.bank), "amount": loan.amount,
        "drawdown_date": loan.drawdown_date, "supplier_paid_date": loan.supplier_paid_date,
        "term_months": loan.term_months, "refinanced_on": loan.refinanced_on,
        "other_subsidy": loan.other_subsidy, "figures": figures_json(figures),
    }
    if project is not None:
        body["project"] = {"id": project.public_id, "name": project.name,
                           "project_code": project.project_code}
    return body


def financing_json(view) -> dict:
    return {
        "intended_banks": [_org(bank) for bank in view.intended_banks],
        "lists": [{"list": e.list_key, "batch": e.batch, "added_at": e.added_at}
                  for e in view.lists],
        "claims": [{"bank": _org(c.bank), "status": c.status.value, "claimed_at": c.claimed_at,
                    "decided_at": c.decided_at} for c in view.claims],
        "engagements": [{
            "id": e.public_id, "bank": _org(e.bank), "interested_at": e.interested_at,
            "credit_amount": e.credit_amount, "credit_approved_on": e.credit_approved_on,
            "contract_amount": e.contract_amount, "contract_signed_on": e.contract_signed_on,
            "contract_number": e.contract_number, "term_months": e.contract_term_months}
            for e in view.engagements],
        "loans": [loan_json(v.loan, v.figures) for v in view.loans],
    }


def market_json(project, intended) -> dict:
    """What a bank needs to decide on a whitelisted project."""
    return {
        **project_summary(project),
        "enterprise": {**_org(project.enterprise), "credit_code": project.enterprise.credit_code},
        "financing_term_months": project.financing_term_months,
        "financing_purpose": project.financing_purpose,
        "fixed_asset_investment": project.fixed_asset_investment,
        "planned_start": project.planned_start, "planned_end": project.planned_end,
        "equipment": [{"kind": e.kind.value, "name": e.name, "model": e.model,
                       "quantity": e.quantity,
                       "unit_price": e.unit_price, "energy_grade": e.energy_grade}
                      for e in project.equipment],
        "intended_banks": [_org(bank) for bank in intended],
    }


def summary_json(report) -> dict:
    return {
        "jurisdiction": {"code": report.scope.code, "name": report.scope.full_name},
        "year": report.year, "by_stage": report.by_stage, "by_industry": report.by_industry,
        "by_region": report.by_region, "totals": report.totals, "financing": report.financing,
        "stage_days": report.stage_days, "overdue": report.overdue, "plan": report.plan,
        "plan_discrepancies": report.plan_discrepancies, "monthly": report.monthly,
        "targets": report.targets, "progress": report.progress,
        "designations": {str(tag): n for tag, n in report.designations.items()},
    }


def subsidy_claim_json(claim, project) -> dict:
    return {
        "id": claim.public_id, "number": claim.number, "programme": claim.programme,
        "period": claim.period, "period_start": claim.period_start,
        "period_end": claim.period_end, "status": claim.status.value,
        "claimant": _org(claim.claimant), "claimed": claim.claimed, "approved": claim.approved,
        "paid": claim.paid, "paid_on": claim.paid_on, "voucher": claim.voucher,
        "clawed_back": claim.clawed_back, "lines": claim.lines, "approvals": [
            {"role": a["role"], "organization": a["org"], "at": a["at"]}
            for a in claim.approvals or ()],
        "comment": claim.comment, "claimed_at": claim.claimed_at,
        "project": {"id": project.public_id, "name": project.name,
                    "project_code": project.project_code},
    }


def subsidy_totals_json(totals) -> dict:
    return {"claimed": totals.claimed, "approved": totals.approved, "paid": totals.paid,
            "clawed_back": totals.clawed_back}
