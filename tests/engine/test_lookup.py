"""Cross-source checks (`lookup:`): an account judged against the person's state in the identity
provider, in the same run. The shipped leaver checks (control_mappings/cross_source.yaml) both ways,
the identity map, a failed identity-provider collection (error, never pass), and validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collector.evaluate import SnapshotItem, evaluate_checks
from collector.mapping import load_checks
from collector.registry import evidence_kinds
from connectors.base import CollectionError
from control_mappings import MAPPINGS_DIR
from engine.support import Project

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _okta(login: str, status: str) -> SnapshotItem:
    return SnapshotItem(login, {"login": login, "status": status, "profile": {"email": login.upper()}})


def _evaluate(items: dict[str, list[SnapshotItem]], errors: dict[str, list[Any]] | None = None, **identities: str):
    checks = load_checks(evidence_kinds(), builtin_files=[MAPPINGS_DIR / "cross_source.yaml"])
    active = checks.for_connectors(["github", "okta", "aws", "azure", "gcp"])
    return evaluate_checks(active, items, errors or {}, NOW, identities)


PEOPLE = [
    _okta("anna@example.com", "ACTIVE"),
    _okta("greta@example.com", "DEPROVISIONED"),
    _okta("ivo@example.com", "SUSPENDED"),
]


def test_a_github_member_of_a_deactivated_or_suspended_okta_user_fails() -> None:
    members = [SnapshotItem(login, {"login": login}) for login in ("anna-gh", "gita", "Ivo-GH", "nobody")]
    results = _evaluate(
        {"github.member": members, "okta.user": PEOPLE},
        **{"anna-gh": "anna@example.com", "gita": "Greta@Example.com", "ivo-gh": "ivo@example.com"},
    )
    leaver = results["github.member.okta_user_not_deactivated"]
    assert leaver.status == "fail"
    assert sorted(leaver.failing) == ["Ivo-GH", "gita"]  # the map is case-insensitive both ways
    assert next(f.message for f in leaver.findings if f.resource == "gita") == (
        "GitHub member gita belongs to an Okta user who is deactivated or suspended"
    )
    present = results["github.member.okta_identity_present"]
    assert present.failing == ["nobody"] and present.counts["pass"] == 3


def test_without_the_identity_map_nothing_matches_and_the_identity_check_says_so() -> None:
    results = _evaluate({"github.member": [SnapshotItem("gita", {"login": "gita"})], "okta.user": PEOPLE})
    assert results["github.member.okta_user_not_deactivated"].status == "pass"  # unknown is not a leaver…
    assert results["github.member.okta_identity_present"].failing == ["gita"]  # …but it is named


def test_iam_users_entra_accounts_and_gcp_principals_are_checked_against_okta() -> None:
    users = [
        SnapshotItem(
            "arn:aws:iam::1:user/greta@example.com",
            {"user": "greta@example.com", "password_enabled": True, "access_keys": []},
        ),
        SnapshotItem(
            "arn:aws:iam::1:user/anna@example.com",
            {"user": "anna@example.com", "password_enabled": True, "access_keys": []},
        ),
        SnapshotItem(
            "arn:aws:iam::1:user/ivo@example.com",
            {"user": "ivo@example.com", "password_enabled": False, "access_keys": [{"Status": "Inactive"}]},
        ),
    ]
    entra = [
        SnapshotItem("ivo@example.com", {"userPrincipalName": "ivo@example.com", "accountEnabled": True}),
        SnapshotItem("greta@example.com", {"userPrincipalName": "greta@example.com", "accountEnabled": False}),
    ]
    policy = {"bindings": [{"role": "roles/viewer", "members": ["user:anna@example.com", "group:ops@example.com"]}]}
    projects = [
        SnapshotItem("projects/ok", {"projectId": "ok", "iam_policy": policy}),
        SnapshotItem(
            "projects/leaky",
            {
                "projectId": "leaky",
                "iam_policy": {"bindings": [{"role": "roles/owner", "members": ["user:Greta@example.com"]}]},
            },
        ),
    ]
    results = _evaluate(
        {"aws.iam.user": users, "azure.entra.user": entra, "gcp.project": projects, "okta.user": PEOPLE}
    )
    assert results["aws.iam.user_okta_user_not_deactivated"].failing == ["arn:aws:iam::1:user/greta@example.com"]
    assert results["aws.iam.user_okta_user_not_deactivated"].counts == {
        "pass": 1,
        "fail": 1,
        "error": 0,
    }  # ivo: no access
    assert results["azure.entra.user_okta_user_not_deactivated"].failing == ["ivo@example.com"]  # greta's is disabled
    assert results["gcp.project.okta_principals_not_deactivated"].failing == ["projects/leaky"]
    # Entra ID as the identity provider: greta's Entra account is disabled, her IAM user is not.
    assert results["aws.iam.user_entra_user_enabled"].failing == ["arn:aws:iam::1:user/greta@example.com"]


def test_without_normalise_keys_are_the_key_expression_s_values_as_they_are(tmp_path: Path) -> None:
    """The issue's own form (no identity(), no normalise): a mixed-case e-mail in both systems still matches."""
    checks_file = tmp_path / "exact.yaml"
    checks_file.write_text(
        "version: 1\nchecks:\n"
        "  - id: github.member.leaver_exact\n    title: t\n    evidence: github.member\n"
        "    lookup: {idp_users: {evidence: okta.user, key: resource.profile.email}}\n"
        "    assert: \"!(resource.email in idp_users) || idp_users[resource.email].status == 'ACTIVE'\"\n"
        "    severity: high\n    controls: [A.5.18]\n    remediation: r\n"
    )
    checks = load_checks(evidence_kinds(), builtin_files=[checks_file])
    members = [
        SnapshotItem(login, {"login": login, "email": email.upper()})
        for login, email in (("gita", "greta@example.com"), ("anna-gh", "anna@example.com"))
    ]
    result = evaluate_checks(
        checks.for_connectors(["github", "okta"]), {"github.member": members, "okta.user": PEOPLE}, {}, NOW
    )
    assert result["github.member.leaver_exact"].failing == ["gita"]


def test_a_failed_identity_provider_collection_makes_every_item_an_error_never_a_pass() -> None:
    members = [SnapshotItem("gita", {"login": "gita"}), SnapshotItem("anna-gh", {"login": "anna-gh"})]
    denied = CollectionError("okta.user", "403 E0000006 You do not have permission (GET /api/v1/users)")
    results = _evaluate(
        {"github.member": members, "okta.user": PEOPLE[:1]}, {"okta.user": [denied]}, gita="greta@example.com"
    )
    leaver = results["github.member.okta_user_not_deactivated"]
    assert leaver.status == "error" and leaver.counts == {"pass": 0, "fail": 0, "error": 2}
    assert "lookup okta_users: okta.user could not be fully collected in this run (403 E0000006" in leaver.errors[0]
    # A field-level gap (one user's factors unreadable) leaves the people and their status standing.
    partial = CollectionError("okta.user", "factors of 00u1 unreadable", fields=("factors",))
    fine = _evaluate(
        {"github.member": members, "okta.user": PEOPLE}, {"okta.user": [partial]}, gita="greta@example.com"
    )
    assert fine["github.member.okta_user_not_deactivated"].failing == ["gita"]


def test_a_cross_source_check_runs_only_when_both_connectors_are_configured() -> None:
    checks = load_checks(evidence_kinds(), builtin_files=[MAPPINGS_DIR / "cross_source.yaml"])
    assert [c.id for c in checks.for_connectors(["github"])] == []
    assert {c.id for c in checks.for_connectors(["github", "okta"])} == {
        "github.member.okta_user_not_deactivated",
        "github.member.okta_identity_present",
    }


LOOKUP_CHECK = """\
version: 1
checks:
  - id: fake.iam.user_known
    title: Users are known
    evidence: fake.iam.user
    lookup:
      others: {evidence: other.iam.user, key: resource.name}
    assert: identity(resource.name) in others
    severity: low
    controls: [A.5.16]
    remediation: Know the user.
"""


def _project(project: Project, text: str) -> Path:
    (project.root / "extra.yaml").write_text(text)
    project.config("{users: [{name: Alice, mfa: true}, {name: bob, mfa: true}]}")
    config = project.root / "annexa.yaml"
    config.write_text(config.read_text().replace("[./fake_checks.yaml]", "[./fake_checks.yaml, ./extra.yaml]"))
    return config


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (
            "{evidence: okta.usr, key: resource.name}",
            "checks[0].lookup.others.evidence",
            "no connector declares evidence kind 'okta.usr' (did you mean 'okta.user'?)",
        ),
        ("{evidence: other.iam.user, key: 'resource.name +'}", "checks[0].lookup.others.key", "CEL syntax error"),
        (
            "{evidence: other.iam.user, key: params.x}",
            "checks[0].lookup.others.key",
            "undefined variable 'params' (available: resource)",
        ),
        ("{evidence: other.iam.user, key: resource.name, join: left}", "checks[0].lookup.others.join", "unknown key"),
    ],
)
def test_a_bad_lookup_is_a_mapping_error(project: Project, cli: Any, change: str, key: str, message: str) -> None:
    _project(project, LOOKUP_CHECK.replace("{evidence: other.iam.user, key: resource.name}", change))
    result = cli("validate")
    assert result.code == 2
    assert key in result.err and message in result.err and "fake.iam.user_known" in result.err
    assert not project.store.exists()


def test_an_assert_naming_no_lookup_is_a_mapping_error(project: Project, cli: Any) -> None:
    _project(project, LOOKUP_CHECK.replace("in others", "in idp"))
    result = cli("validate")
    assert result.code == 2
    assert (
        "checks[0].assert" in result.err
        and "undefined variable 'idp' (available: now, params, resource, others)" in result.err
    )


def test_identities_map_accounts_in_a_run_and_an_empty_one_is_refused(project: Project, cli: Any) -> None:
    config = _project(project, LOOKUP_CHECK)
    config.write_text(config.read_text() + "identities:\n  ALICE: alice\n  bob: ''\n")
    refused = cli("validate")
    assert refused.code == 2 and "identities.bob: maps to nothing" in refused.err
    config.write_text(config.read_text().replace("  bob: ''\n", ""))
    config.write_text(
        config.read_text().replace("  fake: {users:", "  other: {users: [{name: alice, mfa: true}]}\n  fake: {users:")
    )
    assert cli("run", "-q").code in (0, 1)
    report = json.loads(cli("report", "--format", "json").out)
    known = next(c for control in report["controls"] for c in control["checks"] if c["id"] == "fake.iam.user_known")
    assert [f["resource"] for f in known["failing"]] == ["bob"]


def test_the_demo_shows_a_leaver(demo_dir: Path) -> None:
    from collector.report import build_gap_report
    from collector.store import Store

    with Store(demo_dir / "annexa-demo.db") as store:
        report = build_gap_report(store, store.resolve_run(None))
    checks = {c["id"]: c for control in report["controls"] for c in control["checks"]}
    leaver = checks["github.member.okta_user_not_deactivated"]
    assert leaver["status"] == "fail" and [f["resource"] for f in leaver["failing"]] == ["gita"]
    assert {c["status"] for c in report["controls"] if c["id"] == "A.6.5"} == {"fail"}
