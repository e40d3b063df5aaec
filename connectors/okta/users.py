"""Users and their factors: every page of users, then factor calls in parallel with bounded concurrency."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from connectors.base import CollectContext, CollectionError, EvidenceItem

from .client import Api, OktaApiError
from .facts import factor_facts, user_facts
from .failures import Unreadable
from .incremental import SweepPlan, full_sweep_key, iso
from .kinds import USER

DEPROVISIONED_FILTER = 'status eq "DEPROVISIONED"'
NOT_FOUND = "E0000007"
# The user item fields a failed factor call leaves unknown; only checks reading them become ``error``.
FACTOR_FIELDS = ("factors", "factors_from_run")
ADMIN_ROLES_FIELD = "admin_roles"  # joined from the role assignments


@dataclass
class UserRoles:
    """The admin role types of each user, as far as they could be read."""

    by_user: dict[str, list[str]] = field(default_factory=dict)  # users without an entry hold no role
    failed: dict[str, OktaApiError] = field(default_factory=dict)  # user id -> why their roles are unknown
    all_failed: OktaApiError | None = None  # the assignments as a whole could not be read

    def of(self, user_id: str) -> list[str] | OktaApiError:
        if self.all_failed is not None:
            return self.all_failed
        if user_id in self.failed:
            return self.failed[user_id]
        return sorted(self.by_user.get(user_id, []))


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
    gone: list[str] = field(default_factory=list)
    factors_unread: Unreadable = field(init=False)
    roles_unread: Unreadable = field(init=False)

    def __post_init__(self) -> None:
        self.factors_unread = Unreadable(USER, self.org, "factors", FACTOR_FIELDS)
        self.roles_unread = Unreadable(USER, self.org, "admin roles", (ADMIN_ROLES_FIELD,))

    @property
    def failed(self) -> int:
        return len(self.factors_unread)

    async def items(
        self, users: list[dict[str, Any]], plan: SweepPlan, roles: UserRoles
    ) -> list[EvidenceItem | CollectionError]:
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(raw: dict[str, Any]) -> EvidenceItem | None:
            data = user_facts(raw, self.org)
            if data["status"] == "DEPROVISIONED":
                # Deactivation resets factors (Okta's own "none"); the checks only look at factors of active users.
                data.update(factors=None, factors_source="not_fetched", factors_from_run=None)
                item = EvidenceItem(USER, data["login"], data)
            elif not plan.needs_fetch(data):
                before = plan.previous_users[data["id"]]
                data.update(
                    factors=before["factors"],
                    factors_source="carried_over",
                    factors_from_run=before["factors_from_run"],
                )
                self.carried += 1
                item = EvidenceItem(USER, data["login"], data)
            else:
                async with semaphore:
                    factors = await self._factors(data)
                if factors is None:
                    # Deleted between the listing and the factor call: there is nothing left to judge.
                    self.gone.append(data["login"])
                    return None
                item = self._with_factors(data, factors)
            held = roles.of(data["id"])
            if isinstance(held, OktaApiError):
                self.roles_unread.mark(item, held, data["login"])
            else:
                data[ADMIN_ROLES_FIELD] = held
            return item

        results = await asyncio.gather(*(one(raw) for raw in users))
        records: list[EvidenceItem | CollectionError] = [item for item in results if item is not None]
        return records + self.factors_unread.errors() + self.roles_unread.errors()

    async def _factors(self, data: dict[str, Any]) -> list[dict[str, Any]] | OktaApiError | None:
        """The user's factors; None when the user was deleted during the run; the error when unreadable."""
        try:
            body = await self.api.get_all(f"/api/v1/users/{data['id']}/factors")
        except OktaApiError as exc:
            return None if await user_was_deleted(self.api, data["id"], exc) else exc
        return [factor_facts(factor) for factor in body if isinstance(factor, dict)]

    def _with_factors(self, data: dict[str, Any], factors: list[dict[str, Any]] | OktaApiError) -> EvidenceItem:
        if isinstance(factors, OktaApiError):
            data["factors_source"] = "error"
            item = EvidenceItem(USER, data["login"], data)
            # The user's other facts (status, lastLogin, admin roles) are known: only the checks reading
            # the factors are left in doubt.
            self.factors_unread.mark(item, factors, data["login"])
            return item
        self.fetched += 1
        data.update(factors=factors, factors_source="fresh", factors_from_run=self.context.run_id)
        return EvidenceItem(USER, data["login"], data)

    def remember_full_sweep(self, plan: SweepPlan) -> None:
        """A complete full sweep restarts the clock of ``full_sweep_days``."""
        if plan.full and self.failed == 0:
            self.context.state.put(full_sweep_key(self.org), iso(self.context.started_at))
