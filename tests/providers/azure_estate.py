"""The test estate served by the Azure imitation: two enabled subscriptions, one disabled, a tenant."""

from __future__ import annotations

from .azure_imitation import MCSB, OWNER_ROLE, READER_ROLE, SUB_A, SUB_B, AzureImitation

SUB_C = "cccccccc-0000-4000-8000-000000000003"
ISO_27001 = "89c6cddc-1c73-4ac1-b19c-54d1a15a42f2"  # another built-in initiative: not the baseline
TERMS_OF_USE = "0d5c5b2e-7c1b-4f0e-9a55-acceptableuse"


def populate(az: AzureImitation) -> None:
    prod = az.subscription(SUB_A, "Production")
    prod.add_storage("prodlogs")
    prod.storage_accounts[-1].update(
        tags={"data-classification": "internal", "tier": "critical"}, sku={"name": "Standard_RAGRS", "tier": "Standard"}
    )
    prod.add_storage(
        "legacydata",
        rg="rg-legacy",
        soft_delete_days=None,
        supportsHttpsTrafficOnly=False,
        minimumTlsVersion="TLS1_0",
        networkAcls={"defaultAction": "Allow", "bypass": "AzureServices"},
    )
    del prod.storage_accounts[-1]["properties"]["allowBlobPublicAccess"]  # an old account: never set
    prod.storage_accounts[-1]["tags"] = {"tier": "critical"}  # critical, unclassified, locally redundant
    prod.add_storage("prodfiles", kind="FileStorage")
    prod.storage_accounts[-1]["tags"] = {"Data-Classification": "confidential"}  # tag names ignore case
    prod.blob_services["prodfiles"] = (409, "FeatureNotSupportedForAccount", "Blob is not supported for the account.")
    prod.add_vault("kv-prod")
    prod.vaults[-1]["tags"] = {"data-classification": "confidential"}
    prod.add_vault("kv-legacy", audit_logs=False, enablePurgeProtection=None)
    prod.add_nsg(
        "nsg-web",
        [
            {"name": "https-in", "sourceAddressPrefix": "Internet", "destinationPortRange": "443"},
            {"name": "ssh-from-vnet", "sourceAddressPrefix": "10.0.0.0/8", "destinationPortRange": "22"},
            {"name": "deny-rdp", "sourceAddressPrefix": "*", "destinationPortRange": "3389", "access": "Deny"},
        ],
    )
    prod.add_nsg("nsg-jump", [{"name": "rdp-range", "sourceAddressPrefix": "*", "destinationPortRange": "3380-3390"}])
    prod.add_nsg(
        "nsg-mgmt",
        [
            {
                "name": "legacy",
                "sourceAddressPrefixes": ["192.0.2.0/24", "0.0.0.0/0"],
                "destinationPortRanges": ["80", "20-25"],
            }
        ],
    )
    prod.set_pricings(
        VirtualMachines="Standard",
        StorageAccounts="Standard",
        SqlServers="Standard",
        KeyVaults="Free",
        CloudPosture="Standard",
    )
    prod.tags = {"environment": "production", "cost-center": "4711"}
    prod.assign_policy(MCSB, "SecurityCenterBuiltIn")
    prod.assign_policy(
        ISO_27001,
        "iso27001-audit",
        scope="/providers/Microsoft.Management/managementGroups/root",
        enforcement="DoNotEnforce",
    )
    prod.set_security_contact("secops@example.com;ciso@example.com", alert_severity="Medium")
    prod.set_secure_score(0.8214)
    prod.add_alert("a-recent-high", "High", "Active", "2026-11-24T09:15:00.1234567Z")  # 3 days: within triage time
    prod.add_alert("a-old-high", "High", "Resolved", "2026-08-01T10:00:00Z")
    prod.add_alert("a-old-medium", "Medium", "Active", "2026-09-01T10:00:00Z")
    prod.add_site("app-portal")
    prod.add_site("func-billing", kind="functionapp", ftps="Disabled", min_tls="1.3")
    prod.add_site("app-legacy", https_only=False, min_tls="1.0", ftps="AllAllowed", rg="rg-legacy")
    prod.add_assignment(OWNER_ROLE, "owner-1")
    prod.add_assignment(OWNER_ROLE, "owner-2", principal_type="Group")
    prod.add_assignment(OWNER_ROLE, "mg-owner", scope="/providers/Microsoft.Management/managementGroups/root")
    prod.add_assignment(READER_ROLE, "annexa-collector", principal_type="ServicePrincipal")
    prod.export_activity_log()

    sandbox = az.subscription(SUB_B, "Sandbox")
    sandbox.add_storage("sandboxtmp")
    sandbox.storage_accounts[-1]["tags"] = {"data-classification": "Secret"}  # not a level of the scheme
    sandbox.add_vault("kv-sandbox", enableSoftDelete=False)
    sandbox.vaults[-1]["tags"] = {"data-classification": "internal"}
    sandbox.add_nsg("nsg-sandbox", [{"name": "ssh", "sourceAddressPrefix": "0.0.0.0/0", "destinationPortRange": "22"}])
    sandbox.set_pricings(VirtualMachines="Free", StorageAccounts="Standard", SqlServers="Free")
    sandbox.assign_policy(MCSB, "SecurityCenterBuiltIn", enforcement="DoNotEnforce")
    sandbox.set_security_contact("sandbox-team@example.com", alert_severity=None)  # attack paths only
    sandbox.set_secure_score(0.5512)
    sandbox.add_alert("b-untriaged", "High", "Active", "2026-11-10T08:00:00Z")  # 17 days, never triaged
    sandbox.add_alert("b-stuck", "High", "InProgress", "2026-10-01T08:00:00Z")  # in hand, but 57 days open
    sandbox.add_site("app-sandbox", ftps="FtpsOnly")
    for n in range(4):
        sandbox.add_assignment(OWNER_ROLE, f"sandbox-owner-{n}")

    az.subscription(SUB_C, "Old", state="Disabled")

    az.add_user("alice@example.com", admin=True)
    az.add_user("bob@example.com", mfa=False)
    az.add_user("carol@example.com", enabled=False, mfa=False)
    az.add_user("dave@example.com", admin=True, mfa=False)
    az.add_user("partner_ext#EXT#@example.onmicrosoft.com", user_type="Guest", mfa=False)
    az.add_user("stale_ext#EXT#@example.onmicrosoft.com", user_type="Guest", last_sign_in="2025-01-05T08:00:00Z")
    az.add_user(
        "never_ext#EXT#@example.onmicrosoft.com", user_type="Guest", last_sign_in=None, created="2025-03-01T00:00:00Z"
    )
    az.add_ca_policy("MFA for admins", include_users=("None",))
    az.add_ca_policy("MFA for everyone (report only)", state="enabledForReportingButNotEnforced")
    az.add_ca_policy("Compliant devices for Office 365", controls=("compliantDevice",), include_apps=("Office365",))
    az.add_ca_policy("Device or MFA for everyone", state="disabled", controls=("compliantDevice", "mfa"))


def remediate(az: AzureImitation) -> None:
    """The same estate with every finding fixed."""
    prod, sandbox = az.subscriptions[SUB_A], az.subscriptions[SUB_B]
    legacy = prod.storage_accounts[1]["properties"]
    legacy.update(
        supportsHttpsTrafficOnly=True,
        allowBlobPublicAccess=False,
        minimumTlsVersion="TLS1_2",
        publicNetworkAccess="Disabled",
    )
    prod.blob_services["legacydata"]["properties"]["deleteRetentionPolicy"] = {"enabled": True, "days": 14}
    prod.vaults[1]["properties"]["enablePurgeProtection"] = True
    prod.add_vault("kv-legacy-logged")
    prod.vault_diagnostics["kv-legacy"] = prod.vault_diagnostics["kv-legacy-logged"]
    sandbox.vaults[0]["properties"].pop("enableSoftDelete")  # absent means on
    prod.nsgs[1:] = []
    sandbox.nsgs[0]["properties"]["securityRules"][0]["properties"]["sourceAddressPrefix"] = "VirtualNetwork"
    sandbox.set_pricings(
        VirtualMachines="Standard",
        StorageAccounts="Standard",
        SqlServers="Standard",
        Dns="Free",
        CloudPosture="Standard",
    )
    prod.storage_accounts[1]["tags"]["data-classification"] = "restricted"
    prod.storage_accounts[1]["sku"] = {"name": "Standard_GZRS", "tier": "Standard"}
    sandbox.storage_accounts[0]["tags"]["data-classification"] = "internal"
    prod.vaults[1]["tags"] = {"data-classification": "confidential"}
    prod.vaults[2]["tags"] = {"data-classification": "confidential"}
    sandbox.tags = {"Environment": "sandbox"}
    sandbox.policy_assignments[0]["properties"]["enforcementMode"] = "Default"
    sandbox.set_security_contact("sandbox-team@example.com", alert_severity="High")
    sandbox.set_secure_score(0.74)
    for alert in sandbox.alerts:
        alert["properties"]["status"] = "Resolved"
    site = prod.site_configs["app-legacy"]["properties"]
    site.update(minTlsVersion="1.2", ftpsState="Disabled")
    prod.sites[2]["properties"]["httpsOnly"] = True
    az.add_ca_policy("Managed devices for all apps", controls=("mfa", "compliantDevice"), operator="AND")
    az.add_ca_policy("Acceptable use", controls=(), terms_of_use=(TERMS_OF_USE,))
    sandbox.role_assignments = sandbox.role_assignments[:3]
    sandbox.export_activity_log()
    az.add_ca_policy("MFA for everyone")
    for registration in az.registrations:
        registration["isMfaRegistered"] = True
    for user in az.users:
        if user["userType"] == "Guest":
            user["signInActivity"] = {"lastSignInDateTime": "2026-11-01T00:00:00Z"}
