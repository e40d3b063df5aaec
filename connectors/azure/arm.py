"""ARM evidence, one subscription at a time: the subscription itself and its resources.

Every function returns complete lists or raises :class:`AzureApiError`; the per-subscription
collector turns those into ``CollectionError`` records for the kind concerned.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from . import kinds
from .client import Api, AzureApiError

API_SUBSCRIPTIONS = "2022-12-01"
API_STORAGE = "2023-05-01"
API_KEYVAULT = "2023-07-01"
API_NETWORK = "2023-09-01"
API_SECURITY_PRICINGS = "2024-01-01"
API_AUTHORIZATION = "2022-04-01"
API_DIAGNOSTIC_SETTINGS = "2021-05-01-preview"
API_POLICY_ASSIGNMENTS = "2023-04-01"
# The newest version; its contacts carry notificationsSources[] (sourceType Alert + minimalSeverity) in
# place of 2020-01-01-preview's alertNotifications {state, minimalSeverity}.
API_SECURITY_CONTACTS = "2023-12-01-preview"
API_SECURE_SCORES = "2020-01-01"
API_SECURITY_ALERTS = "2022-01-01"
API_WEB = "2023-12-01"
# Defender for Cloud's score of its default initiative (the Microsoft cloud security benchmark).
ASC_SCORE = "ascScore"
# What an alert verdict needs. The rest of an alert (entities, command lines, user and host names,
# remediation text) is personal or sensitive data that evidence has no use for and must not keep.
ALERT_FIELDS = ("alertDisplayName", "severity", "status", "timeGeneratedUtc")

Record = EvidenceItem | CollectionError
# A file-only account has no blob service: ARM answers 409 FeatureNotSupportedForAccount (400 or 404
# on some API versions). Only then is a refusal the fact "no blob service"; on any other account the
# same answer is a failure to read, reported against `blob_service` alone.
_NOT_SUPPORTED = (400, 404, 409)
_NOT_SUPPORTED_CODE = "FeatureNotSupportedForAccount"
_ACCOUNTS_WITHOUT_BLOBS = ("FileStorage",)
# Built-in role definitions have the same id in every tenant (and a custom role cannot take a built-in
# name): enough to name the roles that matter for access control when roleDefinitions cannot be read.
BUILTIN_ROLE_NAMES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}


def list_subscriptions(arm: Api, requested: list[str] | None) -> tuple[list[dict[str, Any]], list[Record]]:
    """The subscriptions to collect: every Enabled one the identity sees, or the listed ids."""
    if requested is None:
        subs = list(arm.list("/subscriptions", {"api-version": API_SUBSCRIPTIONS}))
        return [s for s in subs if s.get("state") == "Enabled"], []
    found: list[dict[str, Any]] = []
    errors: list[Record] = []
    for sub_id in requested:
        try:
            found.append(arm.get(f"/subscriptions/{sub_id}", {"api-version": API_SUBSCRIPTIONS}))
        except AzureApiError as exc:
            errors += subscription_unreadable(sub_id, str(exc))
    return found, errors


def subscription_unreadable(sub_id: str, reason: str) -> list[Record]:
    """A subscription we cannot read fails every per-subscription kind, never an empty list."""
    return [CollectionError(kind, f"subscription {sub_id}: {reason}") for kind in kinds.SUBSCRIPTION_KINDS]


def resource_group_of(resource_id: str) -> str | None:
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]
    if "resourcegroups" in lowered:
        index = lowered.index("resourcegroups") + 1
        return parts[index] if index < len(parts) else None
    return None


def collect_subscription(arm: Api, sub: dict[str, Any]) -> list[Record]:
    """Everything of one subscription; runs in a worker thread."""
    sub_id = str(sub["subscriptionId"])
    scope = f"/subscriptions/{sub_id}"
    records: list[Record] = []

    def read(kind: str, what: str, fetch: Callable[[], Any], fields: tuple[str, ...] | None = None) -> Any:
        """``fetch()``, or None with a CollectionError. ``fields``: the item fields a failure leaves
        unknown (a detail joined onto items still yielded); None when the items themselves are missing."""
        try:
            return fetch()
        except AzureApiError as exc:
            records.append(CollectionError(kind, f"subscription {sub_id}: {what}: {exc}", fields))
            return None

    records += _subscription_item(arm, sub, scope, read)
    for kind, what, path, api_version in (
        (kinds.STORAGE_ACCOUNT, "storage accounts", "Microsoft.Storage/storageAccounts", API_STORAGE),
        (kinds.KEY_VAULT, "key vaults", "Microsoft.KeyVault/vaults", API_KEYVAULT),
        (kinds.NSG, "network security groups", "Microsoft.Network/networkSecurityGroups", API_NETWORK),
        (kinds.WEB_SITE, "web apps", "Microsoft.Web/sites", API_WEB),
    ):
        resources = read(kind, what, partial(_list, arm, f"{scope}/providers/{path}", api_version))
        if resources is None:
            continue
        for resource in resources:
            data = {**resource, "subscription_id": sub_id, "resource_group": resource_group_of(resource["id"])}
            if kind == kinds.STORAGE_ACCOUNT:
                data["blob_service"] = _blob_service(arm, resource, read)
            elif kind == kinds.KEY_VAULT:
                data["diagnostic_settings"] = read(
                    kind,
                    f"diagnostic settings of {resource['name']}",
                    partial(_diagnostics, arm, resource["id"]),
                    ("diagnostic_settings",),
                )
            elif kind == kinds.NSG:
                data["inbound_allow_rules"] = inbound_allow_rules(resource.get("properties", {}).get("securityRules"))
            elif kind == kinds.WEB_SITE:
                # The list's siteConfig leaves minTlsVersion and ftpsState null, and ARM has no call that
                # returns the configuration of every app at once: one config/web GET per app.
                data["site_config"] = read(
                    kind,
                    f"configuration of web app {resource['name']}",
                    partial(arm.get, f"{resource['id']}/config/web", {"api-version": API_WEB}),
                    ("site_config",),
                )
            records.append(EvidenceItem(kind, resource["id"], data))
    return records


def _list(arm: Api, path: str, api_version: str, **params: str) -> list[dict[str, Any]]:
    return list(arm.list(path, {"api-version": api_version, **params}))


def _diagnostics(arm: Api, resource_id: str) -> list[dict[str, Any]]:
    return _list(arm, f"{resource_id}/providers/Microsoft.Insights/diagnosticSettings", API_DIAGNOSTIC_SETTINGS)


def _blob_service(arm: Api, account: dict[str, Any], read: Callable[..., Any]) -> Any:
    def fetch() -> Any:
        try:
            return arm.get(f"{account['id']}/blobServices/default", {"api-version": API_STORAGE})
        except AzureApiError as exc:
            if exc.code == _NOT_SUPPORTED_CODE or (
                exc.status in _NOT_SUPPORTED and account.get("kind") in _ACCOUNTS_WITHOUT_BLOBS
            ):
                return None
            raise

    return read(kinds.STORAGE_ACCOUNT, f"blob service of {account['name']}", fetch, ("blob_service",))


class MissingFact(AzureApiError):
    """An answer that lacks the fact it was asked for: as unknown as a call that failed."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self.status = None
        self.code = "MissingFact"


def _alert(alert: dict[str, Any]) -> dict[str, Any]:
    props = alert.get("properties") or {}
    return {"id": alert.get("id"), "name": alert.get("name"), **{k: props.get(k) for k in ALERT_FIELDS}}


def _alerts(arm: Api, scope: str) -> list[dict[str, Any]]:
    return [_alert(a) for a in _list(arm, f"{scope}/providers/Microsoft.Security/alerts", API_SECURITY_ALERTS)]


def _secure_score(arm: Api, scope: str) -> dict[str, Any]:
    scores = _list(arm, f"{scope}/providers/Microsoft.Security/secureScores", API_SECURE_SCORES)
    found = next((s for s in scores if str(s.get("name", "")).lower() == ASC_SCORE.lower()), None)
    if found is None:
        # Not a score of zero: Defender for Cloud has not scored this subscription, so nothing is known.
        raise MissingFact(f"the answer has no {ASC_SCORE} entry (Defender for Cloud does not score it)")
    return found


def _subscription_item(arm: Api, sub: dict[str, Any], scope: str, read: Callable[..., Any]) -> list[Record]:
    # Independent joins, each reported against its own field only: a subscription whose Defender
    # pricings cannot be read still has its owners and its activity-log export judged, and so on.
    kind = kinds.SUBSCRIPTION
    sub_id = str(sub["subscriptionId"])
    plans = read(
        kind,
        "Defender pricings",
        lambda: _list(arm, f"{scope}/providers/Microsoft.Security/pricings", API_SECURITY_PRICINGS),
        ("defender_plans",),
    )
    assignments = read(
        kind,
        "role assignments",
        lambda: _list(
            arm,
            f"{scope}/providers/Microsoft.Authorization/roleAssignments",
            API_AUTHORIZATION,
            **{"$filter": "atScope()"},
        ),
        ("role_assignments",),
    )
    diagnostics = read(kind, "diagnostic settings", lambda: _diagnostics(arm, scope), ("diagnostic_settings",))
    security = f"{scope}/providers/Microsoft.Security"
    policy_assignments = read(
        kind,
        "policy assignments",
        # atScope(): the assignments at the subscription and the management groups above it, not those
        # of resource groups or resources inside (which do not govern the subscription as a whole).
        lambda: _list(
            arm,
            f"{scope}/providers/Microsoft.Authorization/policyAssignments",
            API_POLICY_ASSIGNMENTS,
            **{"$filter": "atScope()"},
        ),
        ("policy_assignments",),
    )
    contacts = read(
        kind,
        "security contacts",
        lambda: _list(arm, f"{security}/securityContacts", API_SECURITY_CONTACTS),
        ("security_contacts",),
    )
    secure_score = read(kind, "secure score", lambda: _secure_score(arm, scope), ("secure_score",))
    alerts = read(kind, "security alerts", lambda: _alerts(arm, scope), ("security_alerts",))
    out: list[Record] = []
    joined = None
    if assignments is None:
        out.append(CollectionError(kinds.ROLE_ASSIGNMENT, f"subscription {sub_id}: role assignments unreadable"))
    else:
        joined, failure = _with_role_names(arm, scope, assignments)
        if failure is not None:
            unresolved = sum(1 for a in joined if a["role_definition_name"] is None)
            # Built-in roles are still named; only assignments left without a name are incomplete facts.
            # With none left, the failure is reported but leaves nothing a check reads unknown.
            message = f"subscription {sub_id}: role definitions: {failure}"
            out.append(CollectionError(kind, message, ("role_assignments",) if unresolved else ()))
            if unresolved:
                out.append(CollectionError(kinds.ROLE_ASSIGNMENT, message, ("role_definition_name",)))
    data = {
        **sub,
        "id": scope,
        "defender_plans": plans,
        "role_assignments": joined,
        "diagnostic_settings": diagnostics,
        "policy_assignments": policy_assignments,
        "security_contacts": contacts,
        "secure_score": secure_score,
        "security_alerts": alerts,
    }
    out.insert(0, EvidenceItem(kind, scope, data))
    for assignment in joined or []:
        out.append(EvidenceItem(kinds.ROLE_ASSIGNMENT, assignment["id"], {**assignment, "subscription_id": sub_id}))
    return out


def _with_role_names(
    arm: Api, scope: str, assignments: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], AzureApiError | None]:
    """The assignments with ``role_definition_name`` joined, and the error if roleDefinitions was unreadable.

    Names come from the subscription's roleDefinitions, else from the built-in roles (whose ids are the
    same in every tenant): should that call fail, built-in roles are still named and the others stay null.
    """
    names: dict[str, Any] = {}
    failure = None
    try:
        definitions = _list(arm, f"{scope}/providers/Microsoft.Authorization/roleDefinitions", API_AUTHORIZATION)
        names = {str(d.get("name", "")).lower(): d.get("properties", {}).get("roleName") for d in definitions}
    except AzureApiError as exc:
        failure = exc
    joined = []
    for assignment in assignments:
        guid = str(assignment.get("properties", {}).get("roleDefinitionId", "")).rsplit("/", 1)[-1].lower()
        joined.append({**assignment, "role_definition_name": names.get(guid) or BUILTIN_ROLE_NAMES.get(guid)})
    return joined, failure


def _port_range(text: str) -> dict[str, int]:
    text = text.strip()
    if text == "*":
        return {"first": 0, "last": 65535}
    first, _, last = text.partition("-")
    try:
        return {"first": int(first), "last": int(last or first)}
    except ValueError:
        # ARM validates ranges; should one ever not parse, count it as every port rather than none.
        return {"first": 0, "last": 65535}


def inbound_allow_rules(rules: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The inbound Allow rules with their sources and port ranges as plain lists (facts, not verdicts)."""
    out = []
    for rule in rules or []:
        props = rule.get("properties", {})
        if str(props.get("direction", "")).lower() != "inbound" or str(props.get("access", "")).lower() != "allow":
            continue
        sources = [props["sourceAddressPrefix"]] if props.get("sourceAddressPrefix") else []
        sources += props.get("sourceAddressPrefixes") or []
        ports = [props["destinationPortRange"]] if props.get("destinationPortRange") else []
        ports += props.get("destinationPortRanges") or []
        out.append(
            {
                "name": rule.get("name"),
                "priority": props.get("priority"),
                "protocol": props.get("protocol"),
                "sources": sources,
                "port_ranges": [_port_range(p) for p in ports],
            }
        )
    return out
