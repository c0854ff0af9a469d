"""The chart of sessions per day (bot/web/chart.py): stacked bars in proportion, on a round scale, labelled
sparingly, whatever the number of days."""

from __future__ import annotations

import pytest

from bot.sessions.report import OUTCOMES
from bot.web import chart


def days(*totals: dict[str, int]) -> list[tuple[str, dict[str, int]]]:
    return [(f"2025-06-{n + 1:02d}", {**dict.fromkeys(OUTCOMES, 0), **counts}) for n, counts in enumerate(totals)]


def test_bars_stack_their_outcomes_in_proportion_on_a_round_scale():
    drawn = chart.day_chart(days({"completed": 3, "failed": 1}, {}, {"running": 7}))
    plot = drawn.baseline - chart.TOP
    first, empty, last = drawn.bars
    assert [t.value for t in drawn.ticks] == [0, 2, 4, 6, 8, 10] and drawn.total == 11
    assert [(s.outcome, s.count) for s in first.segments] == [("completed", 3), ("failed", 1)]
    assert first.segments[0].y + first.segments[0].height == pytest.approx(drawn.baseline)
    assert first.segments[1].y + first.segments[1].height == pytest.approx(first.segments[0].y)
    assert last.segments[0].height == pytest.approx(plot * 7 / 10, abs=0.01)
    assert empty.segments == () and not empty.show_total and first.show_total
    assert chart.LEFT <= first.x < empty.x < last.x and last.x + last.width <= drawn.right


def test_ninety_days_get_few_labels_and_no_totals_above_the_bars():
    drawn = chart.day_chart(days(*({"completed": n % 4} for n in range(90))))
    assert 1 < sum(1 for bar in drawn.bars if bar.x_label) <= chart.MAX_X_LABELS
    assert not any(bar.show_total for bar in drawn.bars)


def test_no_days_and_no_sessions_still_draw():
    assert chart.day_chart([]).bars == () and chart.day_chart(days({})).ticks[-1].value == 1


@pytest.mark.parametrize("value, ceiling, step", [(0, 1, 1), (3, 5, 1), (7, 10, 2), (37, 50, 10), (12345, 20000, 5000)])
def test_the_scale(value, ceiling, step):
    assert (chart.nice_ceiling(value), chart.tick_step(chart.nice_ceiling(value))) == (ceiling, step)
