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
from .posture import collect_posture
from .settings import OktaSettings
from .users import FactorSweep, UserRoles, list_users

Record = EvidenceItem | CollectionError


class OktaConnector(Connector[OktaSettings]):
    name = "okta"
    extra = "okta"
    settings_model = OktaSettings
    evidence_kinds: ClassVar[tuple[EvidenceKind, ...]] = EVIDENCE_KINDS
    permissions: ClassVar[tuple[str, ...]] = PERMISSIONS
    # The okta SDK merges OKTA_CLIENT_<KEY> variables into its configuration (okta/config/config_setter.py):
    # the token, the private key (a PEM, a JWK or the path of a PEM file) and the proxy password are secrets.
    # OKTA_API_TOKEN and OKTA_PRIVATE_KEY are the names docs/okta.md gives the token and the service-app key.
    secret_env: ClassVar[tuple[str, ...]] = (
        "OKTA_API_TOKEN",
        "OKTA_PRIVATE_KEY",
        "OKTA_CLIENT_TOKEN",
        "OKTA_CLIENT_PRIVATEKEY",
        "OKTA_CLIENT_PROXY_PASSWORD",
    )
    secret_file_env: ClassVar[tuple[str, ...]] = ("OKTA_PRIVATE_KEY", "OKTA_CLIENT_PRIVATEKEY")

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
            roles = await self._roles(api, org, users, settings, records)
            if users is not None:
                records += await self._users(api, org, users, roles, settings)
            progress(f"okta: reading policies of {org}")
            policies = await collect_policies(api, org, settings.page_limit, settings.factor_concurrency)
            records += policies.records
            progress(f"okta: reading device assurance and ThreatInsight settings of {org}")
            posture = await collect_posture(api, org)
            records += posture.records
            if policies.mfa_enroll is not None:
                org_data = {"host": org, "org_url": settings.org_url, "mfa_enroll_policies": policies.mfa_enroll}
                org_item = EvidenceItem(ORG, org, {**org_data, **posture.org_facts})
                for name, reason in posture.org_unknown.items():
                    org_item.mark_unknown(name, reason)
                records.append(org_item)
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

    async def _roles(
        self,
        api: Api,
        org: str,
        users: list[dict[str, Any]] | None,
        settings: OktaSettings,
        records: list[Record],
    ) -> UserRoles:
        """The org's role assignments item (when every holder's roles were read) and each user's role types."""
        try:
            user_ids = [user["id"] for user in users] if users is not None else None
            assignments = await read_role_assignments(api, settings.page_limit, settings.factor_concurrency, user_ids)
        except OktaApiError as exc:
            _stop_on_bad_credentials(org, exc)
            # The users are still yielded with admin_roles unknown: only checks reading it are in doubt.
            records.append(CollectionError(ADMIN_ROLES, f"{org}: admin role assignments: {exc.reason}"))
            return UserRoles(all_failed=exc)
        if assignments.failed:
            # One holder's roles unknown: the SUPER_ADMIN count could be too low, so the aggregate is not yielded.
            first = next(iter(assignments.failed.values()))
            records.append(
                CollectionError(
                    ADMIN_ROLES,
                    f"{org}: admin role assignments: the roles of {len(assignments.failed)} of the role holders "
                    f"could not be read: {first.reason}",
                )
            )
        else:
            users_by_id = {user["id"]: user for user in users or []}
            records.append(EvidenceItem(ADMIN_ROLES, org, admin_aggregate(org, assignments.roles, users_by_id)))
        return UserRoles(role_types_by_user(assignments.roles), dict(assignments.failed))

    async def _users(
        self,
        api: Api,
        org: str,
        users: list[dict[str, Any]],
        roles: UserRoles,
        settings: OktaSettings,
    ) -> list[Record]:
        plan = await plan_sweep(api, self.context, org, settings.full_sweep_days)
        mode = "full factor sweep" if plan.full else "incremental factor sweep"
        self.context.progress(f"okta: {mode} over {len(users)} users ({plan.reason})")
        sweep = FactorSweep(api, self.context, org, settings.factor_concurrency)
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
    """A refused token, or no OAuth access token at all, fails every kind alike: stop the connector with
    one clear message instead of one error per request."""
    if exc.token:
        raise ConnectorError(f"okta {org}: could not obtain an OAuth access token ({exc.reason})") from None
    if exc.status == 401 and exc.code != "E0000015":
        raise ConnectorError(f"okta {org}: authentication failed ({exc.reason})") from None


__all__ = ["OktaConnector"]
