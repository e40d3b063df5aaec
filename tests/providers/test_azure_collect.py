"""The Azure connector through azure-identity's credential flow and azure-core's pipeline, against a
local TLS imitation of the token endpoint, ARM and Microsoft Graph."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.testing import collect_items
from connectors.azure import AzureConnector
from connectors.base import CollectContext, CollectionError, ConnectorError, ConnectorState, EvidenceItem

from .azure_estate import SUB_C, populate
from .azure_imitation import CLIENT_SECRET, SUB_A, SUB_B, TENANT, AzureImitation, denied

Records = list[EvidenceItem | CollectionError]


@pytest.fixture
def az(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AzureImitation]:
    imitation = AzureImitation(tmp_path)
    imitation.use_environment(monkeypatch)
    populate(imitation)
    yield imitation
    imitation.stop()


def items(records: Records, kind: str) -> dict[str, EvidenceItem]:
    return {r.id: r for r in records if isinstance(r, EvidenceItem) and r.kind == kind}


def errors(records: Records, kind: str | None = None) -> list[str]:
    return [r.message for r in records if isinstance(r, CollectionError) and (kind is None or r.kind == kind)]


def fields(records: Records) -> set[tuple[str, tuple[str, ...] | None]]:
    """(kind, fields left unknown) of every collection error."""
    return {(r.kind, r.fields) for r in records if isinstance(r, CollectionError)}


def test_collects_every_kind_over_all_pages_of_two_subscriptions(az: AzureImitation) -> None:
    ctx = CollectContext(run_id="r1", started_at=datetime.now(UTC), state=ConnectorState())
    records = collect_items(AzureConnector, az.settings(), ctx)
    assert errors(records) == []

    subs = items(records, "azure.subscription")
    assert sorted(subs) == [f"/subscriptions/{SUB_A}", f"/subscriptions/{SUB_B}"]  # the Disabled one is skipped
    prod = subs[f"/subscriptions/{SUB_A}"].data
    assert prod["displayName"] == "Production" and prod["state"] == "Enabled"
    assert {p["name"]: p["properties"]["pricingTier"] for p in prod["defender_plans"]}["KeyVaults"] == "Free"
    roles = sorted((a["properties"]["principalId"], a["role_definition_name"]) for a in prod["role_assignments"])
    assert roles == [("annexa-collector", "Reader"), ("mg-owner", "Owner"), ("owner-1", "Owner"), ("owner-2", "Owner")]
    assert prod["diagnostic_settings"][0]["name"] == "activity-to-law"
    assert subs[f"/subscriptions/{SUB_B}"].data["diagnostic_settings"] == []

    storage = items(records, "azure.storage.account")
    assert sorted(s.data["name"] for s in storage.values()) == ["legacydata", "prodfiles", "prodlogs", "sandboxtmp"]
    legacy = next(s for s in storage.values() if s.data["name"] == "legacydata")
    assert (
        legacy.id
        == f"/subscriptions/{SUB_A}/resourceGroups/rg-legacy/providers/Microsoft.Storage/storageAccounts/legacydata"
    )
    assert legacy.data["subscription_id"] == SUB_A and legacy.data["resource_group"] == "rg-legacy"
    assert legacy.data["blob_service"]["properties"]["deleteRetentionPolicy"] == {"enabled": False}
    # A 409 "not supported" on a file-only account means "no blob service", not a failure.
    assert next(s for s in storage.values() if s.data["name"] == "prodfiles").data["blob_service"] is None

    vaults = items(records, "azure.keyvault.vault")
    assert sorted(v.data["name"] for v in vaults.values()) == ["kv-legacy", "kv-prod", "kv-sandbox"]
    assert next(v for v in vaults.values() if v.data["name"] == "kv-legacy").data["diagnostic_settings"] == []

    nsgs = {n.data["name"]: n.data for n in items(records, "azure.network.nsg").values()}
    assert sorted(nsgs) == ["nsg-jump", "nsg-mgmt", "nsg-sandbox", "nsg-web"]
    assert nsgs["nsg-mgmt"]["inbound_allow_rules"] == [
        {
            "name": "legacy",
            "priority": 100,
            "protocol": "Tcp",
            "sources": ["192.0.2.0/24", "0.0.0.0/0"],
            "port_ranges": [{"first": 80, "last": 80}, {"first": 20, "last": 25}],
        }
    ]
    assert [r["name"] for r in nsgs["nsg-web"]["inbound_allow_rules"]] == ["https-in", "ssh-from-vnet"]
    assert len(nsgs["nsg-web"]["properties"]["securityRules"]) == 3

    assert len(items(records, "azure.authorization.role_assignment")) == 8

    tenant = items(records, "azure.entra.tenant")[TENANT].data
    assert tenant["security_defaults"]["isEnabled"] is False
    assert [p["displayName"] for p in tenant["conditional_access_policies"]] == [
        "MFA for admins",
        "MFA for everyone (report only)",
        "Compliant devices for Office 365",
        "Device or MFA for everyone",
    ]

    users = items(records, "azure.entra.user")
    assert len(users) == 7
    bob = users["bob@example.com"].data
    assert bob["userType"] == "Member" and bob["accountEnabled"] is True
    assert bob["mfa_registration"]["isMfaRegistered"] is False
    assert users["never_ext#EXT#@example.onmicrosoft.com"].data["signInActivity"] is None

    # Every page was read: 3 subscriptions, 3 storage accounts and 3 NSGs in pages of 2, 7 users.
    assert az.arm.count("GET", r"/subscriptions") == 2
    assert az.arm.count("GET", rf"/subscriptions/{SUB_A}/providers/Microsoft\.Storage/storageAccounts") == 2
    assert az.arm.count("GET", rf"/subscriptions/{SUB_A}/providers/Microsoft\.Network/networkSecurityGroups") == 2
    assert az.graph.count("GET", r"/v1\.0/users") == 4
    assert az.graph.count("GET", r"/v1\.0/reports/authenticationMethods/userRegistrationDetails") == 4
    # Read-only: GETs to ARM and Graph, the only POSTs are token requests, one per audience.
    assert {r.method for r in az.arm.log + az.graph.log} == {"GET"}
    assert {(r.method, r.path) for r in az.login.log if r.method != "GET"} == {("POST", f"/{TENANT}/oauth2/v2.0/token")}
    assert sorted(az.token_scopes) == sorted([f"{az.arm.base_url}/.default", f"{az.graph.base_url}/.default"])
    assert ctx.api_calls == len(az.arm.log) + len(az.graph.log)
    # Nothing was asked about the disabled subscription.
    assert az.arm.count("GET", rf"/subscriptions/{SUB_C}/.*") == 0


def test_a_429_with_retry_after_is_waited_out_and_retried(az: AzureImitation) -> None:
    nsgs = rf"/subscriptions/{SUB_B}/providers/Microsoft\.Network/networkSecurityGroups"
    az.arm.fail(
        "GET",
        nsgs,
        429,
        headers={"Retry-After": "1"},
        body={"error": {"code": "TooManyRequests", "message": "throttled"}},
    )
    az.graph.fail("GET", r"/v1\.0/identity/conditionalAccess/policies", 503)  # no Retry-After: backoff
    started = time.monotonic()
    records = collect_items(AzureConnector, az.settings())
    assert time.monotonic() - started >= 1.0
    assert errors(records) == []
    assert az.arm.count("GET", nsgs) == 2
    assert "nsg-sandbox" in {n.data["name"] for n in items(records, "azure.network.nsg").values()}
    assert items(records, "azure.entra.tenant")[TENANT].data["conditional_access_policies"] is not None


def test_a_retry_after_longer_than_the_bound_ends_the_call_instead_of_sleeping(az: AzureImitation) -> None:
    nsgs = rf"/subscriptions/{SUB_B}/providers/Microsoft\.Network/networkSecurityGroups"
    throttled = {"error": {"code": "TooManyRequests", "message": "throttled"}}
    az.arm.fail("GET", nsgs, 429, times=1_000_000, headers={"Retry-After": "3600"}, body=throttled)
    records = collect_items(AzureConnector, az.settings(retry={"max_retry_after_seconds": 30}))
    [error] = errors(records, "azure.network.nsg")
    assert "429 TooManyRequests: throttled" in error
    assert az.arm.count("GET", nsgs) == 1  # asked once: an hour's wait is refused, not slept
    assert items(records, "azure.storage.account")  # the rest of the subscription is still collected


def test_permission_denials_fail_only_their_kind(az: AzureImitation) -> None:
    az.arm.fail("GET", rf"/subscriptions/{SUB_B}/providers/Microsoft\.KeyVault/vaults", 403, body=denied())
    az.graph.fail(
        "GET",
        r"/v1\.0/reports/authenticationMethods/userRegistrationDetails",
        403,
        body=denied("Authorization_RequestDenied"),
    )
    records = collect_items(AzureConnector, az.settings())

    [vault_error] = errors(records, "azure.keyvault.vault")
    assert vault_error.startswith(f"subscription {SUB_B}: key vaults: 403 AuthorizationFailed")
    assert sorted(v.data["name"] for v in items(records, "azure.keyvault.vault").values()) == ["kv-legacy", "kv-prod"]
    assert "sandboxtmp" in {s.data["name"] for s in items(records, "azure.storage.account").values()}
    [user_error] = errors(records, "azure.entra.user")
    assert user_error.startswith(f"tenant {TENANT}: MFA registration details: 403 Authorization_RequestDenied")
    # The vault list is missing (whole kind in doubt); the users are there without one joined field.
    assert fields(records) == {("azure.keyvault.vault", None), ("azure.entra.user", ("mfa_registration",))}
    users = items(records, "azure.entra.user")
    assert len(users) == 7 and all(u.data["mfa_registration"] is None for u in users.values())
    assert {r.kind for r in records if isinstance(r, CollectionError)} == {"azure.keyvault.vault", "azure.entra.user"}


def test_subscription_facts_that_are_denied_stay_null_and_are_reported(az: AzureImitation) -> None:
    az.arm.fail("GET", rf"/subscriptions/{SUB_A}/providers/Microsoft\.Security/pricings", 403, body=denied())
    az.arm.fail(
        "GET", rf"/subscriptions/{SUB_A}/providers/Microsoft\.Authorization/roleAssignments", 403, body=denied()
    )
    records = collect_items(AzureConnector, az.settings())
    prod = items(records, "azure.subscription")[f"/subscriptions/{SUB_A}"].data
    assert prod["defender_plans"] is None and prod["role_assignments"] is None
    assert prod["diagnostic_settings"] is not None
    sub_errors = errors(records, "azure.subscription")
    assert [m.split(": 403")[0] for m in sub_errors] == [
        f"subscription {SUB_A}: Defender pricings",
        f"subscription {SUB_A}: role assignments",
    ]
    # Each failure names the one field it left unknown; the role assignment list itself is missing.
    assert fields(records) == {
        ("azure.subscription", ("defender_plans",)),
        ("azure.subscription", ("role_assignments",)),
        ("azure.authorization.role_assignment", None),
    }
    assert errors(records, "azure.authorization.role_assignment") == [
        f"subscription {SUB_A}: role assignments unreadable"
    ]
    # Role definitions are only asked for when there are assignments to name.
    assert az.arm.count("GET", rf"/subscriptions/{SUB_A}/providers/Microsoft\.Authorization/roleDefinitions") == 0


def test_unreadable_role_definitions_still_name_the_built_in_roles(az: AzureImitation) -> None:
    az.subscriptions[SUB_A].add_assignment("11111111-2222-4333-8444-555555555555", "custom-admin")
    az.arm.fail("GET", r"/subscriptions/[^/]+/providers/Microsoft\.Authorization/roleDefinitions", 404, times=2)
    records = collect_items(AzureConnector, az.settings())
    subs = items(records, "azure.subscription")
    prod, sandbox = (subs[f"/subscriptions/{s}"].data["role_assignments"] for s in (SUB_A, SUB_B))
    assert sorted((a["properties"]["principalId"], a["role_definition_name"]) for a in prod) == [
        ("annexa-collector", "Reader"),
        ("custom-admin", None),  # a custom role: its name only the failed call could give
        ("mg-owner", "Owner"),
        ("owner-1", "Owner"),
        ("owner-2", "Owner"),
    ]
    assert {a["role_definition_name"] for a in sandbox} == {"Owner"}
    # Sub A's assignments are incomplete (one name unknown); sub B's failure left nothing unknown.
    assert fields(records) == {
        ("azure.subscription", ("role_assignments",)),
        ("azure.authorization.role_assignment", ("role_definition_name",)),
        ("azure.subscription", ()),
    }
    assert [m.split(": 404")[0] for m in errors(records, "azure.subscription")] == [
        f"subscription {SUB_A}: role definitions",
        f"subscription {SUB_B}: role definitions",
    ]


def test_a_plain_404_on_a_detail_is_an_error_of_that_field_only(az: AzureImitation) -> None:
    # An API imitation that lacks an endpoint answers a bare 404: unknown, never "absent".
    az.subscriptions[SUB_A].blob_services.pop("prodlogs")
    az.arm.fail("GET", r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/.*/diagnosticSettings", 404, times=9)
    az.graph.fail("GET", r"/v1\.0/policies/identitySecurityDefaultsEnforcementPolicy", 404)
    records = collect_items(AzureConnector, az.settings())
    assert fields(records) == {
        ("azure.storage.account", ("blob_service",)),
        ("azure.keyvault.vault", ("diagnostic_settings",)),
        ("azure.entra.tenant", ("security_defaults",)),
    }
    assert len(errors(records, "azure.keyvault.vault")) == 3
    assert all(v.data["diagnostic_settings"] is None for v in items(records, "azure.keyvault.vault").values())
    storage = {s.data["name"]: s.data for s in items(records, "azure.storage.account").values()}
    assert storage["prodlogs"]["blob_service"] is None and storage["legacydata"]["blob_service"] is not None
    assert errors(records, "azure.storage.account") == [
        f"subscription {SUB_A}: blob service of prodlogs: 404 ResourceNotFound: The Resource was not found."
    ]
    assert items(records, "azure.entra.tenant")[TENANT].data["security_defaults"] is None


def test_an_error_on_a_later_page_is_an_error_never_a_shorter_list(az: AzureImitation) -> None:
    path = f"/subscriptions/{SUB_A}/providers/Microsoft.Storage/storageAccounts"
    for _ in range(3):  # the first try and both retries
        az.fail_page(az.arm, path, 2, (500, {}, {"error": {"code": "InternalServerError", "message": "boom"}}))
    records = collect_items(AzureConnector, az.settings())
    assert errors(records, "azure.storage.account") == [
        f"subscription {SUB_A}: storage accounts: 500 InternalServerError: boom"
    ]
    assert [s.data["name"] for s in items(records, "azure.storage.account").values()] == ["sandboxtmp"]


def test_explicit_subscriptions_and_one_that_does_not_exist(az: AzureImitation) -> None:
    missing = "dddddddd-0000-4000-8000-000000000004"
    records = collect_items(AzureConnector, az.settings([SUB_B, missing]))
    assert list(items(records, "azure.subscription")) == [f"/subscriptions/{SUB_B}"]
    failed = {r.kind: r.message for r in records if isinstance(r, CollectionError)}
    assert set(failed) == {
        "azure.subscription",
        "azure.storage.account",
        "azure.keyvault.vault",
        "azure.network.nsg",
        "azure.authorization.role_assignment",
        "azure.web.site",
    }
    assert failed["azure.storage.account"].startswith(f"subscription {missing}: 404 SubscriptionNotFound")
    assert az.arm.count("GET", r"/subscriptions") == 0  # no listing when ids are given


def test_tenant_without_sign_in_reports_falls_back_and_leaves_sign_ins_unknown(az: AzureImitation) -> None:
    az.premium = False
    records = collect_items(AzureConnector, az.settings())
    assert errors(records) == []
    users = items(records, "azure.entra.user")
    assert len(users) == 7 and all("signInActivity" not in u.data for u in users.values())


def test_secret_and_tokens_never_reach_evidence_errors_or_logs(
    az: AzureImitation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    az.arm.fail("GET", rf"/subscriptions/{SUB_B}/providers/Microsoft\.KeyVault/vaults", 403, body=denied())
    records = collect_items(AzureConnector, az.settings())
    dumped = repr(records) + caplog.text
    assert az.issued and CLIENT_SECRET not in dumped
    assert not [token for token in az.issued if token in dumped]


def test_a_rejected_secret_stops_the_connector_with_a_clear_message(
    az: AzureImitation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong-secret-value")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")  # no managed-identity/CLI fallbacks
    with pytest.raises(ConnectorError, match=f"cannot authenticate to tenant {TENANT}") as raised:
        collect_items(AzureConnector, az.settings())
    assert "wrong-secret-value" not in str(raised.value)
    assert az.arm.count() == 0


@pytest.mark.parametrize(
    "settings",
    [
        {"tenant_id": TENANT, "arm_endpoint": "http://127.0.0.1:1"},
        {"tenant_id": TENANT, "subscriptions": ["all", SUB_A]},
        {"tenant_id": TENANT, "subscriptions": []},
        {"tenant_id": "  "},
        {"tenant_id": TENANT, "client_secret": "x"},
    ],
)
def test_invalid_settings_are_rejected(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        AzureConnector.settings_model.model_validate(settings)


def test_defaults_are_the_public_cloud_and_the_label_names_the_tenant() -> None:
    settings = AzureConnector.settings_model.model_validate({"tenant_id": TENANT})
    assert settings.model_dump() == {
        "tenant_id": TENANT,
        "subscriptions": ["all"],
        "authority_host": "https://login.microsoftonline.com",
        "arm_endpoint": "https://management.azure.com",
        "graph_endpoint": "https://graph.microsoft.com",
        "retry": {
            "max_attempts": 5,
            "initial_backoff_seconds": 0.5,
            "max_backoff_seconds": 20.0,
            "deadline_seconds": 60.0,
            "max_retry_after_seconds": 60.0,
        },
        "connect_timeout_seconds": 10.0,
        "read_timeout_seconds": 30.0,
    }
    assert AzureConnector.label(settings) == f"azure:{TENANT}"


def test_importing_the_connector_loads_no_azure_sdk() -> None:
    import subprocess
    import sys

    code = "import sys, connectors.azure; assert not [m for m in sys.modules if m.startswith('azure')], 'sdk loaded'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_subscriptions_are_collected_concurrently(az: AzureImitation) -> None:
    import re
    import threading

    # Both subscriptions' pricing requests must be in flight at once to get past the barrier.
    both_in_flight = threading.Barrier(2, timeout=10)
    pattern = r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.Security/pricings"
    [original] = [handler for method, rx, handler in az.arm.routes if rx.pattern == pattern + "$"]

    def rendezvous(req, **groups):  # type: ignore[no-untyped-def]
        both_in_flight.wait()
        return original(req, **groups)

    az.arm.routes.insert(0, ("GET", re.compile(pattern + "$"), rendezvous))
    records = collect_items(AzureConnector, az.settings())
    assert errors(records) == []
    assert all(s.data["defender_plans"] for s in items(records, "azure.subscription").values())
