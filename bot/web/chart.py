"""Sessions per day by outcome as a stacked bar chart: the geometry, computed here, drawn as SVG by
`templates/_chart.html`. Pure; no chart library, nothing from a CDN, no inline style.

Each outcome has a fill pattern of its own as well as a colour (solid, stripes, dots, cross-hatch,
lines), so the chart reads without colour; the legend names them and the page's table has the numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.sessions.report import LABELS, OUTCOMES

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 22, 28  # room for the axis labels, and the totals above the bars
MAX_X_LABELS = 8
TOTALS_UP_TO = 31  # days: beyond, a bar is too narrow for its total above it


@dataclass(frozen=True)
class Segment:
    """One outcome's part of a day's bar."""

    outcome: str
    label: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    """One day: its bar's place and width, its segments bottom up, its total and whether to write it."""

    day: str
    x: float
    width: float
    center: float
    total: int
    top: float
    segments: tuple[Segment, ...]
    show_total: bool
    x_label: str | None  # the day under the bar, on every few bars only


@dataclass(frozen=True)
class Tick:
    """A horizontal line of the scale and its value."""

    value: int
    y: float


@dataclass(frozen=True)
class Chart:
    """The whole picture: its size, the plot's edges, the scale and the bars."""

    width: int
    height: int
    left: int
    right: int
    baseline: float
    ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...]
    total: int
    first: str
    last: str


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… at least `value` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def tick_step(top_value: int) -> int:
    """The largest whole step of 1, 2, 5, 10, 20… that draws at least 4 lines up to `top_value`, else 1."""
    step, candidate = 1, 1
    while candidate * 4 <= top_value:
        if top_value % candidate == 0:
            step = candidate
        candidate = next_nice(candidate)
    return step


def next_nice(value: int) -> int:
    """The next of 1, 2, 5, 10, 20, 50…"""
    digits = str(value)
    return int({"1": "2", "2": "5", "5": "10"}[digits[0]] + digits[1:])


def day_chart(days: list[tuple[str, dict[str, int]]]) -> Chart:
    """The chart of `days` (a report's: each UTC day oldest first, outcome → sessions)."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = float(TOP + plot_height)
    totals = [sum(counts.values()) for _, counts in days]
    top_value = nice_ceiling(max(totals, default=0))
    scale = plot_height / top_value
    slot = plot_width / max(len(days), 1)
    width = max(slot * 0.72, 1.0)
    every = max(1, math.ceil(len(days) / MAX_X_LABELS))
    bars = []
    for i, ((day, counts), total) in enumerate(zip(days, totals)):
        y, segments = baseline, []
        for name in OUTCOMES:
            n = counts.get(name, 0)
            if n:
                height = n * scale
                y -= height
                segments.append(Segment(name, LABELS[name], n, round(y, 2), round(height, 2)))
        x = LEFT + i * slot + (slot - width) / 2
        last_one = i == len(days) - 1
        bars.append(Bar(day, round(x, 2), round(width, 2), round(x + width / 2, 2), total, round(y, 2), tuple(segments),
                        show_total=bool(total) and len(days) <= TOTALS_UP_TO,
                        x_label=day[5:] if i % every == 0 or (last_one and len(days) <= MAX_X_LABELS) else None))
    step = tick_step(top_value)
    ticks = tuple(Tick(value, round(baseline - value * scale, 2)) for value in range(0, top_value + 1, step))
    return Chart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, baseline, ticks, tuple(bars), sum(totals),
                 days[0][0] if days else "", days[-1][0] if days else "")
