"""A small organization for the GCP tests: a mix of compliant and non-compliant resources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .gcp_imitation import GcpImitation

ORG = "organizations/1000"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def project(
    number: int, project_id: str, parent: str, state: str = "ACTIVE", environment: str | None = None
) -> dict[str, Any]:
    data = {
        "name": f"projects/{number}",
        "projectId": project_id,
        "parent": parent,
        "state": state,
        "displayName": project_id,
        "createTime": "2024-01-10T09:00:00Z",
        "etag": 'W/"abc"',
    }
    if environment:
        data["labels"] = {"environment": environment}
    return data


def audit_all(*log_types: str) -> dict[str, Any]:
    return {"service": "allServices", "auditLogConfigs": [{"logType": t} for t in log_types]}


def seed(imitation: GcpImitation) -> GcpImitation:
    imitation.organization = {
        "name": ORG,
        "displayName": "example.com",
        "directoryCustomerId": "C01abcde",
        "state": "ACTIVE",
        "createTime": "2020-01-01T00:00:00Z",
    }
    imitation.folders = [
        {"name": "folders/11", "parent": ORG, "displayName": "prod", "state": "ACTIVE"},
        {"name": "folders/12", "parent": ORG, "displayName": "dev", "state": "ACTIVE"},
        {"name": "folders/13", "parent": ORG, "displayName": "shared", "state": "ACTIVE"},
        {"name": "folders/21", "parent": "folders/11", "displayName": "prod-data", "state": "ACTIVE"},
        {"name": "folders/99", "parent": ORG, "displayName": "old", "state": "DELETE_REQUESTED"},
    ]
    imitation.projects = [
        project(201, "prod-app", "folders/11", environment="prod"),
        project(202, "prod-data-lake", "folders/21", environment="prod"),  # prod-data is below prod
        project(203, "dev-sandbox", "folders/12", environment="development"),  # the folder is "dev"
        project(204, "shared-net", "folders/13", environment="shared"),
        project(205, "org-admin", ORG, environment="prod"),  # in no folder at all
        project(206, "retired-app", ORG, state="DELETE_REQUESTED"),
    ]
    imitation.policies = {
        ORG: {
            "bindings": [{"role": "roles/resourcemanager.organizationAdmin", "members": ["group:admins@example.com"]}],
            "auditConfigs": [audit_all("ADMIN_READ", "DATA_READ", "DATA_WRITE")],
        },
        "folders/11": {"bindings": [{"role": "roles/viewer", "members": ["group:prod-readers@example.com"]}]},
        "projects/201": {
            "bindings": [
                {"role": "roles/owner", "members": ["user:alice@example.com"]},
                {"role": "roles/viewer", "members": ["allUsers"]},
                {"role": "roles/editor", "members": ["serviceAccount:ci@prod-app.iam.gserviceaccount.com"]},
            ]
        },
        "projects/203": {
            "bindings": [
                {"role": "roles/editor", "members": ["user:bob@gmail.com"]},
                {
                    "role": "roles/storage.objectViewer",
                    "members": ["serviceAccount:app@dev-sandbox.iam.gserviceaccount.com"],
                },
            ]
        },
    }
    imitation.buckets = {
        "prod-app": [
            {
                "kind": "storage#bucket",
                "id": "prod-app-assets",
                "name": "prod-app-assets",
                "location": "EU",
                "iamConfiguration": {
                    "uniformBucketLevelAccess": {"enabled": True},
                    "publicAccessPrevention": "enforced",
                },
                "versioning": {"enabled": True},
                "encryption": {"defaultKmsKeyName": "projects/prod-app/locations/eu/keyRings/r/cryptoKeys/k"},
                "labels": {"data-classification": "confidential", "tier": "critical"},
                "locationType": "multi-region",
            },
            {
                "kind": "storage#bucket",
                "id": "prod-app-public-web",
                "name": "prod-app-public-web",
                "iamConfiguration": {
                    "uniformBucketLevelAccess": {"enabled": False},
                    "publicAccessPrevention": "inherited",
                },
                "labels": {"data-classification": "confidential", "tier": "critical"},
                "location": "EUROPE-WEST3",
                "locationType": "region",
            },
            {
                "kind": "storage#bucket",
                "id": "prod-app-logs",
                "name": "prod-app-logs",
                "location": "EU",
                "locationType": "multi-region",
                "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True}},
                "labels": {"retention": "400d"},  # records: kept 400 days, then deleted
                "retentionPolicy": {
                    "retentionPeriod": "34560000",
                    "effectiveTime": "2024-02-01T10:00:00.000Z",
                    "isLocked": True,
                },
                "lifecycle": {"rule": [{"action": {"type": "Delete"}, "condition": {"age": 401}}]},
            },
        ]
    }
    imitation.bucket_policies = {
        "prod-app-public-web": {"bindings": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]},
        "prod-app-assets": {
            "bindings": [{"role": "roles/storage.legacyBucketOwner", "members": ["projectOwner:prod-app"]}]
        },
    }
    recent, old = NOW - timedelta(days=10), NOW - timedelta(days=400)
    imitation.service_accounts = {
        "prod-app": [
            account("prod-app", "ci"),
            account("prod-app", "runtime"),
            account("prod-app", "gone"),
        ],
        "dev-sandbox": [account("dev-sandbox", "app")],
    }
    imitation.gone_accounts = {"gone@prod-app.iam.gserviceaccount.com"}
    imitation.keys = {
        "ci@prod-app.iam.gserviceaccount.com": [
            key("prod-app", "ci", "k-old", old),
            key("prod-app", "ci", "k-system", old, key_type="SYSTEM_MANAGED"),
        ],
        "runtime@prod-app.iam.gserviceaccount.com": [key("prod-app", "runtime", "k-new", recent)],
    }
    imitation.firewalls = {
        "shared-net": [
            firewall("allow-ssh-anywhere", [{"IPProtocol": "tcp", "ports": ["22"]}], ["0.0.0.0/0"]),
            firewall("allow-internal", [{"IPProtocol": "all"}], ["10.0.0.0/8"], logging=True),
            firewall("allow-https", [{"IPProtocol": "tcp", "ports": ["443"]}], ["0.0.0.0/0"], logging=True),
            firewall("allow-rdp-range", [{"IPProtocol": "tcp", "ports": ["3000-4000"]}], ["0.0.0.0/0"]),
            firewall("disabled-all", [{"IPProtocol": "all"}], ["0.0.0.0/0"], disabled=True),
        ]
    }
    imitation.sql_instances = {
        "prod-app": [
            sql("orders-db", backups=True, networks=["10.1.0.0/16"], ssl_mode="ENCRYPTED_ONLY", cmek=True),
            sql(
                "legacy-db",
                backups=False,
                networks=["0.0.0.0/0"],
                ssl_mode="ALLOW_UNENCRYPTED_AND_ENCRYPTED",
                resilient=False,
            ),
            sql("analytics-db", backups=True, networks=[], ssl_mode="ENCRYPTED_ONLY", labels={}),
        ]
    }
    # Cloud SQL Admin was never enabled in the data lake project.
    imitation.disabled = {("sqladmin", "prod-data-lake"), ("sqladmin", "dev-sandbox")}
    seed_coverage(imitation)
    return imitation


def metadata(**items: str) -> list[dict[str, Any]]:
    return [{"key": key.replace("_", "-"), "value": value} for key, value in items.items()]


def seed_coverage(imitation: GcpImitation) -> None:
    """Compute project metadata, networks, HTTPS proxies, the collector's grants, essential contacts."""
    imitation.compute_metadata = {
        "prod-app": metadata(enable_oslogin="TRUE", serial_port_enable="1"),
        "prod-data-lake": metadata(enable_oslogin="FALSE"),
        "shared-net": metadata(enable_oslogin="TRUE"),
        "org-admin": metadata(enable_oslogin="true", serial_port_enable="FALSE"),
    }  # dev-sandbox has no project metadata at all
    imitation.networks = {
        "shared-net": [
            network("shared-net", "default", auto=True),
            network("shared-net", "main"),
            network("shared-net", "dmz"),
        ],
        "prod-app": [network("prod-app", "prod-vpc")],
    }
    modern = ssl_policy("prod-app", "global", "modern-tls12", "MODERN", "TLS_1_2")
    compatible = ssl_policy("prod-app", "regions/europe-west3", "compat-tls12", "COMPATIBLE", "TLS_1_2")
    restricted = ssl_policy("prod-app", "global", "restricted-tls13", "RESTRICTED", "TLS_1_3")
    imitation.ssl_policies = {
        "prod-app": [("global", modern), ("regions/europe-west3", compatible), ("global", restricted)]
    }
    imitation.https_proxies = {
        "prod-app": [
            ("global", https_proxy("prod-app", "global", "web-modern", modern)),
            ("global", https_proxy("prod-app", "global", "web-legacy", None)),  # Google's default policy
            ("regions/europe-west3", https_proxy("prod-app", "regions/europe-west3", "internal-api", compatible)),
        ]
    }
    # The collector's identity was given editor on prod-app "for a migration" and never removed.
    imitation.granted = {
        "prod-app": {"storage.buckets.list", "storage.buckets.update", "compute.instances.delete"},
        "shared-net": {"compute.firewalls.list"},
    }
    imitation.contacts = {
        ORG: [contact(ORG, "1", "billing@example.com", ["BILLING"])],
        "folders/11": [
            contact("folders/11", "2", "prod-security@example.com", ["SECURITY", "SUSPENSION"]),
            contact("folders/11", "3", "prod-ops@example.com", ["TECHNICAL"]),
        ],
        "folders/13": [contact("folders/13", "4", "net-team@example.com", ["SECURITY"], state="INVALID")],
        "projects/203": [contact("projects/203", "5", "sandbox-owner@example.com", ["ALL"])],
    }


def network(project_id: str, name: str, auto: bool = False) -> dict[str, Any]:
    return {
        "kind": "compute#network",
        "id": str(abs(hash((project_id, name))) % 10**18),
        "name": name,
        "autoCreateSubnetworks": auto,
        "routingConfig": {"routingMode": "REGIONAL"},
        "selfLink": f"https://www.googleapis.com/compute/v1/projects/{project_id}/global/networks/{name}",
    }


def ssl_policy(project_id: str, where: str, name: str, profile: str, min_tls: str) -> dict[str, Any]:
    return {
        "kind": "compute#sslPolicy",
        "id": str(abs(hash(name)) % 10**18),
        "name": name,
        "profile": profile,
        "minTlsVersion": min_tls,
        "enabledFeatures": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
        "fingerprint": "Xmd6Q0QKLd4=",
        "selfLink": f"https://www.googleapis.com/compute/v1/projects/{project_id}/{where}/sslPolicies/{name}",
    }


def https_proxy(project_id: str, where: str, name: str, policy: dict[str, Any] | None) -> dict[str, Any]:
    proxy: dict[str, Any] = {
        "kind": "compute#targetHttpsProxy",
        "id": str(abs(hash(name)) % 10**18),
        "name": name,
        "urlMap": f"https://www.googleapis.com/compute/v1/projects/{project_id}/{where}/urlMaps/{name}",
        "sslCertificates": [
            f"https://www.googleapis.com/compute/v1/projects/{project_id}/{where}/sslCertificates/{name}-cert"
        ],
        "quicOverride": "NONE",
        "selfLink": f"https://www.googleapis.com/compute/v1/projects/{project_id}/{where}/targetHttpsProxies/{name}",
    }
    if where != "global":
        proxy["region"] = f"https://www.googleapis.com/compute/v1/projects/{project_id}/{where}"
    if policy:
        proxy["sslPolicy"] = policy["selfLink"]
    return proxy


def contact(parent: str, number: str, email: str, categories: list[str], state: str = "VALID") -> dict[str, Any]:
    return {
        "name": f"{parent}/contacts/{number}",
        "email": email,
        "notificationCategorySubscriptions": categories,
        "languageTag": "en-US",
        "validationState": state,
        "validateTime": "2025-06-01T08:00:00Z",
    }


def account(project_id: str, short: str) -> dict[str, Any]:
    email = f"{short}@{project_id}.iam.gserviceaccount.com"
    return {
        "name": f"projects/{project_id}/serviceAccounts/{email}",
        "projectId": project_id,
        "uniqueId": str(abs(hash(email)) % 10**20),
        "email": email,
        "displayName": short,
        "etag": "MDEwMjE5MjA=",
        "oauth2ClientId": "1234",
    }


def key(project_id: str, short: str, key_id: str, created: datetime, key_type: str = "USER_MANAGED") -> dict[str, Any]:
    email = f"{short}@{project_id}.iam.gserviceaccount.com"
    return {
        "name": f"projects/{project_id}/serviceAccounts/{email}/keys/{key_id}",
        "validAfterTime": rfc3339(created),
        "validBeforeTime": "9999-12-31T23:59:59Z",
        "keyAlgorithm": "KEY_ALG_RSA_2048",
        "keyOrigin": "GOOGLE_PROVIDED",
        "keyType": key_type,
    }


def firewall(
    name: str,
    allowed: list[dict[str, Any]],
    sources: list[str],
    disabled: bool = False,
    logging: bool = False,
) -> dict[str, Any]:
    return {
        "kind": "compute#firewall",
        "id": str(abs(hash(name)) % 10**18),
        "name": name,
        "network": "https://www.googleapis.com/compute/v1/projects/shared-net/global/networks/default",
        "priority": 1000,
        "direction": "INGRESS",
        "sourceRanges": sources,
        "allowed": allowed,
        "disabled": disabled,
        "logConfig": {"enable": logging},
        "selfLink": f"https://www.googleapis.com/compute/v1/projects/shared-net/global/firewalls/{name}",
    }


def sql(
    name: str,
    backups: bool,
    networks: list[str],
    ssl_mode: str,
    cmek: bool = False,
    resilient: bool = True,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``resilient``: regional HA, automatic storage increase and a private IP only (else zonal, fixed, public)."""
    instance: dict[str, Any] = {
        "kind": "sql#instance",
        "name": name,
        "project": "prod-app",
        "databaseVersion": "POSTGRES_16",
        "region": "europe-west3",
        "instanceType": "CLOUD_SQL_INSTANCE",
        "state": "RUNNABLE",
        "settings": {
            "tier": "db-custom-2-7680",
            "backupConfiguration": {"enabled": backups, "pointInTimeRecoveryEnabled": backups},
            "ipConfiguration": {
                "ipv4Enabled": not resilient,
                "authorizedNetworks": [{"value": n, "kind": "sql#aclEntry"} for n in networks],
                "sslMode": ssl_mode,
            },
            "userLabels": {"data-classification": "confidential"} if labels is None else labels,
            "availabilityType": "REGIONAL" if resilient else "ZONAL",
            "storageAutoResize": resilient,
            "storageAutoResizeLimit": "0",
            "dataDiskSizeGb": "100",
        },
    }
    if resilient:
        instance["settings"]["ipConfiguration"]["privateNetwork"] = "projects/shared-net/global/networks/main"
    if cmek:
        instance["diskEncryptionConfiguration"] = {
            "kmsKeyName": "projects/prod-app/locations/europe-west3/keyRings/r/cryptoKeys/sql"
        }
    return instance
