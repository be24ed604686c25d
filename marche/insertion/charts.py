"""Charts of the PDF bilans as inline SVG (WeasyPrint runs no JavaScript): the geometry is computed here, the
template macro `insertion/pdf/_charts.html` draws it, so every label goes through Jinja's autoescape."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from ..core.filters import fr_number

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 40
BLUE, GREY, RED, GREEN = "#000091", "#929292", "#ce0500", "#18753c"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Line:
    points: str
    colour: str
    dashed: bool
    label: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class MonthChart:
    """Bars (hours of each month) under cumulative lines, one y axis in hours."""

    width: int
    height: int
    left: int
    bottom_y: float
    right_x: float
    bars: tuple[Bar, ...]
    lines: tuple[Line, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    legend: tuple[tuple[str, str, bool], ...]


def _nice_max(value: float) -> float:
    """The axis' top: 1, 2, 2.5 or 5 times a power of ten, at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def month_chart(labels: Sequence[str], bars: Sequence[Decimal], lines: Sequence[tuple[str, str, bool,
                Sequence[Decimal | None]]], bar_label: str) -> MonthChart:
    """`lines`: (label, colour, dashed, values with None where the line does not run)."""
    count = max(1, len(labels))
    values = [float(v) for v in bars] + [float(v) for _, _, _, series in lines for v in series if v is not None]
    top = _nice_max(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / count

    def y_of(value: float) -> float:
        return round(TOP + plot_h - value / top * plot_h, 1)

    drawn_bars = tuple(Bar(x=round(LEFT + i * slot + slot * 0.2, 1), y=y_of(float(v)), width=round(slot * 0.6, 1),
                           height=round(float(v) / top * plot_h, 1), title=f"{labels[i]} : {fr_number(v, 2)} h")
                       for i, v in enumerate(bars))
    drawn_lines = []
    for label, colour, dashed, series in lines:
        points = " ".join(f"{round(LEFT + i * slot + slot / 2, 1)},{y_of(float(v))}"
                          for i, v in enumerate(series) if v is not None)
        if points:
            drawn_lines.append(Line(points, colour, dashed, label))
    y_ticks = tuple(Tick(y_of(top * k / 4), fr_number(Decimal(str(top * k / 4)), 0)) for k in range(5))
    step = 1 if count <= 12 else (2 if count <= 24 else max(3, count // 12))
    x_ticks = tuple(Tick(round(LEFT + i * slot + slot / 2, 1), labels[i]) for i in range(0, len(labels), step))
    legend = ((bar_label, BLUE, False),) + tuple((line.label, line.colour, line.dashed) for line in drawn_lines)
    return MonthChart(WIDTH, HEIGHT, LEFT, TOP + plot_h, LEFT + plot_w, drawn_bars, tuple(drawn_lines), y_ticks,
                      x_ticks, legend)


@dataclass(frozen=True)
class HBar:
    y: float
    width: float
    label: str
    value: str


@dataclass(frozen=True)
class HBarChart:
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: tuple[HBar, ...]


def hbar_chart(items: Sequence[tuple[str, Decimal]], unit: str = "h") -> HBarChart:
    """One horizontal bar per item (label, value), the longest full width."""
    label_width, bar_height, gap, value_width = 250, 14, 6, 90
    top = max((float(v) for _, v in items), default=0.0) or 1.0
    plot_w = WIDTH - label_width - value_width
    bars = tuple(HBar(y=i * (bar_height + gap), width=round(float(v) / top * plot_w, 1),
                      label=label if len(label) <= 42 else label[:41] + "…", value=f"{fr_number(v, 0)} {unit}")
                 for i, (label, v) in enumerate(items))
    return HBarChart(WIDTH, max(1, len(items)) * (bar_height + gap), label_width, bar_height, bars)
