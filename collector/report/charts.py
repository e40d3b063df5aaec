"""The report's charts, as inline SVG (no script, no external asset: they print and work offline)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from .views import CONTROL_STATUSES, THEMES, label

COLOURS = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "not_assessed": "#b26a00",
    "manual": "#5c6bc0",
    "excluded": "#757575",
    "error": "#b26a00",
    "not_applicable": "#757575",
}
THEME_COLOURS = {
    "organizational": "#1565c0",
    "people": "#8e24aa",
    "physical": "#00838f",
    "technological": "#ef6c00",
}
OVERALL_COLOUR = "#1f2328"


def theme_counts(controls: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    counts = {theme: dict.fromkeys(CONTROL_STATUSES, 0) for theme, _ in THEMES}
    for control in controls:
        counts[control["theme"]][control["status"]] += 1
    return counts


def theme_chart(controls: Sequence[Mapping[str, Any]]) -> str:
    """Stacked horizontal bars: control status per theme, with the count in every segment."""
    counts = theme_counts(controls)
    width, bar, gap, label_w, right = 760, 26, 14, 170, 40
    height = len(THEMES) * (bar + gap) + 6
    total_max = max(1, max(sum(c.values()) for c in counts.values()))
    scale = (width - label_w - right) / total_max
    parts = [
        f'<svg id="theme-chart" class="chart" role="img" aria-label="Control status per theme" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for row, (theme, title) in enumerate(THEMES):
        y = 3 + row * (bar + gap)
        parts.append(f'<text x="0" y="{y + bar * 0.68:.1f}" font-size="13" fill="#1f2328">{escape(title)}</text>')
        x = float(label_w)
        for status in CONTROL_STATUSES:
            n = counts[theme][status]
            if not n:
                continue
            w = n * scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{COLOURS[status]}">'
                f"<title>{escape(title)}: {n} {label(status)}</title></rect>"
            )
            if w >= 16:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + bar * 0.68:.1f}" font-size="12" fill="#fff" '
                    f'text-anchor="middle">{n}</text>'
                )
            x += w
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + bar * 0.68:.1f}" font-size="12" fill="#57606a">'
            f"{sum(counts[theme].values())}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def legend(items: Sequence[tuple[str, str]]) -> str:
    """A legend as HTML (it wraps on narrow screens, unlike SVG text)."""
    return (
        '<ul class="legend">'
        + "".join(
            f'<li><span class="swatch" style="background:{colour}"></span>{escape(text)}</li>' for text, colour in items
        )
        + "</ul>"
    )


def pass_rate(counts: Mapping[str, int]) -> float | None:
    """Passing / (passing + failing + not assessed); None when nothing was assessed."""
    assessed = counts.get("pass", 0) + counts.get("fail", 0) + counts.get("not_assessed", 0)
    return counts.get("pass", 0) / assessed if assessed else None


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None


def history_series(history: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, list[float | None]]]:
    """(key, label, rate per run) for the overall pass rate and each theme that was ever assessed."""
    series: list[tuple[str, str, list[float | None]]] = [
        ("overall", "all controls", [pass_rate(h["summary"]) for h in history])
    ]
    for theme, title in THEMES:
        rates = [pass_rate((h.get("themes") or {}).get(theme, {})) for h in history]
        if any(r is not None for r in rates) and any(h.get("themes") for h in history):
            series.append((theme, title, rates))
    return series


def history_chart(history: Sequence[Mapping[str, Any]]) -> str:
    """Pass rate over time: a y axis in percent, dates on the x axis (spaced by time), the value of
    every point in its tooltip and the latest value printed at the end of each line."""
    width, height = 760, 280
    left, right, top, bottom = 46, 150, 14, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    times = [_when(h["started_at"]) for h in history]
    stamps = [t.timestamp() for t in times if t]
    span = (max(stamps) - min(stamps)) if len(stamps) == len(history) and stamps else 0.0

    def x_of(i: int) -> float:
        t = times[i]
        if span > 0 and t is not None:
            return left + (t.timestamp() - min(stamps)) / span * plot_w
        return left + (i / max(1, len(history) - 1)) * plot_w

    def y_of(rate: float) -> float:
        return top + (1 - rate) * plot_h

    parts = [
        f'<svg id="history-chart" class="chart" role="img" aria-label="Pass rate over time, overall and per theme" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for pct in (0, 25, 50, 75, 100):
        y = y_of(pct / 100)
        dash = "" if pct in (0, 100) else ' stroke-dasharray="3 3"'
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d8dee4" '
            f'stroke-width="1"{dash}/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#57606a">{pct}%</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#57606a"/>'
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#57606a"/>'
        f'<text x="{left - 36}" y="{top + plot_h / 2:.1f}" font-size="11" fill="#57606a" '
        f'transform="rotate(-90 {left - 36} {top + plot_h / 2:.1f})" text-anchor="middle">pass rate</text>'
    )
    # Dates on the axis; times too when the runs lie within two days of each other.
    with_time = span < 2 * 86400
    last_tick = -1e9
    for i in _tick_indexes(len(history)):
        x = x_of(i)
        if x - last_tick < 70:  # runs close in time: one label for the cluster
            continue
        last_tick = x
        started = history[i]["started_at"]
        day = f"{started[5:10]} {started[11:16]}" if with_time else started[:10]
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 5}" stroke="#57606a"/>'
            f'<text x="{x:.1f}" y="{top + plot_h + 18}" font-size="11" text-anchor="middle" fill="#57606a">'
            f"{escape(day)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="11" text-anchor="middle" '
        f'fill="#57606a">run start (UTC)</text>'
    )
    labels: list[tuple[float, str, str]] = []
    for key, title, rates in history_series(history):
        colour = THEME_COLOURS.get(key, OVERALL_COLOUR)
        stroke = 3 if key == "overall" else 1.8
        for segment in _segments(rates):
            points = " ".join(f"{x_of(i):.1f},{y_of(rates[i] or 0):.1f}" for i in segment)
            parts.append(
                f'<polyline class="line-{key}" fill="none" stroke="{colour}" stroke-width="{stroke}" '
                f'points="{points}"/>'
            )
        for i, rate in enumerate(rates):
            if rate is None:
                continue
            run = history[i]
            parts.append(
                f'<circle cx="{x_of(i):.1f}" cy="{y_of(rate):.1f}" r="{3.5 if key == "overall" else 2.5}" '
                f'fill="{colour}"><title>{escape(title)}: {rate:.0%} on {escape(run["started_at"])} '
                f"(run {escape(run['run_id'])})</title></circle>"
            )
        last = next((i for i in range(len(rates) - 1, -1, -1) if rates[i] is not None), None)
        if last is not None:
            labels.append((y_of(rates[last] or 0), f"{rates[last]:.0%} {title.split(' (')[0]}", colour))
    for y, text, colour in _spread(labels, top, top + plot_h):
        parts.append(
            f'<text x="{left + plot_w + 8}" y="{y + 4:.1f}" font-size="11" fill="{colour}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _tick_indexes(n: int, most: int = 6) -> list[int]:
    if n <= most:
        return list(range(n))
    step = (n - 1) / (most - 1)
    return sorted({round(i * step) for i in range(most)})


def _segments(rates: Sequence[float | None]) -> list[list[int]]:
    """Runs of consecutive points with a value (a theme with nothing assessed leaves a gap)."""
    out: list[list[int]] = []
    current: list[int] = []
    for i, rate in enumerate(rates):
        if rate is None:
            if current:
                out.append(current)
            current = []
        else:
            current.append(i)
    if current:
        out.append(current)
    return out


def _spread(
    labels: list[tuple[float, str, str]], low: float, high: float, gap: float = 13
) -> list[tuple[float, str, str]]:
    """End-of-line labels pushed apart so equal values stay readable."""
    placed: list[tuple[float, str, str]] = []
    for y, text, colour in sorted(labels):
        y = max(y, placed[-1][0] + gap) if placed else y
        placed.append((y, text, colour))
    overflow = placed[-1][0] - high if placed else 0
    if overflow > 0:
        placed = [(max(low, y - overflow), t, c) for y, t, c in placed]
    return placed
