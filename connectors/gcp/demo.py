"""The demo's simulated GCP organization: same kinds and shapes as collect(), no network.

Deterministic given `now`: a small organization where every check has a visible pass or fail, and
one permission denial (Compute in the analytics project) shows how a collection gap is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .kinds import COLLECTOR_WRITE_PERMISSIONS
from .services import port_ranges

ORG = "organizations/405712638091"
_AUDIT_ALL = {
    "service": "allServices",
    "auditLogConfigs": [{"logType": "ADMIN_READ"}, {"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}],
}


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _policy(*bindings: tuple[str, list[str]], audit: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "version": 1,
        "etag": "BwXhqDmhbNc=",
        "bindings": [{"role": r, "members": m} for r, m in bindings],
        "auditConfigs": audit or [],
    }


_FOLDERS = {"folders/101": "production", "folders/102": "development"}
# Inherited by every project from the organization (Essential Contacts contacts:compute).
_CONTACTS = [
    {
        "name": f"{ORG}/contacts/1",
        "email": "security@example.com",
        "notificationCategorySubscriptions": ["SECURITY", "TECHNICAL_INCIDENTS"],
        "languageTag": "en",
        "validationState": "VALID",
        "validateTime": "2026-02-01T09:00:00Z",
    },
    {
        "name": f"{ORG}/contacts/2",
        "email": "finance@example.com",
        "notificationCategorySubscriptions": ["BILLING"],
        "languageTag": "en",
        "validationState": "VALID",
        "validateTime": "2026-02-01T09:00:00Z",
    },
]


def _project(
    number: int, project_id: str, parent: str, ancestors: list[str], policy: dict[str, Any], environment: str
) -> EvidenceItem:
    data = {
        "name": f"projects/{number}",
        "projectId": project_id,
        "parent": parent,
        "state": "ACTIVE",
        "displayName": project_id,
        "createTime": "2023-03-01T09:00:00Z",
        "labels": {"environment": environment},
        "resource_name": f"projects/{project_id}",
        "project_id": project_id,
        "project_number": str(number),
        "iam_policy": policy,
        "ancestors": ancestors,
        "ancestor_folders": [{"name": a, "displayName": _FOLDERS[a]} for a in ancestors if a in _FOLDERS],
        "inherited_audit_configs": [{"source": ORG, **_AUDIT_ALL}],
        "disabled_services": [],
        "essential_contacts": _CONTACTS,
    }
    return EvidenceItem("gcp.project", f"projects/{project_id}", data)


def _scope(project_id: str, number: int) -> dict[str, Any]:
    return {"project_id": project_id, "project_number": str(number)}


def _bucket(
    name: str, project_id: str, number: int, uniform: bool, public: bool, versioned: bool, **fields: Any
) -> EvidenceItem:
    """``fields`` replace the defaults: labels, location, retentionPolicy, lifecycle."""
    members = ["allUsers"] if public else [f"projectViewer:{project_id}"]
    data = {
        "kind": "storage#bucket",
        "id": name,
        "name": name,
        "location": "EUROPE-WEST3",
        "locationType": "region",
        "storageClass": "STANDARD",
        "iamConfiguration": {
            "uniformBucketLevelAccess": {"enabled": uniform},
            "publicAccessPrevention": "inherited" if public else "enforced",
        },
        "encryption": None,
        "versioning": {"enabled": versioned},
        "logging": None,
        "retentionPolicy": None,
        "lifecycle": None,
        "labels": {"data-classification": "internal"},
        **_scope(project_id, number),
        "iam_policy": {"version": 1, "bindings": [{"role": "roles/storage.objectViewer", "members": members}]},
        "resource_name": f"projects/_/buckets/{name}",
        **fields,
    }
    return EvidenceItem("gcp.storage.bucket", data["resource_name"], data)


def _firewall(name: str, allowed: list[dict[str, Any]], sources: list[str], logging: bool) -> EvidenceItem:
    data = {
        "kind": "compute#firewall",
        "name": name,
        "network": "https://www.googleapis.com/compute/v1/projects/shared-vpc-host/global/networks/main",
        "direction": "INGRESS",
        "priority": 1000,
        "sourceRanges": sources,
        "allowed": allowed,
        "denied": [],
        "disabled": False,
        "logConfig": {"enable": logging},
        **_scope("shared-vpc-host", 310),
        "allowed_port_ranges": port_ranges(allowed),
        "resource_name": f"projects/shared-vpc-host/global/firewalls/{name}",
    }
    return EvidenceItem("gcp.compute.firewall", data["resource_name"], data)


def _sql(
    name: str, backups: bool, networks: list[str], ssl_mode: str, resilient: bool, labels: dict[str, str]
) -> EvidenceItem:
    """``resilient``: regional HA behind a private IP only; otherwise one zone with a public IP."""
    data = {
        "kind": "sql#instance",
        "name": name,
        "project": "payments-prod",
        "databaseVersion": "POSTGRES_16",
        "region": "europe-west3",
        "instanceType": "CLOUD_SQL_INSTANCE",
        "state": "RUNNABLE",
        "settings": {
            "tier": "db-custom-2-7680",
            "backupConfiguration": {"enabled": backups, "pointInTimeRecoveryEnabled": backups},
            "ipConfiguration": {
                "ipv4Enabled": not resilient,
                "privateNetwork": "projects/shared-vpc-host/global/networks/main",
                "authorizedNetworks": [{"kind": "sql#aclEntry", "value": n} for n in networks],
                "sslMode": ssl_mode,
            },
            "userLabels": labels,
            "availabilityType": "REGIONAL" if resilient else "ZONAL",
            "storageAutoResize": True,
            "dataDiskSizeGb": "250",
        },
        "diskEncryptionConfiguration": None,
        **_scope("payments-prod", 301),
        "resource_name": f"projects/payments-prod/instances/{name}",
    }
    return EvidenceItem("gcp.sql.instance", data["resource_name"], data)


def _service_account(
    project_id: str, number: int, short: str, key_ages: list[int], now: datetime
) -> Iterator[EvidenceItem]:
    email = f"{short}@{project_id}.iam.gserviceaccount.com"
    name = f"projects/{project_id}/serviceAccounts/{email}"
    keys = [
        {
            "name": f"{name}/keys/{index:040x}",
            "validAfterTime": _ts(now - timedelta(days=age)),
            "validBeforeTime": "9999-12-31T23:59:59Z",
            "keyAlgorithm": "KEY_ALG_RSA_2048",
            "keyOrigin": "GOOGLE_PROVIDED",
            "keyType": "USER_MANAGED",
            "disabled": False,
        }
        for index, age in enumerate(key_ages, start=1)
    ]
    account = {"name": name, "projectId": project_id, "email": email, "displayName": short, "disabled": False}
    yield EvidenceItem("gcp.iam.service_account", name, {**account, **_scope(project_id, number), "keys": keys})
    for key in keys:
        data = {**key, **_scope(project_id, number), "service_account": email, "service_account_disabled": False}
        yield EvidenceItem("gcp.iam.service_account_key", str(key["name"]), data)


def simulated_estate(now: datetime) -> Iterator[EvidenceItem | CollectionError]:
    org_policy = _policy(
        ("roles/resourcemanager.organizationAdmin", ["group:gcp-admins@example.com"]), audit=[_AUDIT_ALL]
    )
    yield EvidenceItem(
        "gcp.organization",
        ORG,
        {
            "name": ORG,
            "displayName": "example.com",
            "state": "ACTIVE",
            "directoryCustomerId": "C03x1y2z",
            "createTime": "2019-05-02T10:00:00Z",
            "iam_policy": org_policy,
        },
    )
    for number, display in ((101, "production"), (102, "development")):
        name = f"folders/{number}"
        data = {"name": name, "parent": ORG, "displayName": display, "state": "ACTIVE", "iam_policy": _policy()}
        yield EvidenceItem("gcp.folder", name, data)

    yield _project(
        301,
        "payments-prod",
        "folders/101",
        ["folders/101", ORG],
        _policy(
            ("roles/owner", ["group:gcp-admins@example.com"]),
            ("roles/cloudsql.client", ["serviceAccount:api@payments-prod.iam.gserviceaccount.com"]),
        ),
        "production",
    )
    yield _project(
        302,
        "analytics-dev",
        "folders/102",
        ["folders/102", ORG],
        _policy(
            ("roles/editor", ["user:contractor@gmail.com", "serviceAccount:etl@analytics-dev.iam.gserviceaccount.com"]),
            ("roles/bigquery.dataViewer", ["allAuthenticatedUsers"]),
        ),
        "development",
    )
    # Production networking, yet created straight under the organization, outside the production folder.
    host = _project(
        310,
        "shared-vpc-host",
        ORG,
        [ORG],
        _policy(("roles/compute.networkAdmin", ["group:net@example.com"])),
        "production",
    )
    host.data["disabled_services"] = [
        {
            "service": "sqladmin.googleapis.com",
            "evidence_kinds": ["gcp.sql.instance"],
            "reason": "SERVICE_DISABLED",
            "message": "Cloud SQL Admin API has not been used in project 310 before or it is disabled.",
        }
    ]
    yield host

    seven_years = {"retentionPeriod": str(7 * 365 * 86400), "effectiveTime": "2024-01-15T10:00:00Z", "isLocked": True}
    yield _bucket(
        "example-payments-receipts",
        "payments-prod",
        301,
        uniform=True,
        public=False,
        versioned=True,
        labels={"data-classification": "internal", "retention": "7y", "tier": "critical"},
        location="EU",
        locationType="multi-region",
        retentionPolicy=seven_years,
        lifecycle={"rule": [{"action": {"type": "Delete"}, "condition": {"age": 7 * 365 + 2}}]},
    )
    yield _bucket("example-analytics-exports", "analytics-dev", 302, uniform=False, public=True, versioned=False)
    # Set up in a hurry for the audit: one region, retention set but never locked, no classification.
    yield _bucket(
        "example-payments-audit-logs",
        "payments-prod",
        301,
        uniform=True,
        public=False,
        versioned=True,
        labels={"retention": "1y", "tier": "critical"},
        retentionPolicy={"retentionPeriod": "31536000", "effectiveTime": "2026-10-01T08:00:00Z"},
        lifecycle={"rule": [{"action": {"type": "Delete"}, "condition": {"age": 366}}]},
    )
    yield from _service_account("payments-prod", 301, "api", [20], now)
    yield from _service_account("analytics-dev", 302, "etl", [400, 35], now)
    yield _firewall("allow-iap-ssh", [{"IPProtocol": "tcp", "ports": ["22"]}], ["35.235.240.0/20"], logging=True)
    yield _firewall("allow-ssh-anywhere", [{"IPProtocol": "tcp", "ports": ["22", "80"]}], ["0.0.0.0/0"], logging=False)
    yield _firewall("allow-https", [{"IPProtocol": "tcp", "ports": ["443"]}], ["0.0.0.0/0"], logging=True)
    yield _sql(
        "payments-db",
        backups=True,
        networks=[],
        ssl_mode="ENCRYPTED_ONLY",
        resilient=True,
        labels={"data-classification": "internal"},
    )
    yield _sql(
        "reporting-db",
        backups=False,
        networks=["0.0.0.0/0"],
        ssl_mode="ALLOW_UNENCRYPTED_AND_ENCRYPTED",
        resilient=False,
        labels={},
    )
    yield from _coverage()
    yield CollectionError(
        "gcp.compute.firewall",
        "projects/analytics-dev: compute.googleapis.com: 403 IAM_PERMISSION_DENIED: "
        "Required 'compute.firewalls.list' permission for 'projects/analytics-dev'",
    )


def _coverage() -> Iterator[EvidenceItem]:
    """Compute project metadata, networks, HTTPS proxies and the collector's own permissions."""
    login = {"enable-oslogin": "TRUE"}
    for project_id, number, metadata in (
        ("payments-prod", 301, login),
        ("analytics-dev", 302, login),
        ("shared-vpc-host", 310, {**login, "serial-port-enable": "TRUE"}),  # left on after an incident
    ):
        items = [{"key": k, "value": v} for k, v in metadata.items()]
        data = {
            "kind": "compute#project",
            "id": str(number),
            "name": project_id,
            "commonInstanceMetadata": {"kind": "compute#metadata", "items": items},
            "defaultNetworkTier": "PREMIUM",
            **_scope(project_id, number),
            "resource_name": f"projects/{project_id}",
        }
        yield EvidenceItem("gcp.compute.project", data["resource_name"], data)
        facts = {
            "resource_name": f"projects/{project_id}",
            "identity": "annexa-reader@security-tools.iam.gserviceaccount.com",
            "tested_permissions": list(COLLECTOR_WRITE_PERMISSIONS),
            "granted_permissions": [],
            **_scope(project_id, number),
        }
        yield EvidenceItem("gcp.collector", f"projects/{project_id}", facts)
    for project_id, number, name, auto in (
        ("shared-vpc-host", 310, "main", False),
        ("analytics-dev", 302, "default", True),
    ):
        data = {
            "kind": "compute#network",
            "name": name,
            "autoCreateSubnetworks": auto,
            "routingConfig": {"routingMode": "GLOBAL"},
            **_scope(project_id, number),
            "resource_name": f"projects/{project_id}/global/networks/{name}",
        }
        yield EvidenceItem("gcp.compute.network", data["resource_name"], data)
    modern = {
        "kind": "compute#sslPolicy",
        "name": "modern-tls12",
        "profile": "MODERN",
        "minTlsVersion": "TLS_1_2",
        "selfLink": "https://www.googleapis.com/compute/v1/projects/payments-prod/global/sslPolicies/modern-tls12",
    }
    for name, policy in (("checkout-https", modern), ("status-page-https", None)):  # the status page kept the default
        data = {
            "kind": "compute#targetHttpsProxy",
            "name": name,
            "urlMap": f"https://www.googleapis.com/compute/v1/projects/payments-prod/global/urlMaps/{name}",
            **({"sslPolicy": policy["selfLink"]} if policy else {}),
            "ssl_policy": policy,
            **_scope("payments-prod", 301),
            "resource_name": f"projects/payments-prod/global/targetHttpsProxies/{name}",
        }
        yield EvidenceItem("gcp.compute.target_https_proxy", data["resource_name"], data)
