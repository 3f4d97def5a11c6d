"""A definition drawn as an SVG state diagram, rendered on the server (no script needed).

The five stages and the draft run left to right; the side states (withdrawn, returned,
rejected, failed, exited) sit below. Steps that stay within a stage are listed under its box.
"""

from markupsafe import Markup, escape

from ..labels import ROLE_LABELS, STATUS_LABELS, paren
from .definitions import Definition
from .render import clause_label
from .vocabulary import TRIGGERS

MAIN = ["draft", "declared", "commitment_filing", "financing_matchmaking",
        "lead_bank_designated", "completed"]
SIDE = {"withdrawn": 0, "returned": 1, "rejected": 2, "failed": 3, "exited": 4}
BOX_W, BOX_H, GAP_X, TOP, SIDE_Y = 150, 44, 40, 30, 300


def _box(state: str) -> tuple[float, float]:
    if state in MAIN:
        return 20 + MAIN.index(state) * (BOX_W + GAP_X), TOP
    return 20 + SIDE[state] * (BOX_W + GAP_X) + (BOX_W + GAP_X) / 2, SIDE_Y


def _centre(state: str) -> tuple[float, float]:
    x, y = _box(state)
    return x + BOX_W / 2, y + BOX_H / 2


def svg_diagram(definition: Definition) -> Markup:
    states = [s for s in MAIN + list(SIDE) if s in definition.states]
    inner: dict[str, list[str]] = {s: [] for s in states}
    parts = []
    for spec in definition.transitions:
        role = ROLE_LABELS[spec.role]
        label = TRIGGERS[spec.trigger].label
        if spec.dest is None:
            for source in spec.sources:
                line = f"{label} · {role}"
                if line not in inner[source]:
                    inner[source].append(line)
            continue
        for source in spec.sources:
            parts.append(_edge(source, spec.dest, f"{label}{paren(role)}",
                               clause_label(spec.clause)))
    for state in states:
        x, y = _box(state)
        parts.append(
            f'<g class="wf-state"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="#eef4fb" stroke="#1f5fa8"/><text x="{x + BOX_W / 2}" y="{y + 27}" '
            f'text-anchor="middle" font-size="14" fill="#16324f">{escape(STATUS_LABELS[state])}'
            f'</text></g>')
        for n, line in enumerate(inner[state]):
            parts.append(f'<text x="{x + 4}" y="{y + BOX_H + 18 + n * 16}" font-size="11" '
                         f'fill="#4a5a6a">• {escape(line)}</text>')
    width = 20 + len(MAIN) * (BOX_W + GAP_X)
    return Markup(
        f'<svg class="wf-diagram" viewBox="0 0 {width} {SIDE_Y + BOX_H + 30}" role="img" '
        f'aria-label="{escape(definition.title)}" xmlns="http://www.w3.org/2000/svg">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#5b6b7b"/></marker></defs>' + "".join(parts) + "</svg>")


def _edge(source: str, dest: str, label: str, clause: str) -> str:
    (x1, y1), (x2, y2) = _centre(source), _centre(dest)
    if y1 == y2:  # along the main row: from box edge to box edge, arched when skipping
        direction = 1 if x2 > x1 else -1
        x1 += direction * BOX_W / 2
        x2 -= direction * BOX_W / 2
        span = abs(MAIN.index(dest) - MAIN.index(source)) if dest in MAIN else 1
        lift = 0 if span == 1 else 14 + 10 * span
        y1 = y2 = TOP + (BOX_H / 2 if not lift else 0)
        path = f"M{x1},{y1} Q{(x1 + x2) / 2},{y1 - 2 * lift} {x2},{y2}"
        lx, ly = (x1 + x2) / 2, y1 - lift - 6
    else:
        y1 += BOX_H / 2 if y2 > y1 else -BOX_H / 2
        y2 -= BOX_H / 2 if y2 > y1 else -BOX_H / 2
        path = f"M{x1},{y1} L{x2},{y2}"
        lx, ly = x1 + (x2 - x1) * 0.55, y1 + (y2 - y1) * 0.55
    return (f'<g class="wf-edge"><title>{escape(label)} — {escape(clause)}</title>'
            f'<path d="{path}" fill="none" stroke="#5b6b7b" stroke-width="1.4" '
            f'marker-end="url(#arrow)"/><text x="{lx}" y="{ly}" text-anchor="middle" '
            f'font-size="11" fill="#16324f">{escape(label)}</text></g>')
