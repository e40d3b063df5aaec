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
            "ancestors": "folders/organization above the project, nearest first (unknown when the chain"
            " could not be followed: an ancestor folder was unreadable)",
            "ancestor_folders": "the folders among the ancestors, nearest first: [{name, displayName}]"
            " (unknown like ancestors)",
            "inherited_audit_configs": "auditConfigs of every ancestor, each with `source` (null when an"
            " ancestor's policy could not be read)",
            "disabled_services": "APIs not enabled in the project: [{service, evidence_kinds, reason, message}]"
            " - the project has none of those resources",
            "essential_contacts": "Essential Contacts v1 contacts:compute (categories ALL): the project's own and"
            " inherited contacts [{name, email, notificationCategorySubscriptions, languageTag, validationState}]"
            " (unknown when they could not be read)",
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
            "retentionPolicy": "{retentionPeriod (seconds, as a string), effectiveTime, isLocked} or null",
            "lifecycle": "{rule: [{action: {type, storageClass}, condition}]} or null (no rules)",
            "location": "EU, US, EUROPE-WEST3, ...",
            "locationType": "region | dual-region | multi-region",
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
            "settings.ipConfiguration": "{ipv4Enabled, privateNetwork, authorizedNetworks[{value}], requireSsl,"
            " sslMode}",
            "settings.userLabels": "labels",
            "settings.storageAutoResize": "true when storage grows automatically",
            "settings.availabilityType": "ZONAL | REGIONAL (high availability with a standby in another zone)",
            "diskEncryptionConfiguration": "{kmsKeyName} or null (Google-managed keys)",
            **_SCOPE,
        },
    ),
    EvidenceKind(
        "gcp.compute.project",
        id_field="resource_name",
        raw="the Compute Engine v1 project resource",
        description="A project's Compute Engine settings (projects.get): project-wide instance metadata",
        fields={
            "resource_name": "projects/<projectId> (the item id)",
            "commonInstanceMetadata.items": "project-wide metadata [{key, value}] (enable-oslogin,"
            " serial-port-enable, ...); [] when none",
            **_SCOPE,
        },
    ),
    EvidenceKind(
        "gcp.compute.network",
        id_field="resource_name",
        raw="the Compute Engine v1 network resource",
        description="A VPC network (networks.list)",
        fields={
            "resource_name": "projects/<p>/global/networks/<name> (the item id)",
            "name": "network name (`default` for the auto-created one)",
            "autoCreateSubnetworks": "true for an auto-mode network",
            **_SCOPE,
        },
    ),
    EvidenceKind(
        "gcp.compute.target_https_proxy",
        id_field="resource_name",
        raw="the Compute Engine v1 targetHttpsProxy resource",
        description="A global or regional target HTTPS proxy (aggregatedList) with its SSL policy joined",
        fields={
            "resource_name": "projects/<p>/global/targetHttpsProxies/<name> or"
            " projects/<p>/regions/<r>/targetHttpsProxies/<name> (the item id)",
            "name": "proxy name",
            "sslPolicy": "URL of the attached SSL policy (absent: Google's default policy)",
            "ssl_policy": "the attached SslPolicy {name, profile, minTlsVersion, enabledFeatures, customFeatures},"
            " null when none is attached (unknown when the SSL policies could not be listed)",
            **_SCOPE,
        },
    ),
    EvidenceKind(
        "gcp.collector",
        id_field="resource_name",
        description="The collector's own identity in one project: which write permissions it holds"
        " (Resource Manager v3 projects.testIamPermissions, inherited grants included)",
        fields={
            "resource_name": "projects/<projectId> (the item id)",
            "identity": "the service account the collector runs as, or null (credentials that name none)",
            "tested_permissions": "the write permissions asked about (see COLLECTOR_WRITE_PERMISSIONS)",
            "granted_permissions": "the ones the identity holds on the project, sorted ([] = read only)",
            **_SCOPE,
        },
    ),
)

# Write permissions a read-only collector must not hold: IAM, the project, keys, and writes on every
# service it reads. Each can be granted on a project, so testIamPermissions on the project can answer it
# (organization-only permissions could not be asked there).
COLLECTOR_WRITE_PERMISSIONS = (
    "resourcemanager.projects.setIamPolicy",
    "resourcemanager.projects.update",
    "resourcemanager.projects.delete",
    "iam.roles.create",
    "iam.serviceAccounts.create",
    "iam.serviceAccounts.delete",
    "iam.serviceAccountKeys.create",
    "storage.buckets.create",
    "storage.buckets.update",
    "storage.buckets.delete",
    "storage.buckets.setIamPolicy",
    "storage.objects.create",
    "storage.objects.delete",
    "compute.instances.delete",
    "compute.instances.setMetadata",
    "compute.projects.setCommonInstanceMetadata",
    "compute.firewalls.create",
    "compute.firewalls.update",
    "compute.networks.delete",
    "compute.sslPolicies.update",
    "cloudsql.instances.update",
    "cloudsql.instances.delete",
    "essentialcontacts.contacts.delete",
)

PERMISSIONS = (
    "roles/iam.securityReviewer (Security Reviewer) on the organization: getIamPolicy of the organization, "
    "folders, projects and buckets; iam.serviceAccounts.list, iam.serviceAccountKeys.list",
    "roles/browser (Browser) on the organization: resourcemanager.organizations.get, projects.get/list",
    "roles/resourcemanager.folderViewer (Folder Viewer) on the organization: resourcemanager.folders.get/list",
    "roles/cloudsql.viewer (Cloud SQL Viewer) on the organization: cloudsql.instances.list",
    "roles/compute.viewer (Compute Viewer) on the organization: compute.firewalls.list, compute.networks.list,"
    " compute.projects.get, compute.targetHttpsProxies.list, compute.sslPolicies.list",
    "roles/essentialcontacts.viewer (Essential Contacts Viewer) on the organization: essentialcontacts.contacts.list",
    "roles/storage.bucketViewer (Storage Bucket Viewer) on the organization: storage.buckets.list/get",
    "no permission for projects.testIamPermissions (it answers what the caller holds)",
    "OAuth scope cloud-platform.read-only (cloud-platform only where an API answers "
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT; the roles above still limit it to reads)",
)
