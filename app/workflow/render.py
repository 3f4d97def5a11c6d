"""Definitions as people read them: documents cited by title, number and clause (never by
file name), each number with its basis, a table of steps, and a Mermaid state diagram."""

from dataclasses import dataclass

from flask import g, has_app_context

from ..i18n import gettext as _
from ..labels import (
    ASSUMED_LABELS,
    LEVEL_LABELS,
    ROLE_LABELS,
    SEND_BACK_LABELS,
    STATUS_LABELS,
    book_title,
    english,
    join_list,
    paren,
)
from ..rules.settings import Basis, Figure
from . import workflows
from .definitions import Definition, TransitionSpec
from .vocabulary import TRIGGERS


@dataclass(frozen=True)
class Citation:
    text: str  # 《title》（文号）第三(四)条
    key: str  # the definition, for the link to /workflows/<key>
    clause: str | None

    @property
    def anchor(self) -> str:
        return clause_anchor(self.clause) if self.clause else ""


def clause_anchor(clause: str) -> str:
    return "clause-" + clause.replace(" ", "")


def document_name(definition: Definition) -> str:
    """《title》（文号）, and a draft said to be one."""
    title = book_title(definition.title)
    if definition.draft:
        title += _("(draft for comment)")
    return title + paren(definition.document).strip() if definition.document else title


def lead_bank_label(definition: Definition) -> str:
    """主办行 where an agency designates it; 牵头银行 where the first to sign leads."""
    return _("Lead bank") if definition.designates_lead_bank else _("Lead lender")


def clause_label(clause: str) -> str:
    """三(四) → 第三(四)条; a named part (结尾段, 落款) as it is."""
    if clause and clause[0] in "一二三四五六七八九十" and "段" not in clause:
        return _("clause %(clause)s", clause=clause)
    return clause


def cite(definition: Definition, clause: str | None) -> Citation:
    parts = [document_name(definition)]
    if clause:
        parts.append(clause_label(clause))
    return Citation("".join(parts), definition.key, clause)


def cite_stored(definition: Definition | None, stored: str | None) -> Citation | None:
    """An audit event's clause as it was stored: a clause id, or in events written under the
    first definition format "<file> <clause>：<words>" — cited the same way either way."""
    if not stored:
        return None
    clause = stored.split("：", 1)[0]
    if definition is not None and clause.startswith(definition.source):
        clause = clause.removeprefix(definition.source).strip()
    if definition is None:
        return Citation(clause, "", None)
    return cite(definition, clause)


def cite_event(event) -> Citation | None:
    """An audit event's clause, cited from the definition it was decided under (the same
    citation once per request: a timeline cites a few clauses many times)."""
    if not event.clause:
        return None
    if not has_app_context():
        return _cite_event(event)
    kept = g.setdefault("jigai_citations", {})
    key = (event.workflow_key, event.workflow_version, event.clause, english())
    if key not in kept:
        kept[key] = _cite_event(event)
    return kept[key]


def _cite_event(event) -> Citation | None:
    try:
        definition = workflows().get(event.workflow_key, event.workflow_version)
    except KeyError:
        definition = None
    return cite_stored(definition, event.clause)


def basis_text(basis: Basis, definition: Definition | None = None, figure: Figure | None = None,
               fdate=str) -> str:
    """Where a number comes from, in words: the document and clause; the practice source; or
    the agency's own setting — who set it and when, or that the default stands."""
    if basis.kind == "document":
        where = cite(definition, basis.clause).text if definition else basis.clause
        return _("Under %(where)s", where=where)
    if basis.kind == "practice":
        return _("Practice (%(source)s)", source=basis.source)
    if figure is not None and figure.set is not None:
        return _("Local setting (%(by)s, %(date)s)", by=figure.set.set_by,
                 date=fdate(figure.set.effective_on))
    return _("Local setting (default, until the %(owner)s sets its own)",
             owner=ROLE_LABELS.get(basis.owner, basis.owner))


def number_text(value, unit: str) -> str:
    """A number as the documents write it: a share as a percentage, days and grades as words."""
    if unit == "share":
        return f"{(value * 100).normalize():f}%"
    if unit == "working_days":
        return _("%(n)s working days", n=value)
    if unit == "days":
        return _("%(n)s days", n=value)
    if unit == "grade":
        return _("grade %(n)s", n=value)
    if unit == "count_per_year":
        return _("%(n)s a year", n=value)
    return f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)


def figures(definition: Definition, parameters, fdate=str) -> list[dict]:
    """Every number the definition runs on — its settings, the energy grade it demands, the
    parameters in force, the targets its document sets, its dates — each with its basis."""
    rows_ = [{"kind": "setting", "name": s.name, "label": s.label,
              "value": number_text(s.value, s.unit), "basis": basis_text(s.basis, definition),
              "quote": s.basis.quote} for s in definition.settings.values()]
    if definition.energy_grade:
        grade = definition.energy_grade
        rows_.append({"kind": "setting", "name": "energy_grade", "label": grade.label,
                      "value": number_text(grade.value, grade.unit),
                      "basis": basis_text(grade.basis, definition), "quote": grade.basis.quote})
    for entry in parameters:
        unit = "share" if entry.value < 1 else "number"
        rows_.append({"kind": "parameter", "name": entry.name,
                      "label": _("%(label)s (from %(date)s)", label=entry.label,
                                 date=fdate(entry.effective)),
                      "value": number_text(entry.value, unit),
                      "basis": basis_text(entry.basis, definition), "quote": entry.basis.quote})
    for target in definition.targets:
        rows_.append({"kind": "target", "name": target.name,
                      "label": _("%(label)s (by %(year)s)", label=target.label, year=target.year),
                      "value": number_text(target.value, target.unit)
                      + (_(" or so") if target.approximate else ""),
                      "basis": basis_text(Basis("document", target.clause, target.quote),
                                          definition), "quote": target.quote})
    for name, (clause, quote) in definition.dated.items():
        day = definition.effective if name == "effective" else definition.expires
        rows_.append({"kind": "date", "name": name, "label": str(ASSUMED_LABELS[name]),
                      "value": fdate(day), "basis": basis_text(Basis("document", clause, quote),
                                                               definition), "quote": quote})
    return rows_


def role_text(spec: TransitionSpec) -> str:
    role = str(ROLE_LABELS[spec.role])
    if spec.levels:
        role += paren(join_list(LEVEL_LABELS[level] for level in spec.levels)).rstrip()
    if spec.joint:
        roles = join_list(str(ROLE_LABELS[r]) for r in spec.joint)
        role += paren(_("signed together by %(roles)s", roles=roles) if spec.all_of
                      else _("any one of %(roles)s signs for all", roles=roles)).rstrip()
    return role


def rows(definition: Definition) -> list[dict]:
    """One row per transition: what a clerk needs to see why a step is theirs."""
    found = []
    for t in definition.transitions:
        limit = definition.time_limit(t)
        found.append({
            "step": str(TRIGGERS[t.trigger].label),
            "trigger": t.trigger,
            "from": " / ".join(str(STATUS_LABELS[s]) for s in t.sources),
            "to": str(STATUS_LABELS[t.dest]) if t.dest else "—",
            "remarks": remarks(definition, t),
            "role": role_text(t),
            "citation": cite(definition, t.clause),
            "quote": t.quote,
            "note": t.note,
            "limit": limit,
            "limit_basis": basis_text(limit.basis, definition) if limit else "",
        })
    return found


def remarks(definition: Definition, t: TransitionSpec) -> list[str]:
    """What a step's send-back and items-to-follow keys say, as people read them."""
    found = []
    if t.send_back_to:
        found.append(_("Back to: %(steps)s",
                       steps=join_list(SEND_BACK_LABELS[s] for s in t.send_back_to)))
    if t.keep_on_resend:
        found.append(_("Not taken again after a send-back"))
    if t.items_to_follow:
        setting = definition.settings[t.items_to_follow]
        found.append(_("May accept with items to follow, due within %(n)s working days "
                       "(local setting)", n=setting.days))
    return found


def table(definition: Definition) -> str:
    header = (f"{document_name(definition)} — {definition.key} v{definition.version}")
    lines = [header, "=" * len(header),
             "step | trigger | from | to | agency role | clause | words | working days"]
    for r in rows(definition):
        limit = f"{r['limit'].days} ({r['limit_basis']})" if r["limit"] else "—"
        lines.append(" | ".join([r["step"], r["trigger"], r["from"], r["to"], r["role"],
                                 r["citation"].text if r["quote"] else _("(system)"),
                                 f"“{r['quote']}”" if r["quote"] else r["note"], limit]))
    return "\n".join(lines)


def mermaid(definition: Definition) -> str:
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for t in definition.transitions:
        for source in t.sources:
            dest = t.dest or source
            lines.append(f"    {source} --> {dest}: {t.trigger} ({t.role})")
    return "\n".join(lines)
