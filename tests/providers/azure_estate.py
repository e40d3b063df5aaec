"""The test estate served by the Azure imitation: two enabled subscriptions, one disabled, a tenant."""

from __future__ import annotations

from .azure_imitation import OWNER_ROLE, READER_ROLE, SUB_A, SUB_B, AzureImitation

SUB_C = "cccccccc-0000-4000-8000-000000000003"


def populate(az: AzureImitation) -> None:
    prod = az.subscription(SUB_A, "Production")
    prod.add_storage("prodlogs")
    prod.add_storage(
        "legacydata",
        rg="rg-legacy",
        soft_delete_days=None,
        supportsHttpsTrafficOnly=False,
        minimumTlsVersion="TLS1_0",
        networkAcls={"defaultAction": "Allow", "bypass": "AzureServices"},
    )
    del prod.storage_accounts[-1]["properties"]["allowBlobPublicAccess"]  # an old account: never set
    prod.add_storage("prodfiles", kind="FileStorage")
    prod.blob_services["prodfiles"] = (409, "FeatureNotSupportedForAccount", "Blob is not supported for the account.")
    prod.add_vault("kv-prod")
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
    prod.set_pricings(VirtualMachines="Standard", StorageAccounts="Standard", SqlServers="Standard", KeyVaults="Free")
    prod.add_assignment(OWNER_ROLE, "owner-1")
    prod.add_assignment(OWNER_ROLE, "owner-2", principal_type="Group")
    prod.add_assignment(OWNER_ROLE, "mg-owner", scope="/providers/Microsoft.Management/managementGroups/root")
    prod.add_assignment(READER_ROLE, "annexa-collector", principal_type="ServicePrincipal")
    prod.export_activity_log()

    sandbox = az.subscription(SUB_B, "Sandbox")
    sandbox.add_storage("sandboxtmp")
    sandbox.add_vault("kv-sandbox", enableSoftDelete=False)
    sandbox.add_nsg("nsg-sandbox", [{"name": "ssh", "sourceAddressPrefix": "0.0.0.0/0", "destinationPortRange": "22"}])
    sandbox.set_pricings(VirtualMachines="Free", StorageAccounts="Standard", SqlServers="Free")
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
    sandbox.set_pricings(VirtualMachines="Standard", StorageAccounts="Standard", SqlServers="Standard", Dns="Free")
    sandbox.role_assignments = sandbox.role_assignments[:3]
    sandbox.export_activity_log()
    az.add_ca_policy("MFA for everyone")
    for registration in az.registrations:
        registration["isMfaRegistered"] = True
    for user in az.users:
        if user["userType"] == "Guest":
            user["signInActivity"] = {"lastSignInDateTime": "2026-11-01T00:00:00Z"}
