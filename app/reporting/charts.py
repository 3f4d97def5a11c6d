"""Charts as inline SVG, drawn on the server: no script, works offline and under the CSP,
and prints. Each chart on a page has its table beside it."""

from decimal import Decimal

from markupsafe import Markup, escape

PALETTE = ("#1f5fa8", "#d9822b", "#2f8f5b", "#8a5bb5")


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
                  f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
                  + "".join(body) + "</svg>")


def grouped_bars(title: str, rows: list[tuple[str, list[Decimal]]], series: list[str]) -> Markup:
    """Horizontal bars, one group per row (e.g. plan / declared / completed per industry)."""
    top = max((float(v) for _label, values in rows for v in values), default=0) or 1
    bar, gap, left, width = 12, 10, 150, 640
    height = len(rows) * (bar * len(series) + gap) + 40
    body = []
    for i, name in enumerate(series):  # legend
        body.append(f'<rect x="{left + i * 140}" y="4" width="12" height="12" '
                    f'fill="{PALETTE[i % 4]}"/><text x="{left + 18 + i * 140}" y="14" '
                    f'font-size="12">{escape(name)}</text>')
    y = 30
    for label, values in rows:
        body.append(f'<text x="{left - 8}" y="{y + bar * len(series) / 2 + 4}" font-size="12" '
                    f'text-anchor="end">{escape(label)}</text>')
        for i, value in enumerate(values):
            w = float(value) / top * (width - left - 90)
            body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" '
                        f'fill="{PALETTE[i % 4]}"><title>{escape(label)} · {escape(series[i])}: '
                        f'{value:,}</title></rect><text x="{left + w + 4:.1f}" y="{y + bar - 3}" '
                        f'font-size="10" fill="#4a5a6a">{value:,}</text>')
            y += bar
        y += gap
    return _svg(width, height, title, body)


def funnel(title: str, stages: list[tuple[str, int]]) -> Markup:
    """Projects reaching each stage, narrowing left to right."""
    top = max((n for _l, n in stages), default=0) or 1
    width, height, step = 640, 180, 640 / max(len(stages), 1)
    body = []
    for i, (label, n) in enumerate(stages):
        h = 20 + 120 * n / top
        x, y = i * step + 4, 10 + (140 - h) / 2
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{step - 8:.1f}" height="{h:.1f}" '
                    f'rx="4" fill="{PALETTE[0]}" fill-opacity="{0.35 + 0.65 * (i + 1) / len(stages):.2f}">'
                    f'<title>{escape(label)}: {n}</title></rect>'
                    f'<text x="{x + (step - 8) / 2:.1f}" y="{y + h / 2 + 5:.1f}" font-size="14" '
                    f'fill="#fff" text-anchor="middle">{n}</text>'
                    f'<text x="{x + (step - 8) / 2:.1f}" y="172" font-size="12" '
                    f'text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height, title, body)


def line(title: str, points: list[tuple[str, int]]) -> Markup:
    """Counts over time (e.g. declarations per month)."""
    width, height, left, bottom = 640, 200, 40, 170
    top = max((v for _l, v in points), default=0) or 1
    step = (width - left - 20) / max(len(points) - 1, 1)
    xy = [(left + i * step, bottom - 140 * v / top) for i, (_l, v) in enumerate(points)]
    body = [f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#9aa7b4"/>']
    if xy:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        body.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" '
                    f'stroke-width="2"/>')
    for (label, value), (x, y) in zip(points, xy, strict=True):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{PALETTE[0]}">'
                    f'<title>{escape(label)}: {value}</title></circle>'
                    f'<text x="{x:.1f}" y="{y - 8:.1f}" font-size="11" text-anchor="middle">'
                    f'{value}</text><text x="{x:.1f}" y="{bottom + 16}" font-size="10" '
                    f'text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height, title, body)
