"""Charts drawn on the server as SVG (no chart library, nothing to download): sync outcomes
per day, and a time series such as a service's measurements.

Both are readable without colour alone: failures are hatched as well as red, every bar and
point has a <title> (a tooltip, read out by screen readers), and the caller shows the same
figures as a table or text beside the chart.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 240
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 56, 30, 12
FONT = 18  # in viewBox units: about 10 px in a dashboard panel, 18 px at full width


@dataclass(frozen=True)
class DayOutcome:
    day: date
    succeeded: int
    failed: int

    @property
    def total(self) -> int:
        return self.succeeded + self.failed


_HATCH = (
    '<defs><pattern id="hatch-failed" width="6" height="6" patternUnits="userSpaceOnUse"'
    ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#a40e26"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>'
)


def outcomes_svg(days: list[DayOutcome], *, title: str) -> SafeString:
    """Stacked bars, one a day: succeeded (solid green) below failed (hatched red)."""
    plot_w, plot_h = WIDTH - MARGIN_LEFT, HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    top = max([d.total for d in days] + [1])
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1)
    bars = []
    for n, item in enumerate(days):
        x = MARGIN_LEFT + n * slot + (slot - bar_w) / 2
        ok_h = plot_h * item.succeeded / top
        bad_h = plot_h * item.failed / top
        base = MARGIN_TOP + plot_h
        label = f"{item.day:%Y-%m-%d}: {item.succeeded} succeeded, {item.failed} failed"
        bars.append(
            format_html(
                '<g><title>{}</title><rect x="{}" y="{}" width="{}" height="{}"'
                ' fill="#116329"/><rect x="{}" y="{}" width="{}" height="{}"'
                ' fill="url(#hatch-failed)"/></g>',
                label,
                *(
                    _n(v)
                    for v in (x, base - ok_h, bar_w, ok_h, x, base - ok_h - bad_h, bar_w, bad_h)
                ),
            )
        )
    # The first day's label starts at its bar, the last one's ends at its bar.
    ticks = [(days[0], MARGIN_LEFT, "start"), (days[-1], WIDTH, "end")] if days else []
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="18" text-anchor="{}">{}</text>',
        ((_n(x), HEIGHT - 6, anchor, f"{d.day:%d %b}") for d, x, anchor in ticks),
    )
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#57606a"/>'
        '<text x="{}" y="{}" font-size="18" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" font-size="18" text-anchor="end">0</text>',
        MARGIN_LEFT,
        MARGIN_TOP + plot_h,
        WIDTH,
        MARGIN_TOP + plot_h,
        MARGIN_LEFT - 4,
        MARGIN_TOP + 10,
        top,
        MARGIN_LEFT - 4,
        MARGIN_TOP + plot_h,
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}"'
        '><title id="{}">{}</title>{}{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        "chart-outcomes-title",
        "chart-outcomes-title",
        title,
        mark_safe(_HATCH),  # noqa: S308 (a constant of this module)
        axis,
        mark_safe("".join(bars)),  # noqa: S308 (each bar built with format_html)
        labels,
    )


def _n(value: float) -> str:
    """A coordinate, to a tenth."""
    return f"{value:.1f}"


def finite_number(value) -> Decimal | None:
    """A finite number, or None (a partner may send "NaN", "Infinity" or words)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def series_svg(
    points: list[tuple[int, object]], *, title: str, unit: str, chart_id: str = "series"
) -> SafeString:
    """A line over (unix seconds, value) points in time order, with its lowest and highest
    value marked. `chart_id` tells several charts of one page apart."""
    values = sorted(
        (ts, n)
        for ts, raw in points
        if isinstance(ts, int) and (n := finite_number(raw)) is not None
    )
    if not values:
        return format_html('<p class="muted">{}: no values in this period.</p>', title)
    plot_w, plot_h = WIDTH - MARGIN_LEFT, HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    first, last = values[0][0], values[-1][0]
    low = min(v for _, v in values)
    high = max(v for _, v in values)
    span_t = max(last - first, 1)
    span_v = (high - low) or Decimal(1)

    def xy(ts: int, value: Decimal) -> tuple[float, float]:
        x = MARGIN_LEFT + plot_w * (ts - first) / span_t
        y = MARGIN_TOP + plot_h * float((high - value) / span_v)
        return x, y

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(ts, v) for ts, v in values))
    start, end = (
        timezone.localtime(datetime.fromtimestamp(ts, tz=UTC)).strftime("%d %b %H:%M")
        for ts in (first, last)
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-{cid}-title"'
        '><title id="chart-{cid}-title">{title}: from {low} to {high}'
        " {unit}, {n} values</title>"
        '<polyline points="{path}" fill="none" stroke="#0b5cad" stroke-width="1.5"/>'
        '<line x1="{ml}" y1="{base}" x2="{w}" y2="{base}" stroke="#57606a"/>'
        '<text x="{lx}" y="{ty}" font-size="18" text-anchor="end">{high}</text>'
        '<text x="{lx}" y="{base}" font-size="18" text-anchor="end">{low}</text>'
        '<text x="{ml}" y="{by}" font-size="18">{start}</text>'
        '<text x="{w}" y="{by}" font-size="18" text-anchor="end">{end}</text></svg>',
        w=WIDTH,
        h=HEIGHT,
        cid=chart_id,
        title=title,
        low=low,
        high=high,
        unit=unit,
        n=len(values),
        path=path,
        ml=MARGIN_LEFT,
        base=MARGIN_TOP + plot_h,
        lx=MARGIN_LEFT - 4,
        ty=MARGIN_TOP + 10,
        by=HEIGHT - 6,
        start=start,
        end=end,
    )
