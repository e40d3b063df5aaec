"""Per-project service evidence over REST: Cloud Storage, IAM, Compute Engine firewalls, Cloud SQL.

Each function returns the complete list for one project or raises :class:`ApiError`; the caller
turns SERVICE_DISABLED into a fact about the project and any other error into a CollectionError,
so a page that failed half-way never becomes a shorter list. A failed detail call joined onto a
listed item (a bucket's IAM policy, an account's keys) keeps the item with that field unknown and a
grouped CollectionError scoped to the field (see gaps.py), so checks that never read it keep their
own status. Detail calls of one project run concurrently on the shared detail pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from connectors.base import CollectionError, EvidenceItem

from .gaps import Gaps
from .transport import ApiError, RestSession

BUCKET = "gcp.storage.bucket"
SERVICE_ACCOUNT = "gcp.iam.service_account"
SERVICE_ACCOUNT_KEY = "gcp.iam.service_account_key"
FIREWALL = "gcp.compute.firewall"
SQL_INSTANCE = "gcp.sql.instance"

Records = list[EvidenceItem | CollectionError]
Each = Callable[[Callable[[Any], Any], list[Any]], list[Any]]  # executor.map over a list, as a list
_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "132": "sctp"}


@dataclass(frozen=True)
class Env:
    """What a reader needs: the REST session, where gaps go, and the detail pool's map."""

    session: RestSession
    gaps: Gaps
    each: Each


def scope(project: dict[str, Any]) -> dict[str, Any]:
    """The scope fields every per-project item carries."""
    return {"project_id": project["projectId"], "project_number": project["name"].split("/", 1)[1]}


def attempt(call: Callable[[], dict[str, Any]]) -> dict[str, Any] | ApiError:
    """A detail call's answer or its error, so one failure does not cancel its siblings."""
    try:
        return call()
    except ApiError as exc:
        return exc


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


def buckets(env: Env, project: dict[str, Any]) -> Records:
    session = env.session
    params = {"project": project["projectId"], "maxResults": 1000}
    listed = list(session.pages("storage", "/storage/v1/b", "items", params))

    def policy(bucket: dict[str, Any]) -> dict[str, Any] | ApiError:
        path = f"/storage/v1/b/{quote(bucket['name'], safe='')}/iam"
        return attempt(lambda: session.get("storage", path, {"optionsRequestedPolicyVersion": 3}))

    answers = dict(zip((b["name"] for b in listed), env.each(policy, listed), strict=True))
    errors = {name: a for name, a in answers.items() if isinstance(a, ApiError)}
    failures = {name: f"getIamPolicy: {a}" for name, a in errors.items() if a.status != 404}
    not_found = [name for name, a in errors.items() if a.status == 404]
    present = still_listed(not_found, lambda: session.pages("storage", "/storage/v1/b", "items", params), "name")
    for name in present:
        failures[name] = f"getIamPolicy: {answers[name]} (the bucket is still listed)"
    records: Records = []
    for bucket in listed:
        name = bucket["name"]
        if name in not_found and name not in present:  # deleted between the list and getIamPolicy
            continue
        data = {**bucket, **scope(project)}
        for key in (
            "iamConfiguration",
            "encryption",
            "versioning",
            "logging",
            "retentionPolicy",
            "labels",
            "lifecycle",
        ):
            data.setdefault(key, None)
        data["resource_name"] = f"projects/_/buckets/{name}"
        item = EvidenceItem(BUCKET, data["resource_name"], data)
        answer = answers[name]
        if name in failures:
            env.gaps.unknown(item, ("iam_policy",), failures[name])
        elif isinstance(answer, dict):
            answer.setdefault("bindings", [])
            data["iam_policy"] = answer
        records.append(item)
    return records


def service_accounts(env: Env, project: dict[str, Any]) -> Records:
    """Service accounts with their user-managed keys joined, plus one item per user-managed key.

    Keys that could not be listed leave the account's ``keys`` unknown (an error scoped to that field)
    and make the key kind incomplete for the project (its items are missing).
    """
    session = env.session
    path = f"/v1/projects/{project['projectId']}/serviceAccounts"
    listed = list(session.pages("iam", path, "accounts", {"pageSize": 100}))

    def keys_of(account: dict[str, Any]) -> dict[str, Any] | ApiError:
        return attempt(lambda: session.get("iam", f"/v1/{account['name']}/keys", {"keyTypes": "USER_MANAGED"}))

    answers = dict(zip((a["name"] for a in listed), env.each(keys_of, listed), strict=True))
    not_found = [name for name, a in answers.items() if isinstance(a, ApiError) and a.status == 404]
    present = still_listed(not_found, lambda: session.pages("iam", path, "accounts", {"pageSize": 100}), "name")
    records: Records = []
    for account in listed:
        name = account["name"]
        answer = answers[name]
        if name in not_found and name not in present:  # deleted between the list and keys.list
            continue
        account_data = {**account, **scope(project)}
        account_data.setdefault("disabled", False)
        item = EvidenceItem(SERVICE_ACCOUNT, name, account_data)
        records.append(item)
        if isinstance(answer, ApiError):
            reason = f"keys.list: {answer}"
            env.gaps.unknown(item, ("keys",), reason)
            env.gaps.missing(SERVICE_ACCOUNT_KEY, None, reason, name)
            continue
        keys = answer.get("keys") or []
        account_data["keys"] = keys
        for key in keys:
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


def firewalls(env: Env, project: dict[str, Any]) -> Records:
    session = env.session
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


def sql_instances(env: Env, project: dict[str, Any]) -> Records:
    session = env.session
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
