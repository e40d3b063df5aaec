"""The evidence kinds the GCP connector yields, with the fields checks may rely on, and its permissions."""

from __future__ import annotations

from connectors.base import EvidenceKind

_POLICY = "IAM policy as getIamPolicy returns it (version 3): bindings[{role, members, condition}], auditConfigs"
_SCOPE = {"project_id": "project id", "project_number": "project number"}

EVIDENCE_KINDS = (
    EvidenceKind(
        "gcp.organization",
        id_field="name",
        raw="the Resource Manager v3 organization",
        description="The organization (Resource Manager v3) with its IAM policy",
        fields={
            "name": "organizations/<number>",
            "displayName": "the organization's domain",
            "state": "ACTIVE | DELETE_REQUESTED",
            "iam_policy": _POLICY + " (null when it could not be read)",
        },
    ),
    EvidenceKind(
        "gcp.folder",
        id_field="name",
        raw="the Resource Manager v3 folder",
        description="A folder under the organization (any depth) with its IAM policy",
        fields={
            "name": "folders/<number>",
            "displayName": "folder name",
            "parent": "organizations/<n> or folders/<n>",
            "state": "ACTIVE | DELETE_REQUESTED",
            "iam_policy": _POLICY + " (null when it could not be read)",
        },
    ),
    EvidenceKind(
        "gcp.project",
        id_field="resource_name",
        raw="the Resource Manager v3 project",
        description="An ACTIVE project with its IAM policy, its ancestors' audit configs and disabled APIs",
        fields={
            "resource_name": "projects/<projectId> (the item id)",
            "name": "projects/<number>",
            "projectId": "project id",
            "parent": "organizations/<n> or folders/<n>",
            "state": "ACTIVE",
            "labels": "project labels",
            "iam_policy": _POLICY + " (null when it could not be read)",
            "ancestors": "folders/organization above the project, nearest first (null when the chain"
            " could not be followed: an ancestor folder was unreadable)",
            "inherited_audit_configs": "auditConfigs of every ancestor, each with `source` (null when an"
            " ancestor's policy could not be read)",
            "disabled_services": "APIs not enabled in the project: [{service, evidence_kinds, reason, message}]"
            " - the project has none of those resources",
        },
    ),
    EvidenceKind(
        "gcp.storage.bucket",
        id_field="resource_name",
        raw="the Cloud Storage JSON API bucket",
        description="A Cloud Storage bucket (JSON API v1) with its IAM policy",
        fields={
            "resource_name": "projects/_/buckets/<name> (the item id)",
            "name": "bucket name",
            "iamConfiguration": "{uniformBucketLevelAccess: {enabled}, publicAccessPrevention}",
            "encryption": "{defaultKmsKeyName} or null (Google-managed keys)",
            "versioning": "{enabled} or null",
            "logging": "{logBucket} or null",
            "retentionPolicy": "retention policy or null",
            "labels": "bucket labels or null",
            "iam_policy": "bucket IAM policy {bindings} (null when it could not be read)",
            **_SCOPE,
        },
    ),
    EvidenceKind(
        "gcp.iam.service_account",
        id_field="name",
        raw="the IAM API service account",
        description="A service account (IAM v1) with its user-managed keys",
        fields={
            "name": "projects/<p>/serviceAccounts/<email>",
            "email": "service account email",
            "disabled": "true when disabled",
            "keys": "USER_MANAGED keys: [{name, validAfterTime, validBeforeTime, keyAlgorithm, disabled}]"
            " (null when they could not be listed)",
            **_SCOPE,
        },
    ),
    EvidenceKind(
        "gcp.iam.service_account_key",
        id_field="name",
        raw="the IAM API service account key (no key material)",
        description="A user-managed service-account key (IAM v1)",
        fields={
            "name": "projects/<p>/serviceAccounts/<email>/keys/<id>",
            "validAfterTime": "creation time (RFC 3339)",
            "validBeforeTime": "expiry time (RFC 3339)",
            "keyType": "USER_MANAGED",
            "disabled": "true when the key is disabled",
            "service_account": "owning service account email",
            "service_account_disabled": "true when the owning account is disabled",
            **_SCOPE,
        },
    ),
    EvidenceKind(
        "gcp.compute.firewall",
        id_field="resource_name",
        raw="the Compute Engine firewall resource",
        description="A VPC firewall rule (Compute Engine v1)",
        fields={
            "resource_name": "projects/<p>/global/firewalls/<name> (the item id)",
            "direction": "INGRESS | EGRESS",
            "disabled": "true when the rule is disabled",
            "sourceRanges": "source CIDRs",
            "allowed": "[{IPProtocol, ports}] as returned",
            "allowed_port_ranges": "allowed as [{protocol, from, to}]; no ports = 0-65535",
            "logConfig": "{enable} or null",
            **_SCOPE,
        },
    ),
    EvidenceKind(
        "gcp.sql.instance",
        id_field="resource_name",
        raw="the Cloud SQL Admin v1 instance",
        description="A Cloud SQL instance (Cloud SQL Admin v1)",
        fields={
            "resource_name": "projects/<p>/instances/<name> (the item id)",
            "instanceType": "CLOUD_SQL_INSTANCE | READ_REPLICA_INSTANCE | ...",
            "settings.backupConfiguration": "{enabled, pointInTimeRecoveryEnabled} or null",
            "settings.ipConfiguration": "{ipv4Enabled, authorizedNetworks[{value}], requireSsl, sslMode}",
            "settings.userLabels": "labels",
            "diskEncryptionConfiguration": "{kmsKeyName} or null (Google-managed keys)",
            **_SCOPE,
        },
    ),
)

PERMISSIONS = (
    "roles/iam.securityReviewer (Security Reviewer) on the organization: getIamPolicy of the organization, "
    "folders, projects and buckets; iam.serviceAccounts.list, iam.serviceAccountKeys.list",
    "roles/browser (Browser) on the organization: resourcemanager.organizations.get, projects.get/list",
    "roles/resourcemanager.folderViewer (Folder Viewer) on the organization: resourcemanager.folders.get/list",
    "roles/cloudsql.viewer (Cloud SQL Viewer) on the organization: cloudsql.instances.list",
    "roles/compute.networkViewer (Compute Network Viewer) on the organization: compute.firewalls.list",
    "roles/storage.bucketViewer (Storage Bucket Viewer) on the organization: storage.buckets.list/get",
    "OAuth scope cloud-platform.read-only (cloud-platform only where an API answers "
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT; the roles above still limit it to reads)",
)
