"""A small simulated Azure tenant for `annexa demo`: same kinds and shapes as collect(), no network."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from . import kinds
from .arm import inbound_allow_rules

TENANT = "3f2a9c1e-5b7d-4e60-9a11-d3e0c0ffee01"
PROD = "6d1e0b7a-2c4f-4a8e-b5d2-0c9f1e2a3b4c"
DEV = "9a8b7c6d-5e4f-4321-8abc-def012345678"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
MCSB = "1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
TERMS_OF_USE = "c0ffee00-7e2a-4d1b-9a3c-5a1e0ac2b0a1"


@dataclass(frozen=True)
class Posture:
    """The Defender for Cloud and governance facts of one demo subscription."""

    tags: dict[str, str]
    cspm: bool
    baseline_enforced: bool
    score: float
    alerts: tuple[tuple[str, str, str, int], ...]  # (display name, severity, status, age in days)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _rid(sub: str, rg: str, provider: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{name}"


def _posture(scope: str, posture: Posture, now: datetime) -> dict[str, Any]:
    security = f"{scope}/providers/Microsoft.Security"
    percentage = round(posture.score, 4)
    return {
        "tags": posture.tags,
        "policy_assignments": [
            {
                "id": f"{scope}/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn",
                "name": "SecurityCenterBuiltIn",
                "type": "Microsoft.Authorization/policyAssignments",
                "properties": {
                    "displayName": "ASC Default (subscription: " + scope.rsplit("/", 1)[-1] + ")",
                    "policyDefinitionId": f"/providers/Microsoft.Authorization/policySetDefinitions/{MCSB}",
                    "scope": scope,
                    "enforcementMode": "Default" if posture.baseline_enforced else "DoNotEnforce",
                },
            }
        ],
        "security_contacts": [
            {
                "id": f"{security}/securityContacts/default",
                "name": "default",
                "type": "Microsoft.Security/securityContacts",
                "properties": {
                    "emails": "secops@example.eu",
                    "isEnabled": True,
                    "notificationsByRole": {"state": "On", "roles": ["Owner"]},
                    "notificationsSources": [{"sourceType": "Alert", "minimalSeverity": "Medium"}],
                },
            }
        ],
        "secure_score": {
            "id": f"{security}/secureScores/ascScore",
            "name": "ascScore",
            "type": "Microsoft.Security/secureScores",
            "properties": {
                "displayName": "ASC Default",
                "score": {"max": 58, "current": round(58 * percentage, 2), "percentage": percentage},
                "weight": 12,
            },
        },
        "security_alerts": [
            {
                "id": f"{security}/locations/westeurope/alerts/{scope[-4:]}-{n:04d}",
                "name": f"{scope[-4:]}-{n:04d}",
                "alertDisplayName": display,
                "severity": severity,
                "status": status,
                "timeGeneratedUtc": _iso(now - timedelta(days=age)),
            }
            for n, (display, severity, status, age) in enumerate(posture.alerts)
        ],
    }


def _subscription(
    sub: str, name: str, tiers: dict[str, str], owners: int, exported: bool, posture: Posture, now: datetime
) -> EvidenceItem:
    scope = f"/subscriptions/{sub}"
    assignments = [
        {
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{n:08d}-0000-4000-8000-000000000000",
            "name": f"{n:08d}-0000-4000-8000-000000000000",
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "roleDefinitionId": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
                "principalId": f"{n:08d}-1111-4111-8111-111111111111",
                "principalType": "User",
                "scope": scope,
            },
            "role_definition_name": "Owner",
        }
        for n in range(owners)
    ]
    diagnostics = (
        [
            {
                "id": f"{scope}/providers/microsoft.insights/diagnosticSettings/activity-log",
                "name": "activity-log",
                "properties": {
                    "workspaceId": f"{scope}/resourceGroups/rg-logs/providers/"
                    "Microsoft.OperationalInsights/workspaces/law",
                    "logs": [
                        {"category": c, "enabled": True} for c in ("Administrative", "Security", "Policy", "Alert")
                    ],
                },
            }
        ]
        if exported
        else []
    )
    return EvidenceItem(
        kinds.SUBSCRIPTION,
        scope,
        {
            "id": scope,
            "subscriptionId": sub,
            "displayName": name,
            "state": "Enabled",
            "tenantId": TENANT,
            "defender_plans": [
                {
                    "id": f"{scope}/providers/Microsoft.Security/pricings/{plan}",
                    "name": plan,
                    "properties": {"pricingTier": tier},
                }
                for plan, tier in {**tiers, **({"CloudPosture": "Standard"} if posture.cspm else {})}.items()
            ],
            "role_assignments": assignments,
            "diagnostic_settings": diagnostics,
            **_posture(scope, posture, now),
        },
    )


def _storage(
    sub: str, name: str, *, secure: bool, soft_delete: bool, tags: dict[str, str], sku: str = "Standard_ZRS"
) -> EvidenceItem:
    rid = _rid(sub, "rg-data", "Microsoft.Storage/storageAccounts", name)
    props: dict[str, Any] = {
        "supportsHttpsTrafficOnly": secure,
        "allowBlobPublicAccess": not secure,
        "minimumTlsVersion": "TLS1_2" if secure else "TLS1_0",
        "networkAcls": {"defaultAction": "Deny" if secure else "Allow", "bypass": "AzureServices"},
        "publicNetworkAccess": "Enabled",
    }
    blob = {"properties": {"deleteRetentionPolicy": {"enabled": soft_delete, **({"days": 14} if soft_delete else {})}}}
    data = {
        "id": rid,
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": "westeurope",
        "kind": "StorageV2",
        "sku": {"name": sku, "tier": "Standard"},
        "tags": tags,
        "properties": props,
        "subscription_id": sub,
        "resource_group": "rg-data",
        "blob_service": blob,
    }
    return EvidenceItem(kinds.STORAGE_ACCOUNT, rid, data)


def _vault(sub: str, name: str, *, protected: bool, tags: dict[str, str]) -> EvidenceItem:
    rid = _rid(sub, "rg-security", "Microsoft.KeyVault/vaults", name)
    props: dict[str, Any] = {"tenantId": TENANT, "enableSoftDelete": True, "enableRbacAuthorization": True}
    if protected:
        props["enablePurgeProtection"] = True
    logs = [{"properties": {"workspaceId": "law", "logs": [{"categoryGroup": "audit", "enabled": True}]}}]
    data = {
        "id": rid,
        "name": name,
        "type": "Microsoft.KeyVault/vaults",
        "location": "westeurope",
        "tags": tags,
        "properties": props,
        "subscription_id": sub,
        "resource_group": "rg-security",
        "diagnostic_settings": logs if protected else [],
    }
    return EvidenceItem(kinds.KEY_VAULT, rid, data)


def _nsg(sub: str, name: str, source: str, port: str) -> EvidenceItem:
    rid = _rid(sub, "rg-network", "Microsoft.Network/networkSecurityGroups", name)
    rules = [
        {
            "name": "inbound-admin",
            "properties": {
                "protocol": "Tcp",
                "sourceAddressPrefix": source,
                "destinationPortRange": port,
                "access": "Allow",
                "priority": 100,
                "direction": "Inbound",
            },
        }
    ]
    data = {
        "id": rid,
        "name": name,
        "type": "Microsoft.Network/networkSecurityGroups",
        "location": "westeurope",
        "properties": {"securityRules": rules, "defaultSecurityRules": []},
        "subscription_id": sub,
        "resource_group": "rg-network",
        "inbound_allow_rules": inbound_allow_rules(rules),
    }
    return EvidenceItem(kinds.NSG, rid, data)


def _site(sub: str, name: str, *, min_tls: str, ftps: str) -> EvidenceItem:
    rid = _rid(sub, "rg-web", "Microsoft.Web/sites", name)
    data = {
        "id": rid,
        "name": name,
        "type": "Microsoft.Web/sites",
        "kind": "app,linux",
        "location": "westeurope",
        "tags": {},
        "properties": {"state": "Running", "defaultHostName": f"{name}.azurewebsites.net", "httpsOnly": True},
        "subscription_id": sub,
        "resource_group": "rg-web",
        "site_config": {
            "id": f"{rid}/config/web",
            "name": name,
            "type": "Microsoft.Web/sites/config",
            "properties": {"minTlsVersion": min_tls, "scmMinTlsVersion": "1.2", "ftpsState": ftps},
        },
    }
    return EvidenceItem(kinds.WEB_SITE, rid, data)


def _ca_policy(name: str, apps: list[str], controls: list[str], terms: list[str]) -> dict[str, Any]:
    return {
        "displayName": name,
        "state": "enabled",
        "conditions": {
            "users": {"includeUsers": ["All"], "excludeUsers": []},
            "applications": {"includeApplications": apps, "excludeApplications": []},
        },
        "grantControls": {
            "operator": "OR",
            "builtInControls": controls,
            "termsOfUse": terms,
            "authenticationStrength": None,
        },
    }


def _user(
    upn: str, now: datetime, *, guest: bool = False, mfa: bool = True, admin: bool = False, idle_days: int = 2
) -> EvidenceItem:
    object_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, upn))
    data = {
        "id": object_id,
        "userPrincipalName": upn,
        "displayName": upn.split("@")[0],
        "accountEnabled": True,
        "userType": "Guest" if guest else "Member",
        "createdDateTime": _iso(now - timedelta(days=400)),
        "signInActivity": {"lastSignInDateTime": _iso(now - timedelta(days=idle_days))},
        "tenant_id": TENANT,
        "mfa_registration": {
            "id": object_id,
            "userPrincipalName": upn,
            "isAdmin": admin,
            "isMfaRegistered": mfa,
            "methodsRegistered": ["microsoftAuthenticatorPush"] if mfa else [],
        },
    }
    return EvidenceItem(kinds.USER, upn, data)


def simulated_estate(now: datetime) -> Iterator[EvidenceItem | CollectionError]:
    yield _subscription(
        PROD,
        "Production",
        {"VirtualMachines": "Standard", "StorageAccounts": "Standard", "SqlServers": "Standard"},
        owners=2,
        exported=True,
        posture=Posture(
            tags={"environment": "production", "cost-center": "payments"},
            cspm=True,
            baseline_enforced=True,
            score=0.8147,
            alerts=(
                ("Suspicious PowerShell command line", "High", "Active", 1),
                ("Anomalous key vault access", "High", "Resolved", 40),
                ("Unusual storage access from a new IP", "Medium", "Dismissed", 12),
            ),
        ),
        now=now,
    )
    yield _subscription(
        DEV,
        "Development",
        {"VirtualMachines": "Free", "StorageAccounts": "Standard", "SqlServers": "Free"},
        owners=5,
        exported=False,
        # Tagged with a key of its own ("env"), scanned but never enforced, and an alert nobody picked up.
        posture=Posture(
            tags={"env": "dev"},
            cspm=False,
            baseline_enforced=False,
            score=0.5862,
            alerts=(("Communication with a known malicious IP", "High", "Active", 12),),
        ),
        now=now,
    )
    yield _storage(
        PROD,
        "stprodinvoices",
        secure=True,
        soft_delete=True,
        tags={"data-classification": "confidential", "tier": "critical"},
        sku="Standard_RAGZRS",
    )
    yield _storage(
        PROD,
        "stprodsessions",
        secure=True,
        soft_delete=True,
        tags={"data-classification": "internal", "tier": "critical"},
    )
    yield _storage(DEV, "stdevscratch", secure=False, soft_delete=False, tags={})
    yield _vault(PROD, "kv-prod-payments", protected=True, tags={"data-classification": "restricted"})
    yield _vault(DEV, "kv-dev-shared", protected=False, tags={})
    yield _site(PROD, "app-prod-shop", min_tls="1.2", ftps="Disabled")
    yield _site(DEV, "app-dev-preview", min_tls="1.0", ftps="AllAllowed")
    yield _nsg(PROD, "nsg-prod-web", "VirtualNetwork", "22")
    yield _nsg(DEV, "nsg-dev-jumpbox", "Internet", "3389")
    yield CollectionError(
        kinds.ROLE_ASSIGNMENT,
        f"subscription {DEV}: role assignments: 403 AuthorizationFailed: "
        "the collector lacks Reader on this subscription's role assignments",
    )
    yield EvidenceItem(
        kinds.TENANT,
        TENANT,
        {
            "tenant_id": TENANT,
            "security_defaults": {"isEnabled": False},
            "conditional_access_policies": [
                _ca_policy("Require MFA for all users", ["All"], ["mfa"], []),
                _ca_policy(
                    "Require a compliant or hybrid-joined device",
                    ["All"],
                    ["compliantDevice", "domainJoinedDevice"],
                    [],
                ),
                _ca_policy("Accept the acceptable-use policy", ["All"], [], [TERMS_OF_USE]),
            ],
        },
    )
    yield _user("amelie.schmidt@example.eu", now, admin=True)
    yield _user("jonas.weber@example.eu", now, mfa=False)
    yield _user("lena.fischer@example.eu", now, admin=True, mfa=False)
    yield _user("auditor_partner.example#EXT#@example.onmicrosoft.com", now, guest=True, mfa=False, idle_days=5)
    yield _user("contractor_old.example#EXT#@example.onmicrosoft.com", now, guest=True, mfa=False, idle_days=200)
