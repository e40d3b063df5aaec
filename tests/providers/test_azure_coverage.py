"""The Azure coverage checks (issue #15): web apps, Defender for Cloud posture, policy, tags and Conditional
Access device and terms-of-use grants, collected through the real connector over the TLS imitation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collector.testing import collect_items, evaluate_connector_checks
from connectors.azure import AzureConnector
from connectors.base import CollectionError, EvidenceItem

from .azure_estate import populate, remediate
from .azure_imitation import SUB_A, SUB_B, TENANT, AzureImitation, denied

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
A, B = f"/subscriptions/{SUB_A}", f"/subscriptions/{SUB_B}"
Records = list[EvidenceItem | CollectionError]


def site(name: str, rg: str = "rg-web", sub: str = A) -> str:
    return f"{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}"


@pytest.fixture
def az(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AzureImitation]:
    imitation = AzureImitation(tmp_path)
    imitation.use_environment(monkeypatch)
    imitation.max_attempts = 2
    populate(imitation)
    yield imitation
    imitation.stop()


def items(records: Records, kind: str) -> dict[str, EvidenceItem]:
    return {r.id: r for r in records if isinstance(r, EvidenceItem) and r.kind == kind}


def errors(records: Records) -> list[CollectionError]:
    return [r for r in records if isinstance(r, CollectionError)]


def judge(records: Records, **params: Any) -> dict[str, Any]:
    return evaluate_connector_checks(AzureConnector, records, now=NOW, params=params)


def verdicts(result: Any) -> dict[str, str]:
    return {f.resource: f.status for f in result.findings}


# -- collection ------------------------------------------------------------------------------------


def test_new_fields_and_web_apps_are_collected_over_every_page(az: AzureImitation) -> None:
    az.arm_page_size = 1  # every list of two or more items spans pages
    az.subscriptions[SUB_A].security_contacts.append(
        {**az.subscriptions[SUB_A].security_contacts[0], "name": "secondary", "id": f"{A}/x/secondary"}
    )
    records = collect_items(AzureConnector, az.settings())
    assert errors(records) == []

    prod = items(records, "azure.subscription")[A].data
    assert prod["tags"] == {"environment": "production", "cost-center": "4711"}
    assert "tags" not in items(records, "azure.subscription")[B].data  # ARM leaves tags out when there are none
    assert [a["name"] for a in prod["policy_assignments"]] == ["SecurityCenterBuiltIn", "iso27001-audit"]
    assert prod["policy_assignments"][0]["properties"]["policyDefinitionId"].endswith(
        "/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
    )
    assert [c["name"] for c in prod["security_contacts"]] == ["default", "secondary"]
    assert prod["security_contacts"][0]["properties"]["notificationsSources"][0] == {
        "sourceType": "Alert",
        "minimalSeverity": "Medium",
    }
    # The ascScore entry is on the second page, after another initiative's score.
    assert prod["secure_score"]["name"] == "ascScore"
    assert prod["secure_score"]["properties"]["score"]["percentage"] == 0.8214
    # Alerts keep what a verdict needs and nothing of their entities (user names, hosts, command lines).
    assert prod["security_alerts"] == [
        {
            "id": f"{A}/resourceGroups/rg-web/providers/Microsoft.Security/locations/westeurope/alerts/a-recent-high",
            "name": "a-recent-high",
            "alertDisplayName": "Suspicious activity a-recent-high",
            "severity": "High",
            "status": "Active",
            "timeGeneratedUtc": "2026-11-24T09:15:00.1234567Z",
        },
        {
            "id": f"{A}/resourceGroups/rg-web/providers/Microsoft.Security/locations/westeurope/alerts/a-old-high",
            "name": "a-old-high",
            "alertDisplayName": "Suspicious activity a-old-high",
            "severity": "High",
            "status": "Resolved",
            "timeGeneratedUtc": "2026-08-01T10:00:00Z",
        },
        {
            "id": f"{A}/resourceGroups/rg-web/providers/Microsoft.Security/locations/westeurope/alerts/a-old-medium",
            "name": "a-old-medium",
            "alertDisplayName": "Suspicious activity a-old-medium",
            "severity": "Medium",
            "status": "Active",
            "timeGeneratedUtc": "2026-09-01T10:00:00Z",
        },
    ]
    assert "alert-entity" not in repr(records)

    sites = items(records, "azure.web.site")
    assert sorted(sites) == sorted(
        [site("app-portal"), site("func-billing"), site("app-legacy", "rg-legacy"), site("app-sandbox", sub=B)]
    )
    legacy = sites[site("app-legacy", "rg-legacy")].data
    assert (legacy["subscription_id"], legacy["resource_group"], legacy["properties"]["httpsOnly"]) == (
        SUB_A,
        "rg-legacy",
        False,
    )
    assert legacy["properties"]["siteConfig"]["minTlsVersion"] is None  # why config/web is read per app
    assert legacy["site_config"]["properties"] == {
        "minTlsVersion": "1.0",
        "scmMinTlsVersion": "1.2",
        "ftpsState": "AllAllowed",
        "http20Enabled": True,
        "alwaysOn": True,
    }

    def count(path: str) -> int:
        return az.arm.count("GET", rf"/subscriptions/{SUB_A}/providers/{path}")

    # One request per page of each list, and one config/web per app.
    assert count(r"Microsoft\.Authorization/policyAssignments") == 2
    assert count(r"Microsoft\.Security/securityContacts") == 2
    assert count(r"Microsoft\.Security/secureScores") == 2
    assert count(r"Microsoft\.Security/alerts") == 3
    assert count(r"Microsoft\.Web/sites") == 3
    assert az.arm.count("GET", r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Web/sites/.*") == 4
    policy_requests = [r for r in az.arm.log if r.path.endswith("/policyAssignments")]
    assert {r.query.get("$filter") for r in policy_requests} == {"atScope()"}
    assert {r.method for r in az.arm.log} == {"GET"}


def test_a_throttled_alert_list_is_waited_out_and_retried(az: AzureImitation) -> None:
    alerts = rf"/subscriptions/{SUB_B}/providers/Microsoft\.Security/alerts"
    throttled = {"error": {"code": "TooManyRequests", "message": "throttled"}}
    az.arm.fail("GET", alerts, 429, headers={"Retry-After": "1"}, body=throttled)
    records = collect_items(AzureConnector, az.settings())
    assert errors(records) == []
    assert az.arm.count("GET", alerts) == 2
    assert [a["name"] for a in items(records, "azure.subscription")[B].data["security_alerts"]] == [
        "b-untriaged",
        "b-stuck",
    ]


# -- a denied or unknown fact never passes ---------------------------------------------------------------

NEW_JOINS = [
    (
        r"Microsoft\.Authorization/policyAssignments",
        "policy assignments",
        "policy_assignments",
        {"azure.subscription.security_baseline_assigned"},
    ),
    (
        r"Microsoft\.Security/securityContacts",
        "security contacts",
        "security_contacts",
        {"azure.subscription.security_contact_notified"},
    ),
    (
        r"Microsoft\.Security/secureScores",
        "secure score",
        "secure_score",
        {"azure.subscription.secure_score_meets_target"},
    ),
    (
        r"Microsoft\.Security/alerts",
        "security alerts",
        "security_alerts",
        {"azure.subscription.no_untriaged_high_alerts", "azure.subscription.high_alerts_resolved_within_sla"},
    ),
    (
        r"Microsoft\.Security/pricings",
        "Defender pricings",
        "defender_plans",
        {"azure.subscription.defender_cspm_enabled", "azure.subscription.defender_enabled"},
    ),
]


@pytest.mark.parametrize(("path", "what", "field", "broken"), NEW_JOINS, ids=[j[2] for j in NEW_JOINS])
def test_a_denied_subscription_call_errors_its_checks_and_names_the_call(
    az: AzureImitation, path: str, what: str, field: str, broken: set[str]
) -> None:
    remediate(az)  # everything passes unless the denied fact is mistaken for one
    az.arm.fail("GET", rf"/subscriptions/{SUB_A}/providers/{path}", 403, body=denied())
    records = collect_items(AzureConnector, az.settings())

    [error] = errors(records)
    assert (error.kind, error.fields) == ("azure.subscription", (field,))
    assert error.message.startswith(f"subscription {SUB_A}: {what}: 403 AuthorizationFailed: The client ")
    assert items(records, "azure.subscription")[A].data[field] is None
    results = judge(records)
    for check_id in broken:
        assert (results[check_id].status, verdicts(results[check_id])) == ("error", {A: "error", B: "pass"})
        assert [e for e in results[check_id].errors if e.startswith(f"subscription {SUB_A}: {what}: 403")]
    others = {c: r.status for c, r in results.items() if c not in broken}
    assert set(others.values()) <= {"pass", "not_applicable"}, others


def test_a_secure_score_answer_without_the_default_initiative_is_unknown(az: AzureImitation) -> None:
    remediate(az)
    sandbox = az.subscriptions[SUB_B]
    sandbox.secure_scores = [s for s in sandbox.secure_scores if s["name"] != "ascScore"]
    records = collect_items(AzureConnector, az.settings())
    assert [(e.kind, e.fields, e.message) for e in errors(records)] == [
        (
            "azure.subscription",
            ("secure_score",),
            f"subscription {SUB_B}: secure score: the answer has no ascScore entry "
            "(Defender for Cloud does not score it)",
        )
    ]
    result = judge(records)["azure.subscription.secure_score_meets_target"]
    assert (result.status, verdicts(result)) == ("error", {A: "pass", B: "error"})


def test_a_denied_web_app_list_errors_the_kind_and_keeps_the_other_subscription(az: AzureImitation) -> None:
    remediate(az)
    az.arm.fail("GET", rf"/subscriptions/{SUB_A}/providers/Microsoft\.Web/sites", 403, body=denied())
    records = collect_items(AzureConnector, az.settings())
    [error] = errors(records)
    assert (error.kind, error.fields) == ("azure.web.site", None)
    assert error.message.startswith(f"subscription {SUB_A}: web apps: 403 AuthorizationFailed")
    assert list(items(records, "azure.web.site")) == [site("app-sandbox", sub=B)]
    result = judge(records)["azure.web.site_https_tls12"]
    assert (result.status, verdicts(result)) == ("error", {site("app-sandbox", sub=B): "pass"})
    assert az.arm.count("GET", rf"/subscriptions/{SUB_A}/resourceGroups/.*/config/web") == 0


def test_a_denied_app_configuration_errors_that_app_only(az: AzureImitation) -> None:
    remediate(az)
    config = rf"/subscriptions/{SUB_A}/resourceGroups/rg-web/providers/Microsoft\.Web/sites/app-portal/config/web"
    az.arm.fail("GET", config, 403, body=denied())
    records = collect_items(AzureConnector, az.settings())
    [error] = errors(records)
    assert (error.kind, error.fields) == ("azure.web.site", ("site_config",))
    assert error.message.startswith(
        f"subscription {SUB_A}: configuration of web app app-portal: 403 AuthorizationFailed"
    )
    assert items(records, "azure.web.site")[site("app-portal")].data["site_config"] is None
    result = judge(records)["azure.web.site_https_tls12"]
    assert result.status == "error"
    assert verdicts(result) == {
        site("app-portal"): "error",
        site("func-billing"): "pass",
        site("app-legacy", "rg-legacy"): "pass",
        site("app-sandbox", sub=B): "pass",
    }


def test_an_app_whose_configuration_is_unknown_still_fails_on_what_is_known(az: AzureImitation) -> None:
    # HTTP allowed is a fact of the list itself: the unread TLS and FTP settings cannot redeem it.
    az.arm.fail(
        "GET",
        r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Web/sites/[^/]+/config/web",
        404,
        times=8,
    )
    records = collect_items(AzureConnector, az.settings())
    assert {(e.kind, e.fields) for e in errors(records)} == {("azure.web.site", ("site_config",))}
    result = judge(records)["azure.web.site_https_tls12"]
    assert (result.status, result.failing) == ("fail", [site("app-legacy", "rg-legacy")])
    assert result.counts == {"pass": 0, "fail": 1, "error": 3}


# -- verdicts over the estate ------------------------------------------------------------------------------


def test_terms_of_use_is_out_of_scope_until_required(az: AzureImitation) -> None:
    records = collect_items(AzureConnector, az.settings())
    tou = "azure.entra.terms_of_use_required"
    assert judge(records)[tou].status == "not_applicable"
    required = judge(records, **{tou: {"required": True}})[tou]
    assert (required.status, required.failing) == ("fail", [TENANT])
    assert required.findings[0].message == (
        f"tenant {TENANT} has no enabled Conditional Access policy requiring all users to accept the terms of use"
    )
    remediate(az)
    records = collect_items(AzureConnector, az.settings())
    assert judge(records, **{tou: {"required": True}})[tou].status == "pass"
    other = judge(records, **{tou: {"required": True, "agreement_ids": ["another-agreement"]}})[tou]
    assert other.status == "fail"


def test_the_new_checks_name_the_resource_and_the_gap(az: AzureImitation) -> None:
    results = judge(collect_items(AzureConnector, az.settings()))

    def messages(check_id: str) -> list[str]:
        return sorted(f.message for f in results[check_id].findings if f.status == "fail")

    assert messages("azure.web.site_https_tls12") == [
        "web app app-legacy accepts plain HTTP, TLS below 1.2 or unencrypted FTP"
    ]
    assert messages("azure.subscription.secure_score_meets_target") == [
        "subscription Sandbox has a secure score of 0.5512, below 0.7"
    ]
    assert messages("azure.storage.geo_redundant_where_critical") == [
        "storage account legacydata is tagged critical but its redundancy Standard_LRS stays in one region"
    ]
    assert messages("azure.storage.account_classification_tagged") == [
        "storage account legacydata has no data-classification tag with one of the classification levels",
        "storage account sandboxtmp has no data-classification tag with one of the classification levels",
    ]
    assert messages("azure.subscription.no_untriaged_high_alerts") == [
        "subscription Sandbox has a high-severity alert left Active for more than 7 days"
    ]
    assert messages("azure.entra.compliant_device_required") == [
        f"tenant {TENANT} has no enabled Conditional Access policy requiring a compliant or hybrid-joined device "
        "for all users and apps"
    ]
    # prodfiles is tagged "Data-Classification": Azure tag names ignore case, so it is classified.
    classified = verdicts(results["azure.storage.account_classification_tagged"])
    assert classified[f"{A}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/prodfiles"] == "pass"
    # Only accounts tagged tier=critical are in scope of the geo-redundancy check.
    assert len(results["azure.storage.geo_redundant_where_critical"].findings) == 2


def test_params_move_the_thresholds_and_the_scope(az: AzureImitation) -> None:
    records = collect_items(AzureConnector, az.settings())
    results = judge(
        records,
        **{
            "azure.subscription.secure_score_meets_target": {"min_percentage": 0.5},
            "azure.subscription.no_untriaged_high_alerts": {"max_triage_days": 30},
            "azure.subscription.high_alerts_resolved_within_sla": {"max_resolution_days": 90},
            "azure.subscription.environment_tagged": {"tag_key": "cost-center", "tag_values": ["4711"]},
            "azure.storage.geo_redundant_where_critical": {"tag_values": ["gold"]},
            "azure.subscription.security_contact_notified": {"min_severity": "Low"},
            "azure.subscription.security_baseline_assigned": {
                "required_initiatives": ["89c6cddc-1c73-4ac1-b19c-54d1a15a42f2"]
            },
        },
    )
    assert results["azure.subscription.secure_score_meets_target"].status == "pass"
    assert results["azure.subscription.no_untriaged_high_alerts"].status == "pass"
    assert results["azure.subscription.high_alerts_resolved_within_sla"].status == "pass"
    assert results["azure.subscription.environment_tagged"].failing == [B]
    assert results["azure.storage.geo_redundant_where_critical"].status == "not_applicable"
    # Production notifies from Medium up: not low enough for a Low minimum.
    assert results["azure.subscription.security_contact_notified"].failing == [A, B]
    # The ISO 27001 initiative is assigned to production's management group, but not enforced.
    assert results["azure.subscription.security_baseline_assigned"].failing == [A, B]


# -- the expressions, case by case -----------------------------------------------------------------------


def _tenant(*policies: dict[str, Any]) -> EvidenceItem:
    return EvidenceItem(
        "azure.entra.tenant",
        TENANT,
        {"tenant_id": TENANT, "security_defaults": {"isEnabled": True}, "conditional_access_policies": list(policies)},
    )


def _ca(
    controls: list[str],
    operator: str = "OR",
    state: str = "enabled",
    users: str = "All",
    apps: str = "All",
    terms: list[str] | None = None,
    strength: object = None,
) -> dict[str, Any]:
    return {
        "displayName": "p",
        "state": state,
        "conditions": {"users": {"includeUsers": [users]}, "applications": {"includeApplications": [apps]}},
        "grantControls": {
            "operator": operator,
            "builtInControls": controls,
            "termsOfUse": terms or [],
            "authenticationStrength": strength,
        },
    }


@pytest.mark.parametrize(
    ("policy", "status"),
    [
        (_ca(["compliantDevice"]), "pass"),
        (_ca(["domainJoinedDevice"]), "pass"),
        (_ca(["compliantDevice", "domainJoinedDevice"]), "pass"),
        (_ca(["mfa", "compliantDevice"], operator="AND"), "pass"),
        (_ca(["mfa", "compliantDevice"]), "fail"),  # MFA alone satisfies "require one of"
        (_ca(["compliantDevice"], strength={"id": "phishing-resistant"}), "fail"),
        (_ca(["compliantDevice"], terms=["tou"]), "fail"),
        (_ca(["compliantDevice"], state="enabledForReportingButNotEnforced"), "fail"),
        (_ca(["compliantDevice"], users="GuestsOrExternalUsers"), "fail"),
        (_ca(["compliantDevice"], apps="Office365"), "fail"),
        (_ca(["mfa"]), "fail"),
        (_ca(["block"]), "fail"),
    ],
)
def test_compliant_device_cases(policy: dict[str, Any], status: str) -> None:
    result = judge([_tenant(policy)])["azure.entra.compliant_device_required"]
    assert result.status == status


def test_compliant_device_with_unreadable_policies_is_an_error() -> None:
    item = EvidenceItem(
        "azure.entra.tenant",
        TENANT,
        {"tenant_id": TENANT, "security_defaults": None, "conditional_access_policies": None},
    )
    failure = CollectionError(
        "azure.entra.tenant", "tenant: conditional access policies: 403", ("conditional_access_policies",)
    )
    results = judge([item, failure], **{"azure.entra.terms_of_use_required": {"required": True}})
    assert results["azure.entra.compliant_device_required"].status == "error"
    assert results["azure.entra.terms_of_use_required"].status == "error"


@pytest.mark.parametrize(
    ("policy", "status"),
    [
        (_ca([], terms=["tou"]), "pass"),
        (_ca(["mfa"], operator="AND", terms=["tou"]), "pass"),
        (_ca(["mfa"], terms=["tou"]), "fail"),  # MFA alone satisfies "require one of"
        (_ca([], terms=["tou"], strength={"id": "mfa"}), "fail"),
        (_ca([], terms=[]), "fail"),
        (_ca([], terms=["tou"], state="disabled"), "fail"),
        (_ca([], terms=["tou"], users="None"), "fail"),
    ],
)
def test_terms_of_use_cases(policy: dict[str, Any], status: str) -> None:
    check = "azure.entra.terms_of_use_required"
    assert judge([_tenant(policy)], **{check: {"required": True}})[check].status == status
    assert judge([_tenant(policy)])[check].status == "not_applicable"


def _sub(**data: Any) -> EvidenceItem:
    return EvidenceItem("azure.subscription", A, {"id": A, "displayName": "Production", **data})


def _contact(emails: str = "soc@example.com", enabled: bool = True, *sources: dict[str, str]) -> dict[str, Any]:
    return {
        "name": "default",
        "properties": {
            "emails": emails,
            "isEnabled": enabled,
            "notificationsSources": list(sources) or [{"sourceType": "Alert", "minimalSeverity": "High"}],
        },
    }


@pytest.mark.parametrize(
    ("contacts", "status"),
    [
        ([_contact()], "pass"),
        ([_contact("a@example.com;b@example.com", True, {"sourceType": "Alert", "minimalSeverity": "Low"})], "pass"),
        ([_contact("", True)], "fail"),
        ([_contact("soc@example.com", False)], "fail"),
        ([_contact("soc@example.com", True, {"sourceType": "AttackPath", "minimalRiskLevel": "Low"})], "fail"),
        ([], "fail"),
        ([_contact("soc@example.com", True, {"sourceType": "Alert", "minimalSeverity": "Critical"})], "error"),
        (None, "error"),
    ],
)
def test_security_contact_cases(contacts: object, status: str) -> None:
    result = judge([_sub(security_contacts=contacts)])["azure.subscription.security_contact_notified"]
    assert result.status == status


def _alert(severity: str, status: str, days: float) -> dict[str, Any]:
    moment = NOW.timestamp() - days * 86400
    return {
        "severity": severity,
        "status": status,
        "timeGeneratedUtc": datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


@pytest.mark.parametrize(
    ("alerts", "untriaged", "sla"),
    [
        ([], "pass", "pass"),
        ([_alert("High", "Active", 6.9)], "pass", "pass"),
        ([_alert("High", "Active", 7.1)], "fail", "pass"),
        ([_alert("High", "InProgress", 20)], "pass", "pass"),
        ([_alert("High", "InProgress", 31)], "pass", "fail"),
        ([_alert("High", "Active", 31)], "fail", "fail"),
        ([_alert("High", "Resolved", 300), _alert("High", "Dismissed", 300)], "pass", "pass"),
        ([_alert("Medium", "Active", 300), _alert("Low", "InProgress", 300)], "pass", "pass"),
        (None, "error", "error"),
    ],
)
def test_alert_cases(alerts: object, untriaged: str, sla: str) -> None:
    results = judge([_sub(security_alerts=alerts)])
    assert results["azure.subscription.no_untriaged_high_alerts"].status == untriaged
    assert results["azure.subscription.high_alerts_resolved_within_sla"].status == sla


def _assignment(definition: str, **props: str) -> dict[str, Any]:
    return {"name": "a", "properties": {"policyDefinitionId": definition, **props}}


MCSB_ID = "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"


@pytest.mark.parametrize(
    ("assignments", "status"),
    [
        ([_assignment(MCSB_ID, enforcementMode="Default")], "pass"),
        ([_assignment(MCSB_ID)], "pass"),  # enforcementMode absent means Default
        ([_assignment(MCSB_ID.upper(), enforcementMode="Default")], "pass"),
        ([_assignment(MCSB_ID, enforcementMode="DoNotEnforce")], "fail"),
        ([_assignment(MCSB_ID + "-copy", enforcementMode="Default")], "fail"),
        ([], "fail"),
        (None, "error"),
    ],
)
def test_security_baseline_cases(assignments: object, status: str) -> None:
    result = judge([_sub(policy_assignments=assignments)])["azure.subscription.security_baseline_assigned"]
    assert result.status == status


def test_a_required_initiative_may_be_named_by_its_full_id() -> None:
    check = "azure.subscription.security_baseline_assigned"
    custom = "/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/"
    item = _sub(policy_assignments=[_assignment(custom + "policySetDefinitions/baseline-v2")])
    assert (
        judge([item], **{check: {"required_initiatives": [custom + "policySetDefinitions/baseline-v2"]}})[check].status
        == "pass"
    )
    assert judge([item], **{check: {"required_initiatives": ["line-v2"]}})[check].status == "fail"


@pytest.mark.parametrize(
    ("score", "status"),
    [
        ({"properties": {"score": {"percentage": 0.7}}}, "pass"),
        ({"properties": {"score": {"percentage": 0.6999}}}, "fail"),
        (None, "error"),
    ],
)
def test_secure_score_cases(score: object, status: str) -> None:
    assert judge([_sub(secure_score=score)])["azure.subscription.secure_score_meets_target"].status == status


@pytest.mark.parametrize(
    ("tags", "status"),
    [
        ({"environment": "production"}, "pass"),
        ({"ENVIRONMENT": "test"}, "pass"),
        ({"environment": "Production"}, "fail"),  # tag values are case-sensitive in Azure
        ({"env": "production"}, "fail"),
        ({}, "fail"),
        (None, "fail"),
    ],
)
def test_environment_tag_cases(tags: object, status: str) -> None:
    item = _sub() if tags is None else _sub(tags=tags)
    assert judge([item])["azure.subscription.environment_tagged"].status == status


def _site(https_only: object = True, min_tls: object = "1.2", ftps: object = "FtpsOnly") -> EvidenceItem:
    config = {k: v for k, v in (("minTlsVersion", min_tls), ("ftpsState", ftps)) if v is not None}
    props = {} if https_only is None else {"httpsOnly": https_only}
    return EvidenceItem(
        "azure.web.site", site("w"), {"name": "w", "properties": props, "site_config": {"properties": config}}
    )


@pytest.mark.parametrize(
    ("item", "status"),
    [
        (_site(), "pass"),
        (_site(min_tls="1.3", ftps="Disabled"), "pass"),
        (_site(https_only=False), "fail"),
        (_site(https_only=None), "fail"),
        (_site(min_tls="1.1"), "fail"),
        (_site(min_tls=None), "fail"),
        (_site(ftps="AllAllowed"), "fail"),
        (_site(ftps=None), "fail"),
    ],
)
def test_web_app_cases(item: EvidenceItem, status: str) -> None:
    assert judge([item])["azure.web.site_https_tls12"].status == status
