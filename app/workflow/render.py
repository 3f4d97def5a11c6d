"""Definitions as text: a table of steps and a Mermaid state diagram."""

from ..labels import ROLE_LABELS, STATUS_LABELS
from .definitions import Definition
from .vocabulary import TRIGGERS


def rows(definition: Definition) -> list[dict]:
    """One row per transition: what a clerk needs to see why a step is theirs."""
    return [{
        "step": str(TRIGGERS[t.trigger].label),
        "trigger": t.trigger,
        "from": " / ".join(str(STATUS_LABELS[s]) for s in t.sources),
        "to": str(STATUS_LABELS[t.dest]) if t.dest else "—",
        "role": str(ROLE_LABELS[t.role]) + (f" ({t.level_key})" if t.levels else ""),
        "clause": t.clause,
        "sla": f"{t.sla_days}" if t.sla_days else "—",
    } for t in definition.transitions]


def table(definition: Definition) -> str:
    header = f"{definition.title} ({definition.document}) — {definition.key} v{definition.version}"
    lines = [header, "=" * len(header),
             "step | trigger | from | to | agency role | clause | working days"]
    lines += [" | ".join(r.values()) for r in rows(definition)]
    return "\n".join(lines)


def mermaid(definition: Definition) -> str:
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for t in definition.transitions:
        for source in t.sources:
            dest = t.dest or source
            lines.append(f"    {source} --> {dest}: {t.trigger} ({t.role})")
    return "\n".join(lines)
