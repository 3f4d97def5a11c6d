"""A definition drawn as an SVG state diagram, rendered on the server (no script needed).

The five stages and the draft run left to right; the side states (withdrawn, returned,
rejected, failed, exited) sit below. Each arrow carries a number, and the legend beneath the drawing
names its steps, who takes them and the clause: long Chinese labels on the arrows themselves
would overlap one another and run past the boxes. Steps that stay within a stage are listed
beside the legend, stage by stage. The drawing is as tall as its arches need, so nothing is
clipped.
"""

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from ..i18n import gettext as _
from ..labels import ROLE_LABELS, STATUS_LABELS, join_list, paren
from .definitions import Definition
from .render import clause_label
from .vocabulary import TRIGGERS

MAIN = ["draft", "declared", "commitment_filing", "financing_matchmaking",
        "lead_bank_designated", "completed"]
SIDE = {"withdrawn": 0, "returned": 1, "rejected": 2, "failed": 3, "exited": 4}
BOX_W, BOX_H, GAP_X = 150, 44, 40
MARK_R = 9
REVERSE_GAP = 12  # half the distance between two arrows joining neighbours both ways


@dataclass
class _Layout:
    top: float  # the main row's top: room above it for the arches
    side_y: float  # the side row's top: below the longest list of in-stage steps

    def box(self, state: str) -> tuple[float, float]:
        if state in MAIN:
            return 20 + MAIN.index(state) * (BOX_W + GAP_X), self.top
        return 20 + SIDE[state] * (BOX_W + GAP_X) + (BOX_W + GAP_X) / 2, self.side_y

    def centre(self, state: str) -> tuple[float, float]:
        x, y = self.box(state)
        return x + BOX_W / 2, y + BOX_H / 2


@dataclass
class _Edge:
    source: str
    dest: str
    steps: list[str] = field(default_factory=list)


def _lift(source: str, dest: str) -> float:
    row = MAIN if source in MAIN else list(SIDE)
    span = abs(row.index(dest) - row.index(source))
    return 0 if span == 1 else 16 + 14 * span


def svg_diagram(definition: Definition) -> Markup:
    states = [s for s in MAIN + list(SIDE) if s in definition.states]
    inner: dict[str, list[tuple[str, str]]] = {s: [] for s in states}
    edges: dict[tuple[str, str], _Edge] = {}
    for spec in definition.transitions:
        role = str(ROLE_LABELS[spec.role])
        label = str(TRIGGERS[spec.trigger].label)
        for source in spec.sources:
            if spec.dest is None:
                if (label, role) not in inner[source]:
                    inner[source].append((label, role))
                continue
            edge = edges.setdefault((source, spec.dest), _Edge(source, spec.dest))
            cited = clause_label(spec.clause) if spec.clause else _("system")
            step = f"{label}{paren(role).rstrip()} · {cited}"
            if step not in edge.steps:
                edge.steps.append(step)
    arches = [_lift(e.source, e.dest) for e in edges.values()
              if e.source in MAIN and e.dest in MAIN]
    top = 20 + max(arches, default=0) + MARK_R
    layout = _Layout(top=top, side_y=top + BOX_H + 200)

    parts, legend = [], []
    for number, edge in enumerate(edges.values(), start=1):
        parts.append(_edge(layout, edge, number, (edge.dest, edge.source) in edges))
        legend.append(
            f'<li value="{number}"><span class="wf-legend__path">'
            f'{escape(STATUS_LABELS[edge.source])} → {escape(STATUS_LABELS[edge.dest])}</span>'
            f'{escape(join_list(edge.steps))}</li>')
    for state in states:
        x, y = layout.box(state)
        parts.append(
            f'<g class="wf-state"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="#eef4fb" stroke="#1f5fa8"/><text x="{x + BOX_W / 2}" y="{y + 27}" '
            f'text-anchor="middle" font-size="14" fill="#16324f">{escape(STATUS_LABELS[state])}'
            f'</text></g>')
    width = 20 + len(MAIN) * (BOX_W + GAP_X)
    height = layout.side_y + BOX_H + 20
    return Markup(
        f'<svg class="wf-diagram" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(definition.title)}" xmlns="http://www.w3.org/2000/svg">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#5b6b7b"/></marker></defs>' + "".join(parts) + "</svg>"
        '<ol class="wf-legend">' + "".join(legend) + "</ol>"
        '<dl class="wf-inner">' + "".join(
            f"<dt>{escape(STATUS_LABELS[state])}</dt><dd>"
            f"{escape(join_list(f'{step}{paren(role).rstrip()}' for step, role in steps))}</dd>"
            for state, steps in inner.items() if steps) + "</dl>")


def _edge(layout: _Layout, edge: _Edge, number: int, both_ways: bool = False) -> str:
    (x1, y1), (x2, y2) = layout.centre(edge.source), layout.centre(edge.dest)
    if y1 == y2:  # along a row: box edge to box edge, arched when skipping a box
        direction = 1 if x2 > x1 else -1
        x1 += direction * BOX_W / 2
        x2 -= direction * BOX_W / 2
        lift = _lift(edge.source, edge.dest)
        # Neighbours joined both ways (a step and its send-back): forward above the middle,
        # backward below it, so that the two arrows and their numbers stay apart.
        apart = (-REVERSE_GAP if direction == 1 else REVERSE_GAP) if both_ways else 0
        y1 = y2 = layout.box(edge.source)[1] + (BOX_H / 2 + apart if not lift else 0)
        path = f"M{x1},{y1} Q{(x1 + x2) / 2},{y1 - 2 * lift} {x2},{y2}"
        mx, my = (x1 + x2) / 2, y1 - lift
    else:
        y1 += BOX_H / 2 if y2 > y1 else -BOX_H / 2
        y2 -= BOX_H / 2 if y2 > y1 else -BOX_H / 2
        path = f"M{x1},{y1} L{x2},{y2}"
        mx, my = x1 + (x2 - x1) * 0.3, y1 + (y2 - y1) * 0.3  # near its own source
    return (f'<g class="wf-edge"><title>{escape(join_list(edge.steps))}</title>'
            f'<path d="{path}" fill="none" stroke="#5b6b7b" stroke-width="1.4" '
            f'marker-end="url(#arrow)"/><circle cx="{mx}" cy="{my}" r="{MARK_R}" fill="#fff" '
            f'stroke="#1f5fa8"/><text class="wf-mark" x="{mx}" y="{my + 4}" text-anchor="middle" '
            f'font-size="11" fill="#16324f">{number}</text></g>')
