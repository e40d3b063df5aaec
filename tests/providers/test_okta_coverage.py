"""The coverage checks of issue #15 over Okta: device assurance in authentication policies, off-network
access, the device assurance baseline and ThreatInsight, collected through the okta SDK from the imitation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from collector.testing import collect_items, evaluate_connector_checks
from connectors.base import CollectionError, EvidenceItem
from connectors.okta import OktaConnector

from .okta_estate import OFFICE_ZONE, access_rule, build_org, device_assurance
from .okta_imitation import TOKEN, OktaImitation, OktaOrg

NOW = datetime.now(UTC)
Record = EvidenceItem | CollectionError
DEVICE = "okta.policy.app_access_requires_device_assurance"
OFFNETWORK = "okta.policy.offnetwork_access_requires_managed_device"
BASELINE = "okta.device_assurance.baseline_enforced"
THREATS = "okta.org.threatinsight_blocks"
MANAGED = {"registered": True, "managed": True}


def collect(stub: Any, change: Any = None) -> list[Record]:
    org = build_org(NOW)
    if change:
        change(org)
    OktaImitation(stub, org)
    return collect_items(OktaConnector, {"org_url": stub.base_url, "token": TOKEN, "retry_backoff": 0})


def evaluate(records: list[Record], **params: dict[str, Any]) -> Any:
    return evaluate_connector_checks(OktaConnector, records, params=params, now=NOW)


def items(records: list[Record], kind: str) -> dict[str, dict[str, Any]]:
    return {r.id: r.data for r in records if isinstance(r, EvidenceItem) and r.kind == kind}


def message(result: Any, resource: str) -> str:
    [finding] = [f for f in result.findings if f.resource == resource and f.status == "fail"]
    return str(finding.message)


# -- authentication policy rules -----------------------------------------------------------------------


def test_rules_pass_once_every_allow_rule_requires_a_device(stub: Any) -> None:
    def fixed(org: OktaOrg) -> None:
        org.rules["00p1accessbad00009"][1] = access_rule("rul2catch", "2FA", device=MANAGED)
        org.rules["00p1accessoffice10"][0] = access_rule(
            "rul3office", "2FA", device=MANAGED, network={"connection": "ZONE", "include": [OFFICE_ZONE]}
        )

    records = collect(stub, fixed)
    results = evaluate(records)
    for check in (DEVICE, OFFNETWORK):
        result = results[check]
        assert result.status == "pass" and result.counts["pass"] == 3, (check, result.findings)
    # DENY rules, inactive rules and the catch-all deny (conditions: null) never need a device.
    rules = items(records, "okta.policy")["00p1accessok000008"]["rules"]
    assert rules[1]["conditions"] is None and rules[1]["actions"]["appSignOn"]["access"] == "DENY"


def test_an_allow_rule_without_a_device_condition_fails(stub: Any) -> None:
    records = collect(stub)
    result = evaluate(records)[DEVICE]
    assert result.status == "fail" and sorted(result.failing) == ["00p1accessbad00009", "00p1accessoffice10"]
    assert message(result, "00p1accessbad00009") == (
        "authentication policy Any two factors... except one has an active rule that allows access from any device"
    )
    exempt = evaluate(records, **{DEVICE: {"exempt_policies": ["Office intranet", "00p1accessbad00009"]}})
    assert exempt[DEVICE].status == "pass"


def test_off_network_rules_need_two_factors_and_a_device_unless_limited_to_corporate_zones(stub: Any) -> None:
    def managed_single_factor(org: OktaOrg) -> None:
        # A managed device but one factor, from anywhere: enough for the device check, not off the network.
        org.rules["00p1accessbad00009"][1] = access_rule("rul2catch", "1FA", device=MANAGED)

    records = collect(stub, managed_single_factor)
    results = evaluate(records)
    assert results[DEVICE].failing == ["00p1accessoffice10"]
    offnetwork = results[OFFNETWORK]
    assert sorted(offnetwork.failing) == ["00p1accessbad00009", "00p1accessoffice10"]
    assert message(offnetwork, "00p1accessbad00009") == (
        "authentication policy Any two factors... except one allows access from outside the corporate network "
        "without two factors and a managed or assured device"
    )
    # The office rule is limited to the office zone: once that zone is corporate, it is on-network.
    zoned = evaluate(records, **{OFFNETWORK: {"corporate_zones": [OFFICE_ZONE]}})[OFFNETWORK]
    assert zoned.failing == ["00p1accessbad00009"]


def test_a_rule_for_everywhere_but_the_office_is_off_network(stub: Any) -> None:
    def excluding_the_office(org: OktaOrg) -> None:
        network = {"connection": "ZONE", "exclude": [OFFICE_ZONE]}
        org.rules["00p1accessoffice10"][0] = access_rule("rul3office", "2FA", network=network)

    excluded = evaluate(collect(stub, excluding_the_office), **{OFFNETWORK: {"corporate_zones": [OFFICE_ZONE]}})
    assert sorted(excluded[OFFNETWORK].failing) == ["00p1accessbad00009", "00p1accessoffice10"]


def test_unreadable_rules_make_the_new_policy_checks_error_not_pass(stub: Any) -> None:
    missing = r"/api/v1/policies/00p1accessoffice10/rules"
    results = evaluate(collect(stub, lambda org: org.missing_routes.append(missing)))
    for check in (DEVICE, OFFNETWORK):
        result = results[check]
        assert "00p1accessoffice10" not in result.failing
        assert [f.resource for f in result.findings if f.status == "error"] == ["00p1accessoffice10"], check
        assert any("Office intranet" in e for e in result.errors)
        assert result.failing == ["00p1accessbad00009"]


# -- device assurance ------------------------------------------------------------------------------------


def test_device_assurance_policies_are_read_across_pages_and_summarised(stub: Any) -> None:
    def small_pages(org: OktaOrg) -> None:
        org.device_assurance_page = 2

    records = collect(stub, small_pages)
    assert not [r for r in records if isinstance(r, CollectionError)]
    policies = items(records, "okta.device_assurance")
    assert sorted(policies) == ["dae1ios000000003", "dae1macos0000001", "dae1windows00002"]
    assert policies["dae1macos0000001"]["diskEncryptionType"] == {"include": ["ALL_INTERNAL_VOLUMES"]}
    assert "_links" not in policies["dae1macos0000001"]
    pages = [r for r in stub.log if r.path == "/api/v1/device-assurances"]
    assert len(pages) == 2 and pages[1].query.get("after") == "dae1windows00002"
    [org] = items(records, "okta.org").values()
    assert [d["platform"] for d in org["device_assurances"]] == ["MACOS", "WINDOWS", "IOS"]
    assert evaluate(records)[BASELINE].status == "pass"


def test_baseline_fails_for_a_platform_without_a_complete_policy(stub: Any) -> None:
    def windows_without_lock(org: OktaOrg) -> None:
        org.device_assurances[1] = device_assurance("dae1windows00002", "Windows", "WINDOWS", screen_lock=False)

    records = collect(stub, windows_without_lock)
    host = next(iter(items(records, "okta.org")))
    result = evaluate(records)[BASELINE]
    assert result.status == "fail" and result.failing == [host]
    assert message(result, host) == (
        f"{host} lacks a device assurance policy requiring disk encryption, a screen lock and a minimum OS "
        "version for one of ['MACOS', 'WINDOWS']"
    )
    assert evaluate(records, **{BASELINE: {"platforms": ["MACOS"]}})[BASELINE].status == "pass"
    assert evaluate(records, **{BASELINE: {"platforms": ["MACOS", "IOS"]}})[BASELINE].status == "fail"


def test_device_assurance_denied_is_an_error_never_a_pass(stub: Any) -> None:
    records = collect(stub, lambda org: org.denied.append("/api/v1/device-assurances"))
    kind_errors = [r.message for r in records if isinstance(r, CollectionError) and r.kind == "okta.device_assurance"]
    assert len(kind_errors) == 1 and "GET /api/v1/device-assurances: HTTP 403 E0000006" in kind_errors[0]
    assert items(records, "okta.device_assurance") == {}
    results = evaluate(records)
    baseline = results[BASELINE]
    assert baseline.status == "error" and baseline.failing == []
    assert any("GET /api/v1/device-assurances" in e for e in baseline.errors)
    # The org item's other facts are still judged.
    assert results["okta.policy.mfa_enrollment_required"].status == "pass"
    assert results[THREATS].status == "pass"


def test_classic_engine_has_no_device_assurance_and_fails_the_baseline(stub: Any) -> None:
    def classic(org: OktaOrg) -> None:
        org.engine = "CLASSIC"

    records = collect(stub, classic)
    assert not [r for r in records if isinstance(r, CollectionError)]
    [org] = items(records, "okta.org").values()
    assert org["device_assurances"] == []
    assert evaluate(records)[BASELINE].status == "fail"


# -- ThreatInsight ---------------------------------------------------------------------------------------


def test_threatinsight_must_block(stub: Any) -> None:
    records = collect(stub, lambda org: org.threat_insight.update(action="audit"))
    [(host, org)] = items(records, "okta.org").items()
    assert org["threat_insight"]["action"] == "audit" and "_links" not in org["threat_insight"]
    result = evaluate(records)[THREATS]
    assert result.status == "fail" and result.failing == [host]
    assert message(result, host) == f"ThreatInsight in {host} is set to audit, not one of ['block']"
    assert evaluate(records, **{THREATS: {"allowed_actions": ["audit", "block"]}})[THREATS].status == "pass"


def test_threatinsight_denied_is_an_error_never_a_pass(stub: Any) -> None:
    records = collect(stub, lambda org: org.denied.append("/api/v1/threats/configuration"))
    org_errors = [r for r in records if isinstance(r, CollectionError) and r.kind == "okta.org"]
    assert [e.fields for e in org_errors] == [("threat_insight",)]
    assert "GET /api/v1/threats/configuration: HTTP 403 E0000006" in org_errors[0].message
    results = evaluate(records)
    assert results[THREATS].status == "error" and results[THREATS].failing == []
    assert results[BASELINE].status == "pass" and results[BASELINE].errors == []
