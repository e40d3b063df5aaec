"""Users and their factors: every page of users, then factor calls in parallel with bounded concurrency."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from connectors.base import CollectContext, CollectionError, EvidenceItem

from .client import Api, OktaApiError
from .facts import factor_facts, user_facts
from .incremental import SweepPlan, full_sweep_key, iso
from .kinds import USER

DEPROVISIONED_FILTER = 'status eq "DEPROVISIONED"'
NOT_FOUND = "E0000007"
# The user item fields a failed factor call leaves unknown; only checks reading them become ``error``.
FACTOR_FIELDS = ("factors", "factors_from_run")


async def list_users(api: Api, page_limit: int) -> list[dict[str, Any]]:
    """All users. Okta's default listing leaves out DEPROVISIONED users; they are read with a filter."""
    listed = await api.get_all("/api/v1/users", {"limit": page_limit})
    deprovisioned = await api.get_all("/api/v1/users", {"limit": page_limit, "filter": DEPROVISIONED_FILTER})
    seen: dict[str, dict[str, Any]] = {}
    for raw in listed + deprovisioned:
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            seen.setdefault(raw["id"], raw)
    return list(seen.values())


async def user_was_deleted(api: Api, user_id: str, exc: OktaApiError) -> bool:
    """Does a 404 on one of a user's sub-resources mean the user was deleted since the listing?

    Only when Okta's own not-found (E0000007) answers both the sub-resource and the user itself. A bare 404
    (a proxy, an API imitation without that endpoint) stays an error: it must never become "nothing to judge".
    """
    if exc.status != 404 or exc.code != NOT_FOUND:
        return False
    try:
        await api.get(f"/api/v1/users/{user_id}")
    except OktaApiError as again:
        return again.status == 404 and again.code == NOT_FOUND
    return False


@dataclass
class FactorSweep:
    """Builds the user items: fresh factors where needed, carried-over factors elsewhere."""

    api: Api
    context: CollectContext
    org: str
    concurrency: int
    fetched: int = 0
    carried: int = 0
    failed: int = 0
    gone: list[str] = field(default_factory=list)

    async def items(
        self, users: list[dict[str, Any]], plan: SweepPlan, admin_roles: dict[str, list[str]] | None
    ) -> list[EvidenceItem | CollectionError]:
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(raw: dict[str, Any]) -> list[EvidenceItem | CollectionError]:
            data = user_facts(raw, self.org)
            data["admin_roles"] = None if admin_roles is None else sorted(admin_roles.get(raw["id"], []))
            if data["status"] == "DEPROVISIONED":
                # Deactivation resets factors; the fixed checks only look at factors of active users.
                data.update(factors=None, factors_source="not_fetched", factors_from_run=None)
                return [EvidenceItem(USER, data["login"], data)]
            if not plan.needs_fetch(data):
                before = plan.previous_users[data["id"]]
                data.update(
                    factors=before["factors"],
                    factors_source="carried_over",
                    factors_from_run=before["factors_from_run"],
                )
                self.carried += 1
                return [EvidenceItem(USER, data["login"], data)]
            async with semaphore:
                return self._with_factors(data, await self._factors(data))

        results = await asyncio.gather(*(one(raw) for raw in users))
        return [record for records in results for record in records]

    async def _factors(self, data: dict[str, Any]) -> list[dict[str, Any]] | OktaApiError | None:
        """The user's factors; None when the user was deleted during the run; the error when unreadable."""
        try:
            body = await self.api.get_all(f"/api/v1/users/{data['id']}/factors")
        except OktaApiError as exc:
            return None if await user_was_deleted(self.api, data["id"], exc) else exc
        return [factor_facts(factor) for factor in body if isinstance(factor, dict)]

    def _with_factors(
        self, data: dict[str, Any], factors: list[dict[str, Any]] | OktaApiError | None
    ) -> list[EvidenceItem | CollectionError]:
        if factors is None:
            # Deleted between the listing and the factor call: there is nothing left to judge.
            self.gone.append(data["login"])
            return []
        if isinstance(factors, OktaApiError):
            self.failed += 1
            data.update(factors=None, factors_source="error", factors_from_run=None)
            # The user's other facts (status, lastLogin, admin roles) are known: only the checks reading
            # the factors are left in doubt.
            return [
                EvidenceItem(USER, data["login"], data),
                CollectionError(
                    USER, f"{self.org}: factors of {data['login']}: {factors.reason}", fields=FACTOR_FIELDS
                ),
            ]
        self.fetched += 1
        data.update(factors=factors, factors_source="fresh", factors_from_run=self.context.run_id)
        return [EvidenceItem(USER, data["login"], data)]

    def remember_full_sweep(self, plan: SweepPlan) -> None:
        """A complete full sweep restarts the clock of ``full_sweep_days``."""
        if plan.full and self.failed == 0:
            self.context.state.put(full_sweep_key(self.org), iso(self.context.started_at))
