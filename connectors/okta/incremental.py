"""Deciding how much of the factor sweep a run must redo.

Okta has no bulk factor API: a full sweep costs one request per user. A re-run reads the System Log
since the previous run and re-fetches factors only for users named by factor or lifecycle events (and
for users whose status or lastUpdated moved, or who are new); everyone else keeps the factors the
previous run stored, marked ``carried_over`` with the id of the run that actually fetched them. A full
sweep is done when there is no trustworthy previous run, when the log cannot be read, or when the last
full sweep is older than ``full_sweep_days``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import CollectContext

from .client import Api, OktaApiError
from .kinds import USER

# Event families after which a user's factors (or whether they matter) may have changed.
EVENT_PREFIXES = ("user.mfa.", "system.mfa.", "user.authenticator.", "user.lifecycle.", "user.account.")
LOG_FILTER = " or ".join(f'eventType sw "{prefix.rstrip(".")}"' for prefix in EVENT_PREFIXES)
# Log events are indexed with a small delay; re-reading a few minutes twice is cheaper than missing one.
LOG_OVERLAP = timedelta(minutes=5)
LOG_PAGE_LIMIT = 1000


def full_sweep_key(host: str) -> str:
    return f"last_full_sweep_at {host}"


@dataclass
class SweepPlan:
    full: bool
    reason: str
    previous_users: dict[str, dict[str, Any]] = field(default_factory=dict)  # Okta user id -> previous data
    changed_ids: set[str] = field(default_factory=set)
    events_read: int = 0

    def needs_fetch(self, user: dict[str, Any]) -> bool:
        """Must this user's factors be fetched now, or can the stored ones be reused?"""
        if self.full:
            return True
        before = self.previous_users.get(user["id"])
        return (
            before is None
            or user["id"] in self.changed_ids
            or before.get("status") != user.get("status")
            or before.get("lastUpdated") != user.get("lastUpdated")
            or before.get("factors") is None
            or before.get("factors_source") not in ("fresh", "carried_over")
            or not before.get("factors_from_run")
        )


def _full(reason: str) -> SweepPlan:
    return SweepPlan(full=True, reason=reason)


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def plan_sweep(api: Api, context: CollectContext, host: str, full_sweep_days: int) -> SweepPlan:
    previous = context.previous
    now = context.started_at
    max_age = timedelta(days=full_sweep_days)
    if previous is None:
        return _full("no previous run")
    if previous.connector_status != "ok":
        return _full(f"the previous run {previous.run_id} was {previous.connector_status}")
    if now - previous.started_at > max_age:
        return _full(f"the previous run is older than {full_sweep_days} days")
    last_full = _parse(context.state.get(full_sweep_key(host)))
    if last_full is None or now - last_full > max_age:
        return _full(f"no full sweep in the last {full_sweep_days} days")
    previous_users = {
        item.data["id"]: item.data for item in previous.items(USER) if isinstance(item.data.get("id"), str)
    }
    if not previous_users:
        return _full("the previous run stored no users")
    params = {
        "since": iso(previous.started_at - LOG_OVERLAP),
        "until": iso(datetime.now(UTC)),
        "filter": LOG_FILTER,
        "sortOrder": "ASCENDING",
        "limit": LOG_PAGE_LIMIT,
    }
    try:
        events = await api.get_all("/api/v1/logs", params)
    except OktaApiError as exc:
        return _full(f"the System Log could not be read ({exc.reason})")
    changed: set[str] = set()
    for event in events:
        if not str(event.get("eventType", "")).startswith(EVENT_PREFIXES):
            continue
        for target in event.get("target") or []:
            if target.get("type") == "User" and isinstance(target.get("id"), str):
                changed.add(target["id"])
    return SweepPlan(
        full=False,
        reason=f"{len(events)} factor/lifecycle events since the previous run {previous.run_id}",
        previous_users=previous_users,
        changed_ids=changed,
        events_read=len(events),
    )
