"""The demo's simulated GCP organization: same kinds and shapes as collect(), no network.

Deterministic given `now`: a small organization where every check has a visible pass or fail, and
one permission denial (Compute in the analytics project) shows how a collection gap is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CollectionError, EvidenceItem

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


def _project(number: int, project_id: str, parent: str, ancestors: list[str], policy: dict[str, Any]) -> EvidenceItem:
    data = {
        "name": f"projects/{number}",
        "projectId": project_id,
        "parent": parent,
        "state": "ACTIVE",
        "displayName": project_id,
        "createTime": "2023-03-01T09:00:00Z",
        "labels": {},
        "resource_name": f"projects/{project_id}",
        "project_id": project_id,
        "project_number": str(number),
        "iam_policy": policy,
        "ancestors": ancestors,
        "inherited_audit_configs": [{"source": ORG, **_AUDIT_ALL}],
        "disabled_services": [],
    }
    return EvidenceItem("gcp.project", f"projects/{project_id}", data)


def _scope(project_id: str, number: int) -> dict[str, Any]:
    return {"project_id": project_id, "project_number": str(number)}


def _bucket(name: str, project_id: str, number: int, uniform: bool, public: bool, versioned: bool) -> EvidenceItem:
    members = ["allUsers"] if public else [f"projectViewer:{project_id}"]
    data = {
        "kind": "storage#bucket",
        "id": name,
        "name": name,
        "location": "EU",
        "storageClass": "STANDARD",
        "iamConfiguration": {
            "uniformBucketLevelAccess": {"enabled": uniform},
            "publicAccessPrevention": "inherited" if public else "enforced",
        },
        "encryption": None,
        "versioning": {"enabled": versioned},
        "logging": None,
        "retentionPolicy": None,
        "labels": {"data-classification": "internal"},
        **_scope(project_id, number),
        "iam_policy": {"version": 1, "bindings": [{"role": "roles/storage.objectViewer", "members": members}]},
        "resource_name": f"projects/_/buckets/{name}",
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


def _sql(name: str, backups: bool, networks: list[str], ssl_mode: str) -> EvidenceItem:
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
                "ipv4Enabled": True,
                "authorizedNetworks": [{"kind": "sql#aclEntry", "value": n} for n in networks],
                "sslMode": ssl_mode,
            },
            "userLabels": {"data-classification": "internal"},
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
    )
    host = _project(
        310, "shared-vpc-host", ORG, [ORG], _policy(("roles/compute.networkAdmin", ["group:net@example.com"]))
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

    yield _bucket("example-payments-receipts", "payments-prod", 301, uniform=True, public=False, versioned=True)
    yield _bucket("example-analytics-exports", "analytics-dev", 302, uniform=False, public=True, versioned=False)
    yield from _service_account("payments-prod", 301, "api", [20], now)
    yield from _service_account("analytics-dev", 302, "etl", [400, 35], now)
    yield _firewall("allow-iap-ssh", [{"IPProtocol": "tcp", "ports": ["22"]}], ["35.235.240.0/20"], logging=True)
    yield _firewall("allow-ssh-anywhere", [{"IPProtocol": "tcp", "ports": ["22", "80"]}], ["0.0.0.0/0"], logging=False)
    yield _firewall("allow-https", [{"IPProtocol": "tcp", "ports": ["443"]}], ["0.0.0.0/0"], logging=True)
    yield _sql("payments-db", backups=True, networks=[], ssl_mode="ENCRYPTED_ONLY")
    yield _sql("reporting-db", backups=False, networks=["0.0.0.0/0"], ssl_mode="ALLOW_UNENCRYPTED_AND_ENCRYPTED")
    yield CollectionError(
        "gcp.compute.firewall",
        "projects/analytics-dev: compute.googleapis.com: 403 IAM_PERMISSION_DENIED: "
        "Required 'compute.firewalls.list' permission for 'projects/analytics-dev'",
    )
