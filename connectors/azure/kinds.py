"""The evidence kinds the Azure connector yields, with the fields checks may rely on."""

from __future__ import annotations

from connectors.base import EvidenceKind

SUBSCRIPTION = "azure.subscription"
STORAGE_ACCOUNT = "azure.storage.account"
KEY_VAULT = "azure.keyvault.vault"
NSG = "azure.network.nsg"
WEB_SITE = "azure.web.site"
ROLE_ASSIGNMENT = "azure.authorization.role_assignment"
TENANT = "azure.entra.tenant"
USER = "azure.entra.user"

# Kinds collected per subscription: a subscription that cannot be read fails all of them.
SUBSCRIPTION_KINDS = (SUBSCRIPTION, STORAGE_ACCOUNT, KEY_VAULT, NSG, ROLE_ASSIGNMENT, WEB_SITE)

_ARM_RESOURCE = {
    "id": "ARM resource id (the item id)",
    "name": "resource name",
    "type": "ARM resource type",
    "location": "Azure region",
    "tags": "resource tags",
    "properties": "the resource's raw ARM properties",
    "subscription_id": "subscription the resource belongs to",
    "resource_group": "resource group name",
}

EVIDENCE_KINDS: tuple[EvidenceKind, ...] = (
    EvidenceKind(
        SUBSCRIPTION,
        id_field="id",
        raw="the ARM subscription object",
        description="An Azure subscription (ARM GET /subscriptions) with its Defender plans, "
        "subscription-scope role assignments, activity-log diagnostic settings, policy assignments and "
        "Defender for Cloud security contacts, secure score and alerts joined.",
        fields={
            "id": "subscription resource id, /subscriptions/<subscriptionId> (the item id)",
            "subscriptionId": "subscription GUID",
            "displayName": "subscription name",
            "state": "Enabled, Disabled, Warned, PastDue or Deleted",
            "tenantId": "home tenant of the subscription",
            "tags": "the subscription's tags (absent when it has none)",
            "defender_plans": "Microsoft.Security/pricings: list of {name, properties.pricingTier "
            "(Free|Standard), properties.subPlan...}; null when it could not be read",
            "role_assignments": "Microsoft.Authorization/roleAssignments at or above the subscription "
            "($filter=atScope()), each raw with role_definition_name joined from roleDefinitions (built-in "
            "roles are named from their fixed ids when roleDefinitions cannot be read); null when it could "
            "not be read",
            "diagnostic_settings": "subscription Microsoft.Insights/diagnosticSettings (activity log "
            "export): raw list with properties.logs[].enabled and the destinations "
            "(workspaceId, storageAccountId, eventHubAuthorizationRuleId, marketplacePartnerId); "
            "null when it could not be read",
            "policy_assignments": "Microsoft.Authorization/policyAssignments at the subscription and the "
            "management groups above it ($filter=atScope()), raw: properties.policyDefinitionId, "
            "properties.enforcementMode (Default|DoNotEnforce), properties.scope, properties.displayName; "
            "null when it could not be read",
            "security_contacts": "Microsoft.Security/securityContacts (api-version 2023-12-01-preview), raw: "
            "properties.emails (';'-separated), properties.isEnabled, properties.notificationsByRole "
            "{state, roles}, properties.notificationsSources[] ({sourceType: Alert, minimalSeverity} / "
            "{sourceType: AttackPath, minimalRiskLevel}); null when it could not be read",
            "secure_score": "the ascScore entry of Microsoft.Security/secureScores, raw: "
            "properties.score {current, max, percentage (0-1)}; null when it could not be read or the "
            "answer had no ascScore entry",
            "security_alerts": "Microsoft.Security/alerts, each reduced to {id, name, alertDisplayName, "
            "severity (Informational|Low|Medium|High), status (Active|InProgress|Resolved|Dismissed), "
            "timeGeneratedUtc}; null when it could not be read",
        },
    ),
    EvidenceKind(
        STORAGE_ACCOUNT,
        id_field="id",
        raw="the ARM storage account resource",
        description="A storage account (Microsoft.Storage/storageAccounts) with its blob service properties joined.",
        fields={
            **_ARM_RESOURCE,
            "kind": "StorageV2, BlobStorage, ...",
            "sku": "{name, tier}",
            "properties.supportsHttpsTrafficOnly": "secure transfer required",
            "properties.allowBlobPublicAccess": "anonymous blob access allowed (absent = allowed on old accounts)",
            "properties.minimumTlsVersion": "TLS1_0, TLS1_1, TLS1_2 or TLS1_3 (absent = TLS1_0)",
            "properties.networkAcls.defaultAction": "Allow or Deny",
            "properties.publicNetworkAccess": "Enabled, Disabled or SecuredByPerimeter",
            "blob_service": "blobServices/default: {properties.deleteRetentionPolicy, "
            "properties.containerDeleteRetentionPolicy, properties.isVersioningEnabled}; null when unreadable "
            "(reported as an error of this field) or when the account has none (FileStorage)",
        },
    ),
    EvidenceKind(
        KEY_VAULT,
        id_field="id",
        raw="the ARM key vault resource",
        description="A key vault (Microsoft.KeyVault/vaults) with its diagnostic settings joined.",
        fields={
            **_ARM_RESOURCE,
            "properties.enablePurgeProtection": "purge protection (absent = off)",
            "properties.enableSoftDelete": "soft delete (absent = on, the default)",
            "properties.enableRbacAuthorization": "Azure RBAC instead of access policies",
            "properties.publicNetworkAccess": "Enabled or Disabled",
            "diagnostic_settings": "the vault's Microsoft.Insights/diagnosticSettings (raw list, "
            "properties.logs[] with category/categoryGroup and enabled); null when unreadable",
        },
    ),
    EvidenceKind(
        NSG,
        id_field="id",
        raw="the ARM network security group resource",
        description="A network security group (Microsoft.Network/networkSecurityGroups) with its rules.",
        fields={
            **_ARM_RESOURCE,
            "properties.securityRules": "the user-defined rules, raw",
            "properties.defaultSecurityRules": "the built-in rules, raw",
            "inbound_allow_rules": "the inbound Allow rules of securityRules normalised: {name, priority, "
            "protocol, sources (every source prefix / service tag), port_ranges ([{first, last}], '*' = "
            "0-65535)}",
        },
    ),
    EvidenceKind(
        WEB_SITE,
        id_field="id",
        raw="the ARM web app resource",
        description="An App Service web or function app (Microsoft.Web/sites) with its site configuration "
        "(config/web) joined.",
        fields={
            **_ARM_RESOURCE,
            "kind": "app, app,linux, functionapp, ...",
            "properties.httpsOnly": "HTTP requests are redirected to HTTPS",
            "properties.state": "Running or Stopped",
            "properties.defaultHostName": "the app's *.azurewebsites.net host name",
            "site_config": "GET {site}/config/web, raw: properties.minTlsVersion (1.0|1.1|1.2|1.3), "
            "properties.ftpsState (AllAllowed|FtpsOnly|Disabled), properties.scmMinTlsVersion, "
            "properties.http20Enabled; null when it could not be read",
        },
    ),
    EvidenceKind(
        ROLE_ASSIGNMENT,
        id_field="id",
        raw="the ARM role assignment",
        description="An Azure RBAC role assignment visible at a subscription (raw), with its role name.",
        fields={
            "id": "role assignment resource id (the item id)",
            "name": "assignment GUID",
            "properties.scope": "where it applies",
            "properties.principalId": "object id of the principal",
            "properties.principalType": "User, Group, ServicePrincipal, ForeignGroup",
            "properties.roleDefinitionId": "role definition resource id",
            "role_definition_name": "the role's name, e.g. Owner (null if the definition is not visible)",
            "subscription_id": "the subscription it was read from",
        },
    ),
    EvidenceKind(
        TENANT,
        id_field="tenant_id",
        description="The Entra ID tenant: security defaults and Conditional Access policies (Graph v1.0).",
        fields={
            "tenant_id": "tenant id as configured (the item id)",
            "security_defaults": "GET /policies/identitySecurityDefaultsEnforcementPolicy (isEnabled...); "
            "null when unreadable",
            "conditional_access_policies": "GET /identity/conditionalAccess/policies, raw list "
            "(state, conditions.users.includeUsers, conditions.applications.includeApplications, "
            "grantControls.operator, grantControls.builtInControls, grantControls.termsOfUse, "
            "grantControls.authenticationStrength); null when unreadable",
        },
    ),
    EvidenceKind(
        USER,
        id_field="userPrincipalName",
        raw="the Microsoft Graph user object",
        description="An Entra ID user (Graph GET /users) with MFA registration details joined "
        "(GET /reports/authenticationMethods/userRegistrationDetails).",
        fields={
            "userPrincipalName": "sign-in name (the item id)",
            "id": "object id",
            "displayName": "display name",
            "accountEnabled": "whether sign-in is allowed",
            "userType": "Member or Guest",
            "createdDateTime": "ISO-8601 creation time",
            "signInActivity": "{lastSignInDateTime, lastNonInteractiveSignInDateTime}; null = never signed "
            "in; absent when the tenant cannot report sign-ins (no Entra ID P1)",
            "mfa_registration": "the user's userRegistrationDetails record (isMfaRegistered, isAdmin, "
            "methodsRegistered, isPasswordlessCapable...); null when unreadable or absent",
        },
    ),
)
