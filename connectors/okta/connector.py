"""The Okta connector: one organization's users, factors, policies, admin roles and inventory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from connectors.base import (
    CollectionError,
    Connector,
    ConnectorError,
    EvidenceItem,
    EvidenceKind,
)

from .admin import admin_aggregate, read_role_assignments, role_types_by_user
from .client import Api, OktaApiError, build_client
from .directory import collect_directory
from .incremental import plan_sweep
from .kinds import ADMIN_ROLES, EVIDENCE_KINDS, ORG, PERMISSIONS, USER
from .policies import collect_policies
from .settings import OktaSettings
from .users import FactorSweep, list_users

ADMIN_ROLES_FIELD = "admin_roles"  # the okta.user field joined from the role assignments

Record = EvidenceItem | CollectionError


class OktaConnector(Connector[OktaSettings]):
    name = "okta"
    extra = "okta"
    settings_model = OktaSettings
    evidence_kinds: ClassVar[tuple[EvidenceKind, ...]] = EVIDENCE_KINDS
    permissions: ClassVar[tuple[str, ...]] = PERMISSIONS

    def collect(self) -> Iterator[EvidenceItem | CollectionError]:
        settings = self.settings
        client = build_client(settings)
        # The SDK is asyncio-only; the engine runs each connector in its own thread, so a private loop is safe.
        yield from asyncio.run(self._collect(client, settings))

    async def _collect(self, client: Any, settings: OktaSettings) -> list[Record]:
        org = settings.host
        progress = self.context.progress
        records: list[Record] = []
        async with client:
            api = Api(client, self.context, settings)
            progress(f"okta: reading users of {org}")
            users: list[dict[str, Any]] | None
            try:
                users = await list_users(api, settings.page_limit)
            except OktaApiError as exc:
                _stop_on_bad_credentials(org, exc)
                records.append(CollectionError(USER, f"{org}: users: {exc.reason}"))
                users = None
            progress(f"okta: reading admin role assignments of {org}")
            assignments: dict[str, list[dict[str, Any]]] | None
            try:
                user_ids = [user["id"] for user in users] if users is not None else None
                assignments = await read_role_assignments(
                    api, settings.page_limit, settings.factor_concurrency, user_ids
                )
            except OktaApiError as exc:
                _stop_on_bad_credentials(org, exc)
                records.append(CollectionError(ADMIN_ROLES, f"{org}: admin role assignments: {exc.reason}"))
                if users is not None:
                    # The users are still yielded with admin_roles null: only checks reading it are in doubt.
                    records.append(
                        CollectionError(USER, f"{org}: admin roles of users: {exc.reason}", fields=(ADMIN_ROLES_FIELD,))
                    )
                assignments = None
            if assignments is not None:
                users_by_id = {user["id"]: user for user in users or []}
                records.append(EvidenceItem(ADMIN_ROLES, org, admin_aggregate(org, assignments, users_by_id)))
            if users is not None:
                records += await self._users(api, org, users, assignments, settings)
            progress(f"okta: reading policies of {org}")
            policies = await collect_policies(api, org, settings.page_limit, settings.factor_concurrency)
            records += policies.records
            if policies.mfa_enroll is not None:
                org_data = {"host": org, "org_url": settings.org_url, "mfa_enroll_policies": policies.mfa_enroll}
                records.append(EvidenceItem(ORG, org, org_data))
            progress(f"okta: reading groups, authenticators and applications of {org}")
            records += await collect_directory(api, org, settings.page_limit)
        self.context.log.info(
            "okta %s: %d requests, %d retried, %d paced to stay under the rate limit",
            org,
            api.requests_sent,
            api.retries,
            api.slowdowns,
        )
        return records

    async def _users(
        self,
        api: Api,
        org: str,
        users: list[dict[str, Any]],
        assignments: dict[str, list[dict[str, Any]]] | None,
        settings: OktaSettings,
    ) -> list[Record]:
        plan = await plan_sweep(api, self.context, org, settings.full_sweep_days)
        mode = "full factor sweep" if plan.full else "incremental factor sweep"
        self.context.progress(f"okta: {mode} over {len(users)} users ({plan.reason})")
        sweep = FactorSweep(api, self.context, org, settings.factor_concurrency)
        roles = role_types_by_user(assignments) if assignments is not None else None
        records = await sweep.items(users, plan, roles)
        sweep.remember_full_sweep(plan)
        self.context.progress(
            f"okta: factors fetched for {sweep.fetched} users, carried over for {sweep.carried}, "
            f"failed for {sweep.failed}" + (f"; {len(sweep.gone)} users deleted during the run" if sweep.gone else "")
        )
        return records

    @classmethod
    def simulated_estate(cls, now: datetime) -> Iterator[EvidenceItem | CollectionError]:
        from .demo import simulated_estate

        return simulated_estate(now)


def _stop_on_bad_credentials(org: str, exc: OktaApiError) -> None:
    """A refused token fails every kind alike: stop the connector with one clear message."""
    if exc.status == 401 and exc.code != "E0000015":
        raise ConnectorError(f"okta {org}: authentication failed ({exc.reason})") from None


__all__ = ["OktaConnector"]
