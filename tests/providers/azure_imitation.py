"""A local imitation of Entra ID's token endpoint, Azure Resource Manager and Microsoft Graph v1.0.

Three TLS servers (one certificate, trusted through REQUESTS_CA_BUNDLE) so ARM and Graph have
different token audiences, as in Azure. Responses follow the documented JSON shapes: ARM
collections ``{"value": [...], "nextLink": ...}`` paged with ``$skiptoken``, Graph collections with
``@odata.nextLink``, errors ``{"error": {"code", "message"}}``. Only the requests the connector may
make are answered; anything else is a 404 or 405 that a test would notice.
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from stub import Request, Response, Stub, self_signed_cert

TENANT = "7c9d1e3a-0000-4000-8000-00000000a2e1"
CLIENT_ID = "5e0c2f7b-1111-4111-8111-0000000000c1"
CLIENT_SECRET = "imitation-client-secret-9f8e7d"
SUB_A = "aaaaaaaa-0000-4000-8000-000000000001"
SUB_B = "bbbbbbbb-0000-4000-8000-000000000002"
OWNER_ROLE = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER_ROLE = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
MCSB = "1f3afdf9-d0c9-4c3d-847f-89da613e70a8"  # the Microsoft cloud security benchmark initiative


def arm_error(status: int, code: str, message: str) -> Response:
    return status, {}, {"error": {"code": code, "message": message}}


def denied(kind: str = "AuthorizationFailed") -> dict[str, Any]:
    return {"error": {"code": kind, "message": f"The client '{CLIENT_ID}' does not have authorization ({kind})."}}


@dataclass
class Subscription:
    sub_id: str
    name: str
    state: str = "Enabled"
    storage_accounts: list[dict[str, Any]] = field(default_factory=list)
    blob_services: dict[str, Any] = field(default_factory=dict)  # account name -> body or (status, code)
    vaults: list[dict[str, Any]] = field(default_factory=list)
    vault_diagnostics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    nsgs: list[dict[str, Any]] = field(default_factory=list)
    pricings: list[dict[str, Any]] = field(default_factory=list)
    role_assignments: list[dict[str, Any]] = field(default_factory=list)
    diagnostic_settings: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] | None = None
    policy_assignments: list[dict[str, Any]] = field(default_factory=list)
    security_contacts: list[dict[str, Any]] = field(default_factory=list)
    secure_scores: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)
    site_configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # site name -> config/web body

    @property
    def scope(self) -> str:
        return f"/subscriptions/{self.sub_id}"

    def rid(self, rg: str, provider: str, name: str) -> str:
        return f"{self.scope}/resourceGroups/{rg}/providers/{provider}/{name}"

    def add_storage(
        self, name: str, rg: str = "rg-data", kind: str = "StorageV2", soft_delete_days: int | None = 7, **props: Any
    ) -> None:
        properties = {
            "provisioningState": "Succeeded",
            "supportsHttpsTrafficOnly": True,
            "allowBlobPublicAccess": False,
            "minimumTlsVersion": "TLS1_2",
            "networkAcls": {
                "defaultAction": "Deny",
                "bypass": "AzureServices",
                "ipRules": [],
                "virtualNetworkRules": [],
            },
            **props,
        }
        self.storage_accounts.append(
            {
                "id": self.rid(rg, "Microsoft.Storage/storageAccounts", name),
                "name": name,
                "type": "Microsoft.Storage/storageAccounts",
                "location": "westeurope",
                "kind": kind,
                "tags": {},
                "sku": {"name": "Standard_LRS", "tier": "Standard"},
                "properties": properties,
            }
        )
        self.blob_services[name] = {
            "id": self.rid(rg, "Microsoft.Storage/storageAccounts", name) + "/blobServices/default",
            "name": "default",
            "type": "Microsoft.Storage/storageAccounts/blobServices",
            "properties": {
                "deleteRetentionPolicy": {
                    "enabled": soft_delete_days is not None,
                    **({"days": soft_delete_days} if soft_delete_days else {}),
                },
                "isVersioningEnabled": False,
            },
        }

    def add_vault(self, name: str, rg: str = "rg-sec", audit_logs: bool = True, **props: Any) -> None:
        properties = {
            "tenantId": TENANT,
            "sku": {"family": "A", "name": "standard"},
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "enableRbacAuthorization": True,
            "enablePurgeProtection": True,
            "vaultUri": f"https://{name}.vault.azure.net/",
            **props,
        }
        props_clean = {k: v for k, v in properties.items() if v is not None}
        self.vaults.append(
            {
                "id": self.rid(rg, "Microsoft.KeyVault/vaults", name),
                "name": name,
                "type": "Microsoft.KeyVault/vaults",
                "location": "westeurope",
                "tags": {},
                "properties": props_clean,
            }
        )
        settings = []
        if audit_logs:
            settings.append(
                {
                    "id": self.rid(rg, "Microsoft.KeyVault/vaults", name)
                    + "/providers/microsoft.insights/diagnosticSettings/to-law",
                    "name": "to-law",
                    "properties": {
                        "workspaceId": f"{self.scope}/resourceGroups/rg-log/providers/"
                        "Microsoft.OperationalInsights/workspaces/law",
                        "logs": [{"categoryGroup": "audit", "enabled": True}],
                        "metrics": [],
                    },
                }
            )
        self.vault_diagnostics[name] = settings

    def add_nsg(self, name: str, rules: list[dict[str, Any]], rg: str = "rg-net") -> None:
        nsg_id = self.rid(rg, "Microsoft.Network/networkSecurityGroups", name)
        security_rules = []
        for i, r in enumerate(rules):
            props = {
                "protocol": "Tcp",
                "sourcePortRange": "*",
                "destinationAddressPrefix": "*",
                "access": "Allow",
                "priority": 100 + 10 * i,
                "direction": "Inbound",
                "provisioningState": "Succeeded",
                "sourcePortRanges": [],
                "destinationPortRanges": [],
                "sourceAddressPrefixes": [],
                "destinationAddressPrefixes": [],
                **{k: v for k, v in r.items() if k != "name"},
            }
            security_rules.append(
                {
                    "name": r["name"],
                    "id": f"{nsg_id}/securityRules/{r['name']}",
                    "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                    "properties": props,
                }
            )
        default_rules = [
            {
                "name": "DenyAllInBound",
                "id": f"{nsg_id}/defaultSecurityRules/DenyAllInBound",
                "properties": {
                    "protocol": "*",
                    "sourceAddressPrefix": "*",
                    "destinationPortRange": "*",
                    "access": "Deny",
                    "priority": 65500,
                    "direction": "Inbound",
                },
            }
        ]
        self.nsgs.append(
            {
                "id": nsg_id,
                "name": name,
                "type": "Microsoft.Network/networkSecurityGroups",
                "location": "westeurope",
                "etag": 'W/"1"',
                "properties": {
                    "provisioningState": "Succeeded",
                    "securityRules": security_rules,
                    "defaultSecurityRules": default_rules,
                },
            }
        )

    def set_pricings(self, **tiers: str) -> None:
        self.pricings = [
            {
                "id": f"{self.scope}/providers/Microsoft.Security/pricings/{plan}",
                "name": plan,
                "type": "Microsoft.Security/pricings",
                "properties": {"pricingTier": tier, "freeTrialRemainingTime": "PT0S"},
            }
            for plan, tier in tiers.items()
        ]

    def add_assignment(self, role: str, principal: str, scope: str | None = None, principal_type: str = "User") -> None:
        scope = scope if scope is not None else self.scope
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}/{role}/{principal}"))
        self.role_assignments.append(
            {
                "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
                "name": name,
                "type": "Microsoft.Authorization/roleAssignments",
                "properties": {
                    "roleDefinitionId": f"{self.scope}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                    "principalId": principal,
                    "principalType": principal_type,
                    "scope": scope,
                    "createdOn": "2024-01-10T09:00:00.0000000Z",
                },
            }
        )

    def export_activity_log(self) -> None:
        self.diagnostic_settings = [
            {
                "id": f"{self.scope}/providers/microsoft.insights/diagnosticSettings/activity-to-law",
                "name": "activity-to-law",
                "properties": {
                    "workspaceId": f"{self.scope}/resourceGroups/rg-log/providers/"
                    "Microsoft.OperationalInsights/workspaces/law",
                    "storageAccountId": None,
                    "eventHubAuthorizationRuleId": None,
                    "logs": [
                        {"category": c, "enabled": True} for c in ("Administrative", "Security", "Policy", "Alert")
                    ],
                },
            }
        ]

    def assign_policy(
        self, definition: str, name: str, *, initiative: bool = True, enforcement: str = "Default", scope: str = ""
    ) -> None:
        """A policy (or initiative) assignment at ``scope`` (default: the subscription)."""
        scope = scope or self.scope
        kind = "policySetDefinitions" if initiative else "policyDefinitions"
        self.policy_assignments.append(
            {
                "id": f"{scope}/providers/Microsoft.Authorization/policyAssignments/{name}",
                "name": name,
                "type": "Microsoft.Authorization/policyAssignments",
                "location": "westeurope",
                "identity": {"type": "None"},
                "properties": {
                    "displayName": name,
                    "policyDefinitionId": f"/providers/Microsoft.Authorization/{kind}/{definition}",
                    "definitionVersion": "1.*.*",
                    "scope": scope,
                    "notScopes": [],
                    "parameters": {},
                    "enforcementMode": enforcement,
                    "metadata": {"assignedBy": "Security Center"},
                },
            }
        )

    def set_security_contact(
        self, emails: str, *, alert_severity: str | None = "High", enabled: bool = True, roles: bool = True
    ) -> None:
        """The subscription's default contact, in the 2023-12-01-preview shape."""
        sources: list[dict[str, Any]] = [{"sourceType": "AttackPath", "minimalRiskLevel": "Critical"}]
        if alert_severity is not None:
            sources.insert(0, {"sourceType": "Alert", "minimalSeverity": alert_severity})
        self.security_contacts = [
            {
                "id": f"{self.scope}/providers/Microsoft.Security/securityContacts/default",
                "name": "default",
                "type": "Microsoft.Security/securityContacts",
                "properties": {
                    "emails": emails,
                    "phone": "",
                    "isEnabled": enabled,
                    "notificationsByRole": {"state": "On" if roles else "Off", "roles": ["Owner"] if roles else []},
                    "notificationsSources": sources,
                },
            }
        ]

    def set_secure_score(self, percentage: float, maximum: int = 58) -> None:
        """The ascScore entry (and, as in Azure, scores of other initiatives beside it)."""
        self.secure_scores = [
            {
                "id": f"{self.scope}/providers/Microsoft.Security/secureScores/{name}",
                "name": name,
                "type": "Microsoft.Security/secureScores",
                "properties": {
                    "displayName": display,
                    "score": {"max": maximum, "current": round(maximum * pct, 2), "percentage": pct},
                    "weight": 12,
                },
            }
            for name, display, pct in (("iso27001", "ISO 27001", 0.5), ("ascScore", "ASC Default", percentage))
        ]

    def add_alert(self, name: str, severity: str, status: str, generated: str) -> None:
        self.alerts.append(
            {
                "id": f"{self.scope}/resourceGroups/rg-web/providers/Microsoft.Security/locations/westeurope/"
                f"alerts/{name}",
                "name": name,
                "type": "Microsoft.Security/Locations/alerts",
                "properties": {
                    "alertDisplayName": f"Suspicious activity {name}",
                    "alertType": "VM_SuspiciousActivity",
                    "severity": severity,
                    "status": status,
                    "timeGeneratedUtc": generated,
                    "startTimeUtc": generated,
                    "compromisedEntity": "alert-entity-vm-web-01",
                    "entities": [{"type": "account", "name": "alert-entity-jdoe", "$id": "1"}],
                    "intent": "Execution",
                },
            }
        )

    def add_site(
        self,
        name: str,
        *,
        https_only: bool = True,
        min_tls: str = "1.2",
        ftps: str = "FtpsOnly",
        kind: str = "app",
        rg: str = "rg-web",
    ) -> None:
        site_id = self.rid(rg, "Microsoft.Web/sites", name)
        self.sites.append(
            {
                "id": site_id,
                "name": name,
                "type": "Microsoft.Web/sites",
                "kind": kind,
                "location": "westeurope",
                "tags": {},
                "properties": {
                    "state": "Running",
                    "defaultHostName": f"{name}.azurewebsites.net",
                    "httpsOnly": https_only,
                    "enabled": True,
                    # As in Azure, the list's siteConfig leaves the TLS and FTP settings null.
                    "siteConfig": {"minTlsVersion": None, "ftpsState": None, "numberOfWorkers": 1},
                },
            }
        )
        self.site_configs[name] = {
            "id": f"{site_id}/config/web",
            "name": name,
            "type": "Microsoft.Web/sites/config",
            "location": "westeurope",
            "properties": {
                "minTlsVersion": min_tls,
                "scmMinTlsVersion": "1.2",
                "ftpsState": ftps,
                "http20Enabled": True,
                "alwaysOn": True,
            },
        }


class AzureImitation:
    """Login + ARM + Graph imitations sharing one throwaway certificate."""

    def __init__(self, tmp_path: Path) -> None:
        self.max_attempts = 3  # tries per call (settings retry.max_attempts)
        self.cert, key = self_signed_cert(tmp_path)
        self.login, self.arm, self.graph = Stub(), Stub(), Stub()
        for server in (self.login, self.arm, self.graph):
            server.start(tls=(self.cert, key))
        self.arm_page_size = 2
        self.graph_page_size = 2
        self.subscriptions: dict[str, Subscription] = {}
        self.users: list[dict[str, Any]] = []
        self.registrations: list[dict[str, Any]] = []
        self.security_defaults: dict[str, Any] = {
            "id": "00000000-0000-0000-0000-000000000005",
            "displayName": "Security Defaults",
            "isEnabled": False,
        }
        self.ca_policies: list[dict[str, Any]] = []
        self.premium = True  # signInActivity available
        self.issued: dict[str, str] = {}  # access token -> scope
        self.token_scopes: list[str] = []
        self.page_faults: list[tuple[re.Pattern[str], int, Response]] = []  # (path, skiptoken, answer) used once
        self._ids = itertools.count(1)
        self._routes()

    # -- configuration -----------------------------------------------------------------------------

    def settings(self, subscriptions: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        """Connector settings for this imitation. Backoff without Retry-After is near zero (it would
        otherwise wait seconds per retry); Retry-After itself is still honoured."""
        return {
            "tenant_id": TENANT,
            "subscriptions": subscriptions or ["all"],
            "authority_host": self.login.base_url,
            "arm_endpoint": self.arm.base_url,
            "graph_endpoint": self.graph.base_url,
            "retry": {"max_attempts": self.max_attempts, "initial_backoff_seconds": 0.01},
            **extra,
        }

    def use_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The service principal and the trust anchor, as a deployment would set them."""
        monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
        monkeypatch.setenv("AZURE_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("AZURE_CLIENT_SECRET", CLIENT_SECRET)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", self.cert)
        monkeypatch.setenv("SSL_CERT_FILE", self.cert)

    def subscription(self, sub_id: str, name: str, state: str = "Enabled") -> Subscription:
        self.subscriptions[sub_id] = Subscription(sub_id, name, state)
        return self.subscriptions[sub_id]

    def add_user(
        self,
        upn: str,
        *,
        user_type: str = "Member",
        enabled: bool = True,
        mfa: bool = True,
        admin: bool = False,
        last_sign_in: str | None = "2026-11-20T08:00:00Z",
        created: str = "2024-02-01T10:00:00Z",
        registered: bool = True,
    ) -> str:
        object_id = str(uuid.UUID(int=next(self._ids)))
        self.users.append(
            {
                "id": object_id,
                "userPrincipalName": upn,
                "displayName": upn.split("@")[0].title(),
                "mail": upn if user_type == "Member" else None,
                "accountEnabled": enabled,
                "userType": user_type,
                "createdDateTime": created,
                "creationType": None,
                "externalUserState": "Accepted" if user_type == "Guest" else None,
                "onPremisesSyncEnabled": None,
                "signInActivity": None
                if last_sign_in is None
                else {
                    "lastSignInDateTime": last_sign_in,
                    "lastSignInRequestId": str(uuid.uuid4()),
                    "lastNonInteractiveSignInDateTime": last_sign_in,
                },
            }
        )
        if registered:
            self.registrations.append(
                {
                    "id": object_id,
                    "userPrincipalName": upn,
                    "userDisplayName": upn,
                    "userType": user_type.lower(),
                    "isAdmin": admin,
                    "isSsprRegistered": mfa,
                    "isSsprEnabled": False,
                    "isSsprCapable": mfa,
                    "isMfaRegistered": mfa,
                    "isMfaCapable": mfa,
                    "isPasswordlessCapable": False,
                    "methodsRegistered": ["microsoftAuthenticatorPush"] if mfa else [],
                    "defaultMfaMethod": "microsoftAuthenticatorPush" if mfa else "none",
                    "lastUpdatedDateTime": "2026-11-01T00:00:00Z",
                }
            )
        return object_id

    def add_ca_policy(
        self,
        name: str,
        state: str = "enabled",
        include_users: tuple[str, ...] = ("All",),
        controls: tuple[str, ...] = ("mfa",),
        *,
        operator: str = "OR",
        include_apps: tuple[str, ...] = ("All",),
        terms_of_use: tuple[str, ...] = (),
    ) -> None:
        self.ca_policies.append(
            {
                "id": str(uuid.uuid4()),
                "displayName": name,
                "state": state,
                "createdDateTime": "2024-05-01T00:00:00Z",
                "modifiedDateTime": None,
                "conditions": {
                    "users": {
                        "includeUsers": list(include_users),
                        "excludeUsers": [],
                        "includeGroups": [],
                        "excludeGroups": [],
                        "includeRoles": [],
                        "excludeRoles": [],
                    },
                    "applications": {"includeApplications": list(include_apps), "excludeApplications": []},
                    "clientAppTypes": ["all"],
                },
                "grantControls": {
                    "operator": operator,
                    "builtInControls": list(controls),
                    "customAuthenticationFactors": [],
                    "termsOfUse": list(terms_of_use),
                    "authenticationStrength": None,
                },
                "sessionControls": None,
            }
        )

    def fail_page(self, server: Stub, path: str, skiptoken: int, answer: Response) -> None:
        """The page starting at ``skiptoken`` of ``path`` answers ``answer`` once (a mid-pagination fault)."""
        self.page_faults.append((re.compile(f"{server.base_url}{path}$"), skiptoken, answer))

    def stop(self) -> None:
        for server in (self.login, self.arm, self.graph):
            server.stop()

    # -- HTTP -------------------------------------------------------------------------------------

    def _routes(self) -> None:
        self.login.route("GET", rf"/{TENANT}/v2\.0/\.well-known/openid-configuration", self._openid)
        self.login.route("POST", rf"/{TENANT}/oauth2/v2\.0/token", self._token)
        sub = r"/subscriptions/(?P<sub>[^/]+)"
        rg = sub + r"/resourceGroups/[^/]+/providers"
        arm = [
            (r"/subscriptions", self._list_subscriptions),
            (sub, self._get_subscription),
            (
                sub + r"/providers/Microsoft\.Storage/storageAccounts",
                lambda r, sub: self._collection(r, sub, "storage_accounts"),
            ),
            (rg + r"/Microsoft\.Storage/storageAccounts/(?P<name>[^/]+)/blobServices/default", self._blob_service),
            (sub + r"/providers/Microsoft\.KeyVault/vaults", lambda r, sub: self._collection(r, sub, "vaults")),
            (
                rg + r"/Microsoft\.KeyVault/vaults/(?P<name>[^/]+)/providers/Microsoft\.Insights/diagnosticSettings",
                self._vault_diagnostics,
            ),
            (
                sub + r"/providers/Microsoft\.Network/networkSecurityGroups",
                lambda r, sub: self._collection(r, sub, "nsgs"),
            ),
            (
                sub + r"/providers/Microsoft\.Security/pricings",
                lambda r, sub: self._collection(r, sub, "pricings", paged=False),
            ),
            (sub + r"/providers/Microsoft\.Authorization/roleAssignments", self._role_assignments),
            (sub + r"/providers/Microsoft\.Authorization/policyAssignments", self._policy_assignments),
            (
                sub + r"/providers/Microsoft\.Security/securityContacts",
                lambda r, sub: self._collection(r, sub, "security_contacts"),
            ),
            (
                sub + r"/providers/Microsoft\.Security/secureScores",
                lambda r, sub: self._collection(r, sub, "secure_scores"),
            ),
            (sub + r"/providers/Microsoft\.Security/alerts", lambda r, sub: self._collection(r, sub, "alerts")),
            (sub + r"/providers/Microsoft\.Web/sites", lambda r, sub: self._collection(r, sub, "sites")),
            (rg + r"/Microsoft\.Web/sites/(?P<name>[^/]+)/config/web", self._site_config),
            (sub + r"/providers/Microsoft\.Authorization/roleDefinitions", self._role_definitions),
            (
                sub + r"/providers/Microsoft\.Insights/diagnosticSettings",
                lambda r, sub: self._collection(r, sub, "diagnostic_settings", paged=False),
            ),
        ]
        for pattern, handler in arm:
            self.arm.route("GET", pattern, self._guard(self.arm, handler, api_version=True))
        graph = [
            (r"/v1\.0/users", self._users),
            (
                r"/v1\.0/reports/authenticationMethods/userRegistrationDetails",
                lambda r: self._graph_page(r, self.registrations),
            ),
            (r"/v1\.0/identity/conditionalAccess/policies", lambda r: self._graph_page(r, self.ca_policies)),
            (r"/v1\.0/policies/identitySecurityDefaultsEnforcementPolicy", lambda r: self.security_defaults),
        ]
        for pattern, handler in graph:
            self.graph.route("GET", pattern, self._guard(self.graph, handler, api_version=False))

    def _openid(self, req: Request) -> dict[str, Any]:
        base = f"{req.base_url}/{TENANT}"
        return {
            "issuer": f"{base}/v2.0",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "token"],
            "tenant_region_scope": "EU",
        }

    def _token(self, req: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {}, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."}
        scope = form.get("scope", "")
        self.token_scopes.append(scope)
        token = f"tok-{uuid.uuid4().hex}"
        self.issued[token] = scope
        return 200, {}, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}

    def _guard(self, server: Stub, handler: Any, api_version: bool) -> Any:
        audience = f"{server.base_url}/.default"

        def guarded(req: Request, **groups: str) -> Any:
            token = req.headers.get("authorization", "").removeprefix("Bearer ")
            if self.issued.get(token) != audience:
                return 401, {}, {"error": {"code": "InvalidAuthenticationToken", "message": "bad audience or token"}}
            if api_version and "api-version" not in req.query:
                return arm_error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
            for pattern, skiptoken, answer in list(self.page_faults):
                if pattern.match(req.base_url + req.path) and int(req.query.get("$skiptoken", 0)) == skiptoken:
                    self.page_faults.remove((pattern, skiptoken, answer))
                    return answer
            return handler(req, **groups)

        return guarded

    def _page(self, req: Request, items: list[Any], size: int, link_key: str) -> dict[str, Any]:
        start = int(req.query.get("$skiptoken", 0))
        body: dict[str, Any] = {"value": items[start : start + size]}
        if start + size < len(items):
            query = {**req.query, "$skiptoken": str(start + size)}
            body[link_key] = f"{req.base_url}{req.path}?{urlencode(query)}"
        return body

    def _sub(self, sub_id: str) -> Subscription | None:
        return self.subscriptions.get(sub_id)

    def _sub_body(self, s: Subscription) -> dict[str, Any]:
        return {
            "id": s.scope,
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": s.sub_id,
            "tenantId": TENANT,
            "displayName": s.name,
            "state": s.state,
            **({"tags": s.tags} if s.tags is not None else {}),
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
        }

    def _list_subscriptions(self, req: Request) -> Any:
        return self._page(req, [self._sub_body(s) for s in self.subscriptions.values()], self.arm_page_size, "nextLink")

    def _get_subscription(self, req: Request, sub: str) -> Any:
        s = self._sub(sub)
        if s is None:
            return arm_error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        return self._sub_body(s)

    def _collection(self, req: Request, sub: str, attr: str, paged: bool = True) -> Any:
        s = self._sub(sub)
        if s is None:
            return arm_error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        items = getattr(s, attr)
        return self._page(req, items, self.arm_page_size, "nextLink") if paged else {"value": items}

    def _blob_service(self, req: Request, sub: str, name: str) -> Any:
        answer = self.subscriptions[sub].blob_services.get(name)
        if answer is None:
            return arm_error(404, "ResourceNotFound", "The Resource was not found.")
        if isinstance(answer, tuple):
            return arm_error(*answer)
        return answer

    def _vault_diagnostics(self, req: Request, sub: str, name: str) -> Any:
        return {"value": self.subscriptions[sub].vault_diagnostics.get(name, [])}

    def _role_assignments(self, req: Request, sub: str) -> Any:
        if req.query.get("$filter") != "atScope()":
            return arm_error(400, "UnsupportedQuery", "this imitation answers $filter=atScope() only")
        return self._page(req, self.subscriptions[sub].role_assignments, self.arm_page_size, "nextLink")

    def _policy_assignments(self, req: Request, sub: str) -> Any:
        if req.query.get("$filter") != "atScope()":
            return arm_error(400, "UnsupportedQuery", "this imitation answers $filter=atScope() only")
        return self._collection(req, sub, "policy_assignments")

    def _site_config(self, req: Request, sub: str, name: str) -> Any:
        config = self.subscriptions[sub].site_configs.get(name)
        if config is None:
            return arm_error(404, "ResourceNotFound", f"The Resource 'Microsoft.Web/sites/{name}' was not found.")
        return config

    def _role_definitions(self, req: Request, sub: str) -> Any:
        definitions = [
            (OWNER_ROLE, "Owner"),
            (READER_ROLE, "Reader"),
            ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"),
        ]
        return self._page(
            req,
            [
                {
                    "id": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
                    "name": guid,
                    "type": "Microsoft.Authorization/roleDefinitions",
                    "properties": {"roleName": role, "type": "BuiltInRole", "assignableScopes": ["/"]},
                }
                for guid, role in definitions
            ],
            self.arm_page_size,
            "nextLink",
        )

    def _graph_page(self, req: Request, items: list[Any]) -> Any:
        size = min(int(req.query.get("$top", 100)), self.graph_page_size)
        return {"@odata.context": f"{req.base_url}/v1.0/$metadata", **self._page(req, items, size, "@odata.nextLink")}

    def _users(self, req: Request) -> Any:
        select = str(req.query.get("$select", "")).split(",")
        if "signInActivity" in select and not self.premium:
            return (
                403,
                {},
                {
                    "error": {
                        "code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                        "message": "Neither tenant is B2C or tenant doesn't have premium license",
                    }
                },
            )
        rows = [{k: v for k, v in u.items() if not select or k in select} for u in self.users]
        return self._graph_page(req, rows)
