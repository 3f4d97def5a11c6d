"""Joint steps: 会签 (`all_of`, each named agency signs) and 或签 (`any_of`, the first carries).

A joint step's signatures are its owed rows: each named agency owes the step in its own row;
signing meets that row (it leaves the agency's queue, the others keep theirs) while the step
is still owed. The step's effect and its change of status wait for the last signature of an
`all_of`; any objection (a negative step, such as declining the bank's claim) or a change of
status ends the step's rows, and with them the signatures so far. A step whose trigger keeps
its signatures elsewhere (a subsidy claim's approvals) is left to its own rules.
"""

from dataclasses import dataclass

from ..i18n import gettext as _
from ..labels import ROLE_LABELS, join_list
from .definitions import Definition, TransitionSpec
from .vocabulary import TRIGGERS


def on_project(spec: TransitionSpec | None) -> bool:
    """Whether `spec` is a joint step whose signatures are the project's owed rows."""
    return bool(spec is not None and spec.joint
                and TRIGGERS[spec.trigger].signatures == "project")


def signed_rows(project, spec: TransitionSpec) -> dict:
    """The joint step's signed rows by role (met, still owed)."""
    return {row.role: row for row in project.deadlines
            if row.trigger == spec.trigger and row.org_id is None and row.met_at is not None
            and row.role in spec.joint}


def awaiting(project, spec: TransitionSpec) -> list[str]:
    """After `spec`'s own signature: the roles of its 会签 still to sign (none for 或签)."""
    if not on_project(spec) or not spec.all_of:
        return []
    signed = signed_rows(project, spec)
    return [role for role in spec.all_of if role != spec.role and role not in signed]


def refusal(project, spec: TransitionSpec) -> str | None:
    """Why `spec`'s role may not sign now: it signed already."""
    if not on_project(spec) or spec.role not in signed_rows(project, spec):
        return None
    others = [role for role in spec.all_of if role not in signed_rows(project, spec)]
    return _("Your agency has signed this step already; it awaits %(others)s.",
             others=join_list(str(ROLE_LABELS.get(r, r)) for r in others))


def facts(project, spec: TransitionSpec, pending: list[str]) -> dict:
    """What the signature's audit event keeps of the joint step."""
    if not on_project(spec):
        return {}
    if spec.any_of:
        return {"joint": {"mode": "any_of", "roles": list(spec.any_of), "signed": [spec.role],
                          "awaiting": []}}
    signed = [r for r in spec.all_of if r == spec.role or r in signed_rows(project, spec)]
    return {"joint": {"mode": "all_of", "roles": list(spec.all_of), "signed": signed,
                      "awaiting": pending}}


@dataclass(frozen=True)
class Signature:
    role: str
    signed_at: object | None  # when its row was met; None: awaited


@dataclass(frozen=True)
class JointStep:
    """A joint step the project waits for: each named role, signed or awaited."""

    trigger: str
    mode: str  # all_of | any_of
    signatures: tuple[Signature, ...]


def open_joint_steps(definition: Definition | None, project) -> list[JointStep]:
    """The joint steps now owed on `project`, each with who has signed and who is awaited."""
    if definition is None:
        return []
    found, seen = [], set()
    for row in project.deadlines:
        if row.org_id is not None or row.trigger in seen:
            continue
        spec = next((s for s in definition.transitions_for(row.trigger)
                     if s.role == row.role and project.status.value in s.sources), None)
        if not on_project(spec):
            continue
        seen.add(row.trigger)
        rows = {r.role: r for r in project.deadlines
                if r.trigger == row.trigger and r.org_id is None}
        found.append(JointStep(row.trigger, "all_of" if spec.all_of else "any_of", tuple(
            Signature(role, rows[role].met_at if role in rows else None)
            for role in spec.joint)))
    return found
