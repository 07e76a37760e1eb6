"""Server-rendered SVG plots of a leaderboard: readable without JavaScript, nothing external.

Each function returns a complete ``<svg>`` element as :class:`markupsafe.Markup`; every text
drawn from data is escaped. Colours come from CSS classes in ``static/style.css`` where they
are fixed, and are computed inline where they encode a value (heat maps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

_FONT = 12
#: Heat maps on the page show the best this many contenders (the JSON has every pair): two
#: 100×100 maps would weigh megabytes and say nothing readable.
MATRIX_TOP = 15
#: The page's history plot follows this many contenders; each contender's page has its own.
HISTORY_TOP = 10
_PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d",
            "#65a30d", "#4f46e5", "#b45309", "#0f766e", "#7c3aed")


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / count
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * step:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 1)]


def _svg(width: float, height: float, label: str, body: list[str], css: str = "") -> Markup:
    classes = f"lb-plot {css}".strip()
    return Markup(
        f'<svg class="{classes}" viewBox="0 0 {_fmt(width)} {_fmt(height)}" '
        f'width="{_fmt(width)}" height="{_fmt(height)}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="{_FONT}">' + "".join(body) + "</svg>")


def ratings_plot(rows: Sequence[dict]) -> Markup:
    """Rating of each contender as a dot with its 95% interval as a whisker, best on top."""
    label_w = max([60] + [7 * len(str(r["name"])) for r in rows]) + 10
    plot_w, row_h, top = 760, 26, 24
    width, height = label_w + plot_w + 20, top + row_h * len(rows) + 30
    lo = min(r["ci_low"] for r in rows)
    hi = max(r["ci_high"] for r in rows)
    pad = max(5.0, (hi - lo) * 0.05)
    lo, hi = lo - pad, hi + pad

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w

    body = []
    for t in _ticks(lo, hi):
        body.append(f'<line class="lb-grid" x1="{_fmt(x(t))}" x2="{_fmt(x(t))}" y1="{top - 6}" '
                    f'y2="{_fmt(height - 24)}"/><text class="lb-axis" x="{_fmt(x(t))}" '
                    f'y="{_fmt(height - 8)}" text-anchor="middle">{t:g}</text>')
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        cls = "lb-dot provisional" if r["provisional"] else "lb-dot"
        body.append(
            f'<text class="lb-label" x="{label_w - 8}" y="{_fmt(y + 4)}" text-anchor="end">'
            f'{escape(r["name"])}</text>'
            f'<line class="lb-whisker" x1="{_fmt(x(r["ci_low"]))}" x2="{_fmt(x(r["ci_high"]))}" '
            f'y1="{_fmt(y)}" y2="{_fmt(y)}"/>'
            f'<circle class="{cls}" cx="{_fmt(x(r["rating"]))}" cy="{_fmt(y)}" r="4">'
            f'<title>{escape(r["name"])}: {r["rating"]:.1f} '
            f'[{r["ci_low"]:.1f}, {r["ci_high"]:.1f}]</title></circle>')
    return _svg(width, height, "Ratings with 95% intervals", body)


def _blend(c0: tuple[int, int, int], c1: tuple[int, int, int], t: float) -> str:
    t = min(1.0, max(0.0, t))
    r, g, b = (round(a + (b_ - a) * t) for a, b_ in zip(c0, c1, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _diverging(p: float) -> str:
    white = (255, 255, 255)
    if p >= 0.5:
        return _blend(white, (37, 99, 235), (p - 0.5) * 2)
    return _blend(white, (220, 38, 38), (0.5 - p) * 2)


def heatmap(names: Sequence[str], values: Sequence[Sequence[float | None]], *, label: str,
            kind: str) -> Markup:
    """Square matrix heat map; ``kind`` "win" (probabilities) or "count" (battle counts).

    A ``None`` cell (a pair that never met) is drawn like the diagonal, empty.
    """
    n = len(names)
    label_w = max([60] + [7 * len(str(s)) for s in names]) + 10
    cell = 44 if n <= 12 else max(18, 520 // max(n, 1))
    top = label_w
    width, height = label_w + cell * n + 10, top + cell * n + 10
    peak = max([1.0] + [float(v) for row in values for v in row if v is not None])
    body = []
    for j, name in enumerate(names):
        cx = label_w + cell * j + cell / 2
        body.append(f'<text class="lb-label" transform="translate({_fmt(cx + 4)},{top - 6}) '
                    f'rotate(-60)">{escape(name)}</text>')
    for i, name in enumerate(names):
        y = top + cell * i
        body.append(f'<text class="lb-label" x="{label_w - 6}" y="{_fmt(y + cell / 2 + 4)}" '
                    f'text-anchor="end">{escape(name)}</text>')
        for j in range(n):
            x = label_w + cell * j
            raw = values[i][j]
            if i == j or raw is None:
                body.append(f'<rect class="lb-diag" x="{x}" y="{y}" width="{cell}" '
                            f'height="{cell}"/>')
                continue
            v = float(raw)
            if kind == "win":
                fill, text = _diverging(v), f"{v:.2f}"
            else:
                fill, text = _blend((255, 255, 255), (22, 101, 52), math.sqrt(v / peak)), f"{v:g}"
            dark = (kind == "count" and v / peak > 0.45) or (kind == "win" and abs(v - 0.5) > 0.3)
            # No per-cell tooltip: with long names it tripled the page's weight; the value is
            # printed in the cell and the JSON holds every pair.
            body.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}"/>')
            if cell >= 30:
                body.append(f'<text class="lb-cell{" dark" if dark else ""}" '
                            f'x="{_fmt(x + cell / 2)}" y="{_fmt(y + cell / 2 + 4)}">{text}</text>')
    return _svg(width, height, label, body, css="lb-heat")


def history_plot(series: dict[str, list[tuple[datetime, float, float, float]]]) -> Markup:
    """Rating of each contender across publications, one line (and legend entry) per contender."""
    points = [(at, r) for pts in series.values() for at, r, _lo, _hi in pts]
    times = sorted({at for at, _r in points})
    left, right, top, bottom, plot_w, plot_h = 56, 200, 16, 40, 780, 300
    width, height = left + plot_w + right, top + plot_h + bottom
    lo = min(r for _at, r in points)
    hi = max(r for _at, r in points)
    pad = max(5.0, (hi - lo) * 0.08)
    lo, hi = lo - pad, hi + pad
    index = {at: k for k, at in enumerate(times)}

    def x(at: datetime) -> float:
        if len(times) == 1:
            return left + plot_w / 2
        return left + index[at] / (len(times) - 1) * plot_w

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * plot_h

    body = [f'<rect class="lb-frame" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}"/>']
    for t in _ticks(lo, hi):
        body.append(f'<line class="lb-grid" x1="{left}" x2="{left + plot_w}" y1="{_fmt(y(t))}" '
                    f'y2="{_fmt(y(t))}"/><text class="lb-axis" x="{left - 6}" '
                    f'y="{_fmt(y(t) + 4)}" text-anchor="end">{t:g}</text>')
    step = max(1, len(times) // 6)
    for k, at in enumerate(times):
        if k % step == 0 or k == len(times) - 1:
            body.append(f'<text class="lb-axis" x="{_fmt(x(at))}" y="{top + plot_h + 18}" '
                        f'text-anchor="middle">{at:%Y-%m-%d}</text>')
    ranked = sorted(series.items(), key=lambda kv: -kv[1][-1][1])
    for k, (name, pts) in enumerate(ranked):
        colour = _PALETTE[k % len(_PALETTE)]
        coords = " ".join(f"{_fmt(x(at))},{_fmt(y(r))}" for at, r, _lo, _hi in pts)
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                    f'points="{coords}"><title>{escape(name)}</title></polyline>')
        for at, r, _lo, _hi in pts:
            body.append(f'<circle cx="{_fmt(x(at))}" cy="{_fmt(y(r))}" r="3" fill="{colour}">'
                        f'<title>{escape(name)} {at:%Y-%m-%d %H:%M}: {r:.1f}</title></circle>')
        ly = top + 8 + 16 * k
        if ly < top + plot_h + bottom - 8:
            body.append(f'<rect x="{left + plot_w + 12}" y="{ly - 8}" width="10" height="10" '
                        f'fill="{colour}"/><text class="lb-label" x="{left + plot_w + 28}" '
                        f'y="{ly + 1}">{escape(name)}</text>')
    return _svg(width, height, "Rating history across publications", body)
