"""Microsoft Graph v1.0 evidence: the tenant's MFA policies and its users with MFA registration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from . import kinds
from .client import Api, AzureApiError

Record = EvidenceItem | CollectionError

USER_FIELDS = (
    "id,userPrincipalName,displayName,mail,accountEnabled,userType,createdDateTime,"
    "creationType,externalUserState,onPremisesSyncEnabled"
)
# signInActivity needs Entra ID P1/P2 (and AuditLog.Read.All); tenants without it refuse the whole
# request, so it is asked for separately from the fields every tenant has.
PREMIUM_REQUIRED = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


def collect_tenant(graph: Api, tenant_id: str) -> Iterator[Record]:
    data: dict[str, Any] = {"tenant_id": tenant_id, "security_defaults": None, "conditional_access_policies": None}
    try:
        data["security_defaults"] = graph.get("/v1.0/policies/identitySecurityDefaultsEnforcementPolicy")
    except AzureApiError as exc:
        yield CollectionError(kinds.TENANT, f"tenant {tenant_id}: security defaults: {exc}", ("security_defaults",))
    try:
        data["conditional_access_policies"] = list(graph.list("/v1.0/identity/conditionalAccess/policies"))
    except AzureApiError as exc:
        yield CollectionError(
            kinds.TENANT, f"tenant {tenant_id}: conditional access policies: {exc}", ("conditional_access_policies",)
        )
    yield EvidenceItem(kinds.TENANT, tenant_id, data)


def _list_users(graph: Api) -> tuple[list[dict[str, Any]], bool]:
    """All users, with signInActivity when the tenant provides it; (users, sign-ins included)."""
    try:
        select = f"{USER_FIELDS},signInActivity"
        # Graph caps pages at 120 users when signInActivity is selected.
        return list(graph.list("/v1.0/users", {"$select": select, "$top": "120"})), True
    except AzureApiError as exc:
        if exc.code != PREMIUM_REQUIRED:
            raise
    return list(graph.list("/v1.0/users", {"$select": USER_FIELDS, "$top": "999"})), False


def collect_users(graph: Api, tenant_id: str) -> Iterator[Record]:
    try:
        users, with_sign_ins = _list_users(graph)
    except AzureApiError as exc:
        yield CollectionError(kinds.USER, f"tenant {tenant_id}: users: {exc}")
        return
    registrations: dict[str, dict[str, Any]] | None
    try:
        registrations = {
            str(r.get("id")): r for r in graph.list("/v1.0/reports/authenticationMethods/userRegistrationDetails")
        }
    except AzureApiError as exc:
        registrations = None
        # Users are still listed: only the checks reading mfa_registration are left without facts.
        yield CollectionError(kinds.USER, f"tenant {tenant_id}: MFA registration details: {exc}", ("mfa_registration",))
    for user in users:
        data = {**user, "tenant_id": tenant_id}
        if with_sign_ins:
            # null = never signed in; the key stays absent when the tenant cannot report sign-ins,
            # so a check that needs it errors instead of mistaking "unknown" for "never".
            data.setdefault("signInActivity", None)
        data["mfa_registration"] = None if registrations is None else registrations.get(str(user.get("id")))
        yield EvidenceItem(kinds.USER, str(user.get("userPrincipalName") or user.get("id")), data)
