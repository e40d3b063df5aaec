"""Per-project service evidence over REST: Cloud Storage, IAM, Compute Engine firewalls, Cloud SQL.

Each function returns the complete list for one project or raises :class:`ApiError`; the caller
turns SERVICE_DISABLED into a fact about the project and any other error into a CollectionError,
so a page that failed half-way never becomes a shorter list. A failed detail call joined onto a
listed item (a bucket's IAM policy, an account's keys) keeps the item with that field null and a
CollectionError scoped to the field, so checks that never read it keep their own status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from connectors.base import CollectionError, EvidenceItem

from .transport import ApiError, RestSession

BUCKET = "gcp.storage.bucket"
SERVICE_ACCOUNT = "gcp.iam.service_account"
SERVICE_ACCOUNT_KEY = "gcp.iam.service_account_key"
FIREWALL = "gcp.compute.firewall"
SQL_INSTANCE = "gcp.sql.instance"

Records = list[EvidenceItem | CollectionError]
_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "132": "sctp"}


def scope(project: dict[str, Any]) -> dict[str, Any]:
    """The scope fields every per-project item carries."""
    return {"project_id": project["projectId"], "project_number": project["name"].split("/", 1)[1]}


def still_listed(names: list[str], relist: Callable[[], Iterator[dict[str, Any]]], key: str) -> set[str]:
    """Which of ``names`` a fresh list still returns.

    A 404 on a detail call means "deleted since it was listed" only if the resource is really gone;
    an API (or an imitation of it) that simply lacks the detail endpoint answers 404 too. Dropping
    the resource then would hide it from every check, so only a second list decides. If that list
    fails, every one of them counts as still there (its detail field stays unknown).
    """
    if not names:
        return set()
    try:
        current = {str(entry.get(key)) for entry in relist()}
    except ApiError:
        return set(names)
    return set(names) & current


def buckets(session: RestSession, project: dict[str, Any]) -> Records:
    records: Records = []
    params = {"project": project["projectId"], "maxResults": 1000}
    listed = list(session.pages("storage", "/storage/v1/b", "items", params))
    policies: dict[str, dict[str, Any] | None] = {}
    not_found: dict[str, ApiError] = {}
    for bucket in listed:
        name = bucket["name"]
        try:
            policies[name] = session.get(
                "storage", f"/storage/v1/b/{quote(name, safe='')}/iam", {"optionsRequestedPolicyVersion": 3}
            )
        except ApiError as exc:
            if exc.status == 404:
                not_found[name] = exc
                continue
            policies[name] = None
            records.append(CollectionError(BUCKET, f"projects/_/buckets/{name}: getIamPolicy: {exc}", ("iam_policy",)))
    present = still_listed(list(not_found), lambda: session.pages("storage", "/storage/v1/b", "items", params), "name")
    for name in sorted(present):
        policies[name] = None
        message = f"projects/_/buckets/{name}: getIamPolicy: {not_found[name]} (the bucket is still listed)"
        records.append(CollectionError(BUCKET, message, ("iam_policy",)))
    for bucket in listed:
        name = bucket["name"]
        if name not in policies:  # deleted between the list and getIamPolicy
            continue
        data = {**bucket, **scope(project)}
        for key in ("iamConfiguration", "encryption", "versioning", "logging", "retentionPolicy", "labels"):
            data.setdefault(key, None)
        policy = policies[name]
        if policy is not None:
            policy.setdefault("bindings", [])
        data["iam_policy"] = policy
        data["resource_name"] = f"projects/_/buckets/{name}"
        records.append(EvidenceItem(BUCKET, data["resource_name"], data))
    return records


def service_accounts(session: RestSession, project: dict[str, Any]) -> Records:
    """Service accounts with their user-managed keys joined, plus one item per user-managed key.

    Keys that could not be listed leave the account with ``keys: null`` (an error scoped to that
    field) and make the key kind incomplete for the project (its items are missing).
    """
    records: Records = []
    path = f"/v1/projects/{project['projectId']}/serviceAccounts"
    listed = list(session.pages("iam", path, "accounts", {"pageSize": 100}))
    keys_by_account: dict[str, list[dict[str, Any]] | None] = {}
    failures: dict[str, ApiError] = {}
    for account in listed:
        try:
            body = session.get("iam", f"/v1/{account['name']}/keys", {"keyTypes": "USER_MANAGED"})
        except ApiError as exc:
            failures[account["name"]] = exc
            continue
        keys_by_account[account["name"]] = body.get("keys") or []
    not_found = [name for name, exc in failures.items() if exc.status == 404]
    present = still_listed(not_found, lambda: session.pages("iam", path, "accounts", {"pageSize": 100}), "name")
    for name, failure in failures.items():
        if failure.status == 404 and name not in present:  # deleted between the list and keys.list
            continue
        keys_by_account[name] = None
        records.append(CollectionError(SERVICE_ACCOUNT, f"{name}: keys.list: {failure}", ("keys",)))
        records.append(CollectionError(SERVICE_ACCOUNT_KEY, f"{name}: keys.list: {failure}"))
    for account in listed:
        if account["name"] not in keys_by_account:
            continue
        keys = keys_by_account[account["name"]]
        account_data = {**account, **scope(project), "keys": keys}
        account_data.setdefault("disabled", False)
        records.append(EvidenceItem(SERVICE_ACCOUNT, account["name"], account_data))
        for key in keys or []:
            key_data = {**key, **scope(project), "service_account": account["email"]}
            key_data.setdefault("disabled", False)
            key_data["service_account_disabled"] = account_data["disabled"]
            records.append(EvidenceItem(SERVICE_ACCOUNT_KEY, key["name"], key_data))
    return records


def port_ranges(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`allowed`/`denied` entries as explicit ranges: no ports means every port (0-65535)."""
    ranges = []
    for rule in rules:
        protocol = str(rule.get("IPProtocol", "")).lower()
        protocol = _PROTOCOL_NUMBERS.get(protocol, protocol)
        ports = rule.get("ports") or ["0-65535"]
        for spec in ports:
            low, _, high = str(spec).partition("-")
            ranges.append({"protocol": protocol, "from": int(low), "to": int(high or low)})
    return ranges


def firewalls(session: RestSession, project: dict[str, Any]) -> Records:
    path = f"/compute/v1/projects/{project['projectId']}/global/firewalls"
    records: Records = []
    for rule in list(session.pages("compute", path, "items", {"maxResults": 500})):
        data = {**rule, **scope(project)}
        for key, default in (("disabled", False), ("sourceRanges", []), ("allowed", []), ("denied", [])):
            data.setdefault(key, default)
        data.setdefault("logConfig", None)
        data.setdefault("direction", "INGRESS")  # the API's default when a rule omits it
        data["allowed_port_ranges"] = port_ranges(data["allowed"])
        data["resource_name"] = f"projects/{project['projectId']}/global/firewalls/{rule['name']}"
        records.append(EvidenceItem(FIREWALL, data["resource_name"], data))
    return records


def sql_instances(session: RestSession, project: dict[str, Any]) -> Records:
    path = f"/v1/projects/{project['projectId']}/instances"
    records: Records = []
    for instance in list(session.pages("sqladmin", path, "items", {"maxResults": 500})):
        data = {**instance, **scope(project)}
        data.setdefault("settings", {})
        data.setdefault("diskEncryptionConfiguration", None)
        data.setdefault("instanceType", None)
        settings = data["settings"]
        settings.setdefault("backupConfiguration", None)
        settings.setdefault("ipConfiguration", {})
        settings["ipConfiguration"].setdefault("authorizedNetworks", [])
        settings.setdefault("userLabels", {})
        data["resource_name"] = f"projects/{project['projectId']}/instances/{instance['name']}"
        records.append(EvidenceItem(SQL_INSTANCE, data["resource_name"], data))
    return records


# kind(s) covered, the API's service name (for the disabled-service fact), the reader
SERVICE_READERS = (
    ((BUCKET,), "storage.googleapis.com", buckets),
    ((SERVICE_ACCOUNT, SERVICE_ACCOUNT_KEY), "iam.googleapis.com", service_accounts),
    ((FIREWALL,), "compute.googleapis.com", firewalls),
    ((SQL_INSTANCE,), "sqladmin.googleapis.com", sql_instances),
)
