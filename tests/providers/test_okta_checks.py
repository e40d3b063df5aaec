"""Every Okta check judged by the real mapping file, over evidence collected through the real connector."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from collector.testing import collect_items, evaluate_connector_checks
from connectors.base import CollectionError, EvidenceItem
from connectors.okta import OktaConnector

from .okta_estate import build_org
from .okta_imitation import TOKEN, OktaImitation

NOW = datetime.now(UTC)
Record = EvidenceItem | CollectionError

# What the estate of okta_estate.build_org fails, per check (resource ids as reported).
EXPECTED_FAILING = {
    "okta.user.mfa_enrolled": ["bob@example.com"],
    "okta.user.inactive_deactivated": ["carol@example.com"],
    "okta.user.never_activated_removed": ["frank@example.com"],
    "okta.user.suspended_deprovisioned": ["gina@example.com"],
    "okta.user.deprovisioned_no_admin_roles": ["erin@example.com"],
    "okta.user.admins_phishing_resistant": ["dave@example.com"],
    "okta.policy.password_strong": ["00p1weak0000000002"],
    "okta.policy.password_history_enforced": ["00p1weak0000000002"],
    "okta.policy.password_age_limited": ["00p1weak0000000002"],
    "okta.policy.signon_requires_mfa": ["00p1signonbad00007"],
    "okta.policy.access_policy_requires_mfa": ["00p1accessbad00009"],
    "okta.policy.session_lifetime_limited": ["00p1signonbad00007"],
    "okta.policy.app_access_requires_device_assurance": ["00p1accessbad00009", "00p1accessoffice10"],
    "okta.policy.offnetwork_access_requires_managed_device": ["00p1accessbad00009", "00p1accessoffice10"],
}
PASSING_IN_ESTATE = [
    "okta.user.admins_have_mfa",
    "okta.admin.super_admins_limited",
    "okta.policy.mfa_enrollment_required",
    "okta.device_assurance.baseline_enforced",
    "okta.org.threatinsight_blocks",
]
FIXED_CHECKS = [
    "okta.user.mfa_enrolled",
    "okta.user.inactive_deactivated",
    "okta.policy.password_strong",
    "okta.policy.mfa_enrollment_required",
    "okta.admin.super_admins_limited",
]


@pytest.fixture
def collected(stub: Any) -> list[Record]:
    OktaImitation(stub, build_org(NOW))
    records = collect_items(OktaConnector, {"org_url": stub.base_url, "token": TOKEN, "retry_backoff": 0})
    assert not [r for r in records if isinstance(r, CollectionError)]
    return records


def evaluate(records: list[Record], **params: dict[str, Any]) -> Any:
    return evaluate_connector_checks(OktaConnector, records, params=params, now=NOW)


def without(records: list[Record], failing: set[str]) -> list[Record]:
    return [r for r in records if not (isinstance(r, EvidenceItem) and r.id in failing)]


def edited(records: list[Record], kind: str, item_id: str, change: Any) -> list[Record]:
    out: list[Record] = []
    for record in records:
        if isinstance(record, EvidenceItem) and record.kind == kind and record.id == item_id:
            data = copy.deepcopy(record.data)
            change(data)
            record = EvidenceItem(record.kind, record.id, data)
        out.append(record)
    return out


def test_every_fixed_check_exists_with_its_controls() -> None:
    results = evaluate([])
    assert set(FIXED_CHECKS) <= set(results)
    assert set(results) == set(EXPECTED_FAILING) | set(PASSING_IN_ESTATE)


@pytest.mark.parametrize("check", sorted(EXPECTED_FAILING))
def test_check_fails_on_the_estate_and_passes_without_the_culprits(collected: list[Record], check: str) -> None:
    result = evaluate(collected)[check]
    assert result.status == "fail" and sorted(result.failing) == EXPECTED_FAILING[check]
    assert result.findings and all(f.message for f in result.findings if f.status == "fail")
    compliant = evaluate(without(collected, set(EXPECTED_FAILING[check])))[check]
    assert compliant.status == "pass", compliant


@pytest.mark.parametrize("check", PASSING_IN_ESTATE)
def test_check_passes_on_the_estate(collected: list[Record], check: str) -> None:
    assert evaluate(collected)[check].status == "pass"


def test_admins_have_mfa_fails_for_an_admin_without_active_factor(collected: list[Record]) -> None:
    def pending(data: dict[str, Any]) -> None:
        for f in data["factors"]:
            f["status"] = "PENDING_ACTIVATION"

    result = evaluate(edited(collected, "okta.user", "dave@example.com", pending))["okta.user.admins_have_mfa"]
    assert result.status == "fail" and result.failing == ["dave@example.com"]


def test_super_admins_limited_fails_above_the_threshold(collected: list[Record]) -> None:
    host = next(r.id for r in collected if isinstance(r, EvidenceItem) and r.kind == "okta.admin.role_assignments")
    result = evaluate(collected, **{"okta.admin.super_admins_limited": {"max_super_admins": 0}})
    assert result["okta.admin.super_admins_limited"].status == "fail"
    assert result["okta.admin.super_admins_limited"].failing == [host]

    def four(data: dict[str, Any]) -> None:
        data["super_admins"] = [f"admin{n}@example.com" for n in range(4)]
        data["super_admin_count"] = 4

    crowded = edited(collected, "okta.admin.role_assignments", host, four)
    assert evaluate(crowded)["okta.admin.super_admins_limited"].status == "fail"


def test_mfa_enrollment_required_fails_when_only_the_password_is_required(collected: list[Record]) -> None:
    host = next(r.id for r in collected if isinstance(r, EvidenceItem) and r.kind == "okta.org")

    def password_only(data: dict[str, Any]) -> None:
        classic = data["mfa_enroll_policies"][0]
        classic["authenticator_enrollment"] = [e for e in classic["authenticator_enrollment"] if e["key"] != "okta_otp"]

    result = evaluate(edited(collected, "okta.org", host, password_only))["okta.policy.mfa_enrollment_required"]
    assert result.status == "fail" and result.failing == [host]

    def inactive(data: dict[str, Any]) -> None:
        data["mfa_enroll_policies"][0]["status"] = "INACTIVE"

    assert (
        evaluate(edited(collected, "okta.org", host, inactive))["okta.policy.mfa_enrollment_required"].status == "fail"
    )


def test_thresholds_come_from_params(collected: list[Record]) -> None:
    results = evaluate(
        collected,
        **{
            "okta.user.inactive_deactivated": {"max_inactive_days": 365},
            "okta.policy.password_strong": {"min_length": 16, "max_attempts": 10},
        },
    )
    assert results["okta.user.inactive_deactivated"].status == "pass"  # carol: 200 days
    assert sorted(results["okta.policy.password_strong"].failing) == ["00p1strong00000001", "00p1weak0000000002"]


def collect_with(stub: Any, change: Any = None, fault: tuple[str, int] | None = None) -> list[Record]:
    org = build_org(NOW)
    if change:
        change(org)
    OktaImitation(stub, org)
    if fault:
        stub.fail("GET", fault[0], fault[1], times=10)  # persistent: a 500 is retried
    return collect_items(OktaConnector, {"org_url": stub.base_url, "token": TOKEN, "retry_backoff": 0})


# What every user check reports on the estate when neither factors nor roles are in doubt.
USER_CHECKS_UNAFFECTED = {
    "okta.user.inactive_deactivated": ("fail", ["carol@example.com"]),
    "okta.user.never_activated_removed": ("fail", ["frank@example.com"]),
    "okta.user.suspended_deprovisioned": ("fail", ["gina@example.com"]),
}


@pytest.mark.parametrize("where", ["/api/v1/iam/assignees/users", r"/api/v1/users/[^/]+/roles"])
def test_unknown_roles_make_admin_checks_error_and_leave_the_others_judged(stub: Any, where: str) -> None:
    results = evaluate(collect_with(stub, lambda org: org.denied.append(where)))
    assert results["okta.admin.super_admins_limited"].status == "error"
    for check in ("admins_have_mfa", "admins_phishing_resistant", "deprovisioned_no_admin_roles"):
        assert results[f"okta.user.{check}"].status == "error", check
        assert any("admin roles of" in e for e in results[f"okta.user.{check}"].errors)
    # The roles are joined onto the users, but these checks never read them: their real status stays.
    mfa = results["okta.user.mfa_enrolled"]
    assert mfa.status == "fail" and mfa.failing == ["bob@example.com"] and mfa.errors == []
    for check, (status, failing) in USER_CHECKS_UNAFFECTED.items():
        assert (results[check].status, results[check].failing, results[check].errors) == (status, failing, [])


def test_failed_factor_call_makes_only_the_factor_checks_error(stub: Any) -> None:
    # bob is the only user failing mfa_enrolled; with his factors unknown the check cannot pass.
    results = evaluate(collect_with(stub, fault=(r"/api/v1/users/00u1bob00000000002/factors", 500)))
    mfa = results["okta.user.mfa_enrolled"]
    assert mfa.status == "error" and mfa.failing == []
    assert [f.resource for f in mfa.findings if f.status == "error"] == ["bob@example.com"]
    assert any("factors of 1 user (bob@example.com)" in e for e in mfa.errors)
    for check in ("admins_have_mfa", "admins_phishing_resistant"):  # read factors: the error is attached
        assert any("factors of 1 user (bob@example.com)" in e for e in results[f"okta.user.{check}"].errors)
    assert results["okta.user.admins_phishing_resistant"].failing == ["dave@example.com"]
    inactive = results["okta.user.inactive_deactivated"]
    assert (inactive.status, inactive.failing, inactive.errors) == ("fail", ["carol@example.com"], [])
    for check, (status, failing) in USER_CHECKS_UNAFFECTED.items():
        assert (results[check].status, results[check].failing, results[check].errors) == (status, failing, [])
    deprovisioned = results["okta.user.deprovisioned_no_admin_roles"]
    assert (deprovisioned.status, deprovisioned.failing, deprovisioned.errors) == ("fail", ["erin@example.com"], [])


def test_factor_call_missing_for_an_admin_makes_admin_mfa_error_not_pass(stub: Any) -> None:
    # A bare 404 (an API without that endpoint) is never read as "user deleted" nor as "no factors".
    records = collect_with(stub, lambda org: org.missing_routes.append(r"/api/v1/users/00u1alice000000001/factors"))
    results = evaluate(records)
    assert results["okta.user.admins_have_mfa"].status == "error"
    assert results["okta.user.inactive_deactivated"].failing == ["carol@example.com"]
    assert results["okta.admin.super_admins_limited"].status == "pass"


def test_unreadable_rules_make_only_rule_checks_error(stub: Any) -> None:
    missing = r"/api/v1/policies/00p1signonbad00007/rules"
    results = evaluate(collect_with(stub, lambda org: org.missing_routes.append(missing)))
    for check in ("signon_requires_mfa", "session_lifetime_limited"):
        result = results[f"okta.policy.{check}"]
        assert result.status == "error" and any("Legacy sign-on" in e for e in result.errors), check
    access = results["okta.policy.access_policy_requires_mfa"]  # reads rules too: the error is attached
    assert access.status == "fail" and access.failing == ["00p1accessbad00009"] and access.errors
    strong = results["okta.policy.password_strong"]
    assert (strong.status, strong.failing, strong.errors) == ("fail", ["00p1weak0000000002"], [])
    assert results["okta.policy.mfa_enrollment_required"].status == "pass"


def test_inactive_user_never_signed_in_counts_from_creation(collected: list[Record]) -> None:
    def old_never(data: dict[str, Any]) -> None:
        data["lastLogin"] = None
        data["created"] = "2020-01-01T00:00:00.000Z"

    result = evaluate(edited(collected, "okta.user", "bob@example.com", old_never))["okta.user.inactive_deactivated"]
    assert sorted(result.failing) == ["bob@example.com", "carol@example.com"]
    # dave never signed in but was created 10 days ago: compliant
    assert "dave@example.com" not in result.failing


def test_demo_estate_shows_passes_and_fails() -> None:
    records = list(OktaConnector.simulated_estate(NOW))
    kinds = {r.kind for r in records if isinstance(r, EvidenceItem)}
    assert kinds == {k.name for k in OktaConnector.evidence_kinds}
    results = evaluate(records)
    statuses = {check: results[check].status for check in FIXED_CHECKS}
    assert statuses == {
        "okta.user.mfa_enrolled": "fail",
        "okta.user.inactive_deactivated": "fail",
        "okta.policy.password_strong": "fail",
        "okta.policy.mfa_enrollment_required": "pass",
        "okta.admin.super_admins_limited": "pass",
    }
    assert {r.status for r in results.values()} <= {"pass", "fail", "not_applicable"}
