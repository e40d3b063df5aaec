"""The observation window: how long, and how steadily, the ISMS has been shown to operate.

Stage 2 auditors want weeks to months of operation before certification. From the stored runs this
derives when complete evidence began, how many weeks it covers, how often runs happened, the longest
stretch without a complete run (flagged when longer than three schedule intervals), the share of days
with a complete run, and per control the date since which it has passed in every run.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .catalog import load_catalogue
from .cron import parse_crontab, week_minutes
from .evaluate import control_status
from .store import Store
from .timeutil import iso, parse_iso

DEFAULT_INTERVAL = timedelta(days=1)
GAP_FACTOR = 3
STATUSES = ("pass", "fail", "not_assessed", "manual", "excluded")


@dataclass
class RunPoint:
    seq: int
    id: str
    started_at: datetime
    status: str


@dataclass
class Window:
    as_of: datetime
    interval: timedelta
    runs: int = 0
    complete_runs: int = 0
    first_complete: datetime | None = None
    last_complete: datetime | None = None
    weeks: float = 0.0
    runs_per_week: float = 0.0
    longest_gap: timedelta = timedelta(0)
    longest_gap_from: datetime | None = None
    longest_gap_to: datetime | None = None
    days_with_complete_run: int = 0
    days_in_window: int = 0
    passing_since: dict[str, str | None] = field(default_factory=dict)  # control id -> ISO time or None
    history: list[dict[str, Any]] = field(default_factory=list)  # per run in the window: control counts

    @property
    def gap_flagged(self) -> bool:
        return self.longest_gap > self.interval * GAP_FACTOR

    @property
    def day_share(self) -> float:
        return self.days_with_complete_run / self.days_in_window if self.days_in_window else 0.0

    def document(self) -> dict[str, Any]:
        return {
            "as_of": iso(self.as_of),
            "schedule_interval_hours": round(self.interval.total_seconds() / 3600, 2),
            "runs": self.runs,
            "complete_runs": self.complete_runs,
            "first_complete_run": iso(self.first_complete) if self.first_complete else None,
            "last_complete_run": iso(self.last_complete) if self.last_complete else None,
            "weeks_covered": round(self.weeks, 1),
            "runs_per_week": round(self.runs_per_week, 1),
            "longest_gap_hours": round(self.longest_gap.total_seconds() / 3600, 1),
            "longest_gap": {
                "from": iso(self.longest_gap_from) if self.longest_gap_from else None,
                "to": iso(self.longest_gap_to) if self.longest_gap_to else None,
            },
            "gap_flagged": self.gap_flagged,
            "days_with_complete_run": self.days_with_complete_run,
            "days_in_window": self.days_in_window,
            "share_of_days_with_complete_run": round(self.day_share, 3),
            "passing_since": dict(self.passing_since),
        }


def schedule_interval(cron: str | None) -> timedelta:
    """The longest spacing between the schedule's firings over a week (a daily cron: one day)."""
    if not cron:
        return DEFAULT_INTERVAL
    parse_crontab(cron)  # validated already by the config; raises CronError on a bad one
    times = week_minutes(cron)
    if len(times) < 2:
        return timedelta(days=7)
    gaps = [b - a for a, b in itertools.pairwise(times)] + [times[0] + 7 * 1440 - times[-1]]
    return timedelta(minutes=max(gaps))


def published_runs(store: Store) -> list[RunPoint]:
    rows = store.db.execute(
        "select seq, id, started_at, status from runs where status in ('complete', 'partial') order by seq"
    ).fetchall()
    return [RunPoint(int(seq), rid, parse_iso(started), status) for seq, rid, started, status in rows]


def observation_window(
    store: Store, *, as_of: datetime, interval: timedelta = DEFAULT_INTERVAL, runs: Sequence[RunPoint] | None = None
) -> Window:
    points = list(runs if runs is not None else published_runs(store))
    window = Window(as_of=as_of, interval=interval, runs=len(points))
    complete = [p for p in points if p.status == "complete"]
    window.complete_runs = len(complete)
    if not complete:
        return window
    window.first_complete, window.last_complete = complete[0].started_at, complete[-1].started_at
    span = max(as_of - window.first_complete, timedelta(0))
    window.weeks = span.total_seconds() / (7 * 86400)
    after_first = [p for p in points if p.started_at >= window.first_complete]
    window.runs_per_week = len(after_first) / max(window.weeks, 1.0)
    # The stretch from the last complete run to "now" counts too: an agent that stopped is a gap.
    stamps = [p.started_at for p in complete] + [as_of]
    for a, b in itertools.pairwise(stamps):
        if b - a > window.longest_gap:
            window.longest_gap, window.longest_gap_from, window.longest_gap_to = b - a, a, b
    first_day, last_day = window.first_complete.date(), as_of.date()
    window.days_in_window = (last_day - first_day).days + 1
    window.days_with_complete_run = len({p.started_at.date() for p in complete if p.started_at.date() <= last_day})
    history = control_history(store, points)
    window.passing_since = passing_since(points, history)
    window.history = theme_points([p for p in points if p.started_at >= window.first_complete], history)
    return window


def control_history(store: Store, runs: Sequence[RunPoint]) -> dict[str, dict[str, str]]:
    """Run id -> control id -> status, for every given run, derived as the gap report derives it, from
    one pass over the check results (no per-run query: a year of daily runs stays fast)."""
    by_run: dict[str, dict[str, list[str]]] = {}
    primary_of: dict[str, dict[str, int]] = {}
    excluded_of: dict[str, Mapping[str, str]] = {}
    ids = [p.id for p in runs]
    supporting_column = "supporting" if "supporting" in store.db.table("check_runs").columns_dict else "null"
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        marks = ",".join("?" * len(chunk))
        for run_id, controls, status, supporting in store.db.execute(
            f"select run_id, controls, status, {supporting_column} from check_runs where run_id in ({marks})", chunk
        ):
            per_control = by_run.setdefault(run_id, {})
            primary = primary_of.setdefault(run_id, {})
            only_supports = set(json.loads(supporting or "[]"))
            for control_id in json.loads(controls or "[]"):
                per_control.setdefault(control_id, []).append(status)
                if control_id not in only_supports:
                    primary[control_id] = primary.get(control_id, 0) + 1
        for run_id, excluded in store.db.execute(f"select id, soa_excluded from runs where id in ({marks})", chunk):
            excluded_of[run_id] = json.loads(excluded or "{}")
    catalogue = load_catalogue()
    return {
        run_id: {
            c.id: control_status(
                by_run.get(run_id, {}).get(c.id, []),
                c.id in excluded_of.get(run_id, {}),
                primary_of.get(run_id, {}).get(c.id, 0),
            )
            for c in catalogue
        }
        for run_id in ids
    }


def passing_since(runs: Sequence[RunPoint], history: Mapping[str, Mapping[str, str]]) -> dict[str, str | None]:
    """Control id -> start of the run from which it passed in every published run up to the latest
    (None when the latest run does not pass it)."""
    since: dict[str, str | None] = {}
    for control in load_catalogue():
        start: datetime | None = None
        for point in runs:
            start = start or point.started_at if history[point.id][control.id] == "pass" else None
        since[control.id] = iso(start) if start else None
    return since


def theme_points(runs: Sequence[RunPoint], history: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    """Per run: control counts overall and per theme (the shape the pass-rate chart draws)."""
    theme_of = {c.id: c.theme for c in load_catalogue()}
    points = []
    for point in runs:
        summary = dict.fromkeys(STATUSES, 0)
        themes = {theme: dict.fromkeys(STATUSES, 0) for theme in sorted(set(theme_of.values()))}
        for control_id, status in history[point.id].items():
            summary[status] += 1
            themes[theme_of[control_id]][status] += 1
        points.append({"run_id": point.id, "started_at": iso(point.started_at), "summary": summary, "themes": themes})
    return points
