"""Server-rendered SVG: line charts of the currency's series, and a member's neighbourhood in the
web of trust. No script and no library: a page reads without JavaScript, and every text put in
the SVG is escaped (a uid is user input)."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 16, 36
#: At most this many points are drawn (a long history is thinned, its last point kept).
MAX_POINTS = 600
Y_TICKS = 5
X_TICKS = 5


def thin(points: Sequence[tuple[int, float]], limit: int = MAX_POINTS) -> list[tuple[int, float]]:
    """Every k-th point so that at most `limit` remain, always with the last one."""
    if len(points) <= limit:
        return list(points)
    step = math.ceil(len(points) / limit)
    kept = list(points[::step])
    if kept[-1] != points[-1]:
        kept.append(points[-1])
    return kept


def nice_ticks(low: float, high: float, count: int = Y_TICKS) -> list[float]:
    """Round values (1, 2 or 5 × 10^k apart) covering `low..high`."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks: list[float] = []
    value = start
    while len(ticks) < 3 * count:  # up to the first tick at or above `high`
        ticks.append(round(value, 10))
        if value >= high:
            break
        value += step
    return ticks


@dataclass(frozen=True)
class ChartText:
    """What a chart says in the page's language."""

    title: str
    #: How a y value and a date (x, Unix seconds) are written.
    value: Callable[[float], str]
    date: Callable[[int], str]


def line_chart(points: Sequence[tuple[int, float]], text: ChartText, chart_id: str) -> Markup:
    """A line chart of (time, value) points with labelled axes: values left, dates below."""
    drawn = thin(points)
    label = escape(text.title)
    head = (
        f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
    )
    if not drawn:
        return Markup(head + "</svg>")
    xs, ys = [p[0] for p in drawn], [p[1] for p in drawn]
    ticks = nice_ticks(min(0.0, min(ys)), max(ys))
    y_low, y_high = ticks[0], max(ticks[-1], ticks[0] + 1)
    x_low, x_high = xs[0], max(xs[-1], xs[0] + 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(x: float) -> float:
        return LEFT + (x - x_low) / (x_high - x_low) * plot_w

    def y_of(y: float) -> float:
        return TOP + plot_h - (y - y_low) / (y_high - y_low) * plot_h

    parts = [head, f'<g class="axis"><line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" ']
    parts.append(f'y2="{TOP + plot_h}"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>')
    for tick in ticks:
        y = y_of(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(text.value(tick))}</text>'
        )
    count = min(X_TICKS, len(set(xs)))
    written: set[str] = set()
    for i in range(count):
        x = x_low + (x_high - x_low) * i / max(count - 1, 1)
        anchor = "start" if i == 0 else "end" if i == count - 1 and count > 1 else "middle"
        date = escape(text.date(int(x)))
        if date in written:  # a short history: several ticks on one day are written once
            continue
        written.add(date)
        parts.append(f'<text x="{x_of(x):.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}">{date}</text>')
    parts.append("</g>")
    line = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in drawn)
    parts.append(f'<polyline class="line" fill="none" points="{line}"/>')
    if len(drawn) == 1:
        parts.append(f'<circle class="dot" cx="{x_of(xs[0]):.1f}" cy="{y_of(ys[0]):.1f}" r="3"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Neighbour:
    """A key linked to the member: it certified the member, was certified by it, or both."""

    label: str
    href: str
    certifier: bool
    certified: bool


GRAPH_SIZE = 480


def neighbourhood(centre: str, neighbours: Sequence[Neighbour], title: str) -> Markup:
    """The member in the middle, its neighbours on a circle around it; an arrow from each certifier
    to the member and from the member to each key it certified (both: a mutual link)."""
    middle = GRAPH_SIZE / 2
    radius = middle - 110  # room for the labels beside the circles
    label = escape(title)
    parts = [
        f'<svg id="neighbourhood" class="graph" viewBox="0 0 {GRAPH_SIZE} {GRAPH_SIZE}" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
    ]
    nodes = []
    for i, neighbour in enumerate(neighbours):
        angle = 2 * math.pi * i / max(len(neighbours), 1) - math.pi / 2
        x, y = middle + radius * math.cos(angle), middle + radius * math.sin(angle)
        # the line stops short of both circles so that the arrow heads show
        dx, dy = x - middle, y - middle
        length = math.hypot(dx, dy) or 1
        ux, uy = dx / length, dy / length
        x1, y1, x2, y2 = middle + ux * 14, middle + uy * 14, x - ux * 10, y - uy * 10
        kind = (
            "mutual"
            if neighbour.certifier and neighbour.certified
            else ("certifier" if neighbour.certifier else "certified")
        )
        markers = ""
        if neighbour.certified:
            markers += ' marker-end="url(#arrow)"'
        if neighbour.certifier:
            markers += ' marker-start="url(#arrow)"'
        parts.append(
            f'<line class="{kind}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"{markers}/>'
        )
        text = neighbour.label if len(neighbour.label) <= 11 else neighbour.label[:10] + "…"
        anchor = "start" if x > middle + 1 else "end" if x < middle - 1 else "middle"
        offset = 12 if anchor == "start" else -12 if anchor == "end" else 0
        # a label straight above or below its circle goes above or below it, not across
        lift = 0 if anchor != "middle" else -10 if y < middle else 18
        text_y = y + 4 + lift
        nodes.append(
            f'<a href="{escape(neighbour.href)}"><circle class="{kind}" cx="{x:.1f}" cy="{y:.1f}" r="8">'
            f"<title>{escape(neighbour.label)}</title></circle>"
            f'<text x="{x + offset:.1f}" y="{text_y:.1f}" text-anchor="{anchor}">{escape(text)}</text></a>'
        )
    parts += nodes
    parts.append(
        f'<circle class="centre" cx="{middle}" cy="{middle}" r="12"/>'
        f'<text x="{middle}" y="{middle + 28}" text-anchor="middle" class="centre">'
        f"{escape(centre[:24])}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))
