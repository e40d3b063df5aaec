"""Every GitHub check shown passing and failing, over evidence collected by the real connector."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from stub import Stub

from collector.testing import collect_items, evaluate_connector_checks
from connectors.github import GitHubConnector

from .github_fixtures import compliant_estate, compliant_repo, serve, settings
from .github_imitation import Repo, dependency, environment, protection, ruleset

NOW = datetime(2026, 5, 1, tzinfo=UTC)
PARAMS = {
    "github.repo.public_only_if_allowed": {"allowed_public": ["acme/site"]},
    "github.outside_collaborator.approved": {"approved": ["olga"]},
    "github.repo.dependency_licences_allowed": {"allowed_packages": ["pip:ghostscript"]},
}

FIXED = (
    "github.org.two_factor_required",
    "github.org.members_have_2fa",
    "github.org.default_permission_restricted",
    "github.org.owners_limited",
    "github.repo.default_branch_protected",
    "github.repo.force_push_blocked",
    "github.repo.secret_scanning_enabled",
    "github.repo.no_open_critical_vulnerabilities",
    "github.repo.public_only_if_allowed",
)

# check id -> the resources the non-compliant estate must report as failing
EXPECTED_FAILING = {
    "github.org.two_factor_required": ["acme"],
    "github.org.members_have_2fa": ["cleo"],
    "github.org.default_permission_restricted": ["acme"],
    "github.org.owners_limited": ["acme"],
    "github.repo.default_branch_protected": ["acme/lax", "acme/trial"],
    "github.repo.force_push_blocked": ["acme/lax", "acme/pushy", "acme/trial"],
    "github.repo.secret_scanning_enabled": ["acme/lax"],
    "github.repo.no_open_critical_vulnerabilities": ["acme/lax"],
    "github.repo.public_only_if_allowed": ["acme/blog"],
    "github.outside_collaborator.no_admin": ["olga"],
    "github.org.members_cannot_create_public_repos": ["acme"],
    "github.repo.code_scanning_recent": ["acme/lax", "acme/stale"],
    "github.repo.status_checks_required": ["acme/lax", "acme/pushy", "acme/trial"],
    "github.repo.protection_applies_to_admins": ["acme/pushy"],
    "github.repo.push_protection_enabled": ["acme/lax"],
    "github.repo.vulnerability_alerts_within_sla": ["acme/lax"],
    "github.repo.codeowners_present": ["acme/lax"],
    "github.repo.deploy_keys_read_only": ["acme/lax"],
    "github.repo.actions_restricted": ["acme/lax"],
    "github.repo.security_policy_published": ["acme/blog"],
    "github.repo.dependency_licences_allowed": ["acme/lax", "acme/stale"],
    "github.repo.production_environment_protected": ["acme/lax", "acme/trial"],
    "github.outside_collaborator.approved": ["mallory"],
}


def _noncompliant_estate() -> Any:
    estate = compliant_estate(
        settings={
            "two_factor_requirement_enabled": False,
            "default_repository_permission": "write",
            "members_can_create_public_repositories": True,
        },
        owners=["alice", "bob", "cleo", "dave"],
        members=["alice", "bob", "cleo", "dave", "erin"],
        two_factor_disabled=["cleo"],
    )
    lax = Repo(
        "lax",
        secret_scanning="disabled",
        push_protection="disabled",
        codeowners=False,
        rulesets=[ruleset(5, "evaluate")],
        actions={"enabled": True, "allowed_actions": "all"},
        deploy_keys=[
            {
                "id": 3,
                "title": "deploy",
                "read_only": False,
                "verified": True,
                "created_at": "2025-01-01T00:00:00Z",
                "last_used": None,
            }
        ],
        alerts=[{"number": 7, "severity": "critical", "created_at": "2026-01-05T00:00:00Z"}],
        environments=[environment("production")],
        dependencies=[dependency("pdfmagic", "1.0", concluded="MIT OR GPL-3.0-only")],
    )
    pushy = compliant_repo(
        "pushy",
        protection=protection(force_push=True, enforce_admins=False, checks=()),
        environments=[environment("Production", protected_branches=True)],
    )
    # LGPL-3.0 is not GPL-3.0; the AGPL package is cleared through params.allowed_packages.
    pushy.dependencies += [
        dependency("psycopg", "3.2.1", concluded="LGPL-3.0-only"),
        dependency("ghostscript", "10.0", declared="AGPL-3.0-or-later"),
    ]
    trial = compliant_repo(
        "trial",
        protection=None,
        rulesets=[ruleset(6, "disabled")],
        environments=[environment("prod", protected_branches=False)],
    )
    stale = compliant_repo("stale", dependency_graph=False)
    stale.analyses[0]["created_at"] = "2026-02-01T00:00:00Z"
    estate.repos += [lax, pushy, trial, stale, compliant_repo("blog", visibility="public")]
    estate.outside_collaborators.append("mallory")
    estate.repos[0].collaborators[0].update(role_name="admin", permissions={"admin": True, "pull": True})
    return estate


def _results(estate: Any) -> dict[str, Any]:
    # One collection per estate for the whole module (the parametrized tests only read the results).
    server = Stub()
    server.start()
    try:
        serve(server, estate)
        return evaluate_connector_checks(GitHubConnector, collect_items(GitHubConnector, settings(server)), PARAMS, NOW)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def results_compliant() -> dict[str, Any]:
    return _results(compliant_estate())


@pytest.fixture(scope="module")
def results_noncompliant() -> dict[str, Any]:
    return _results(_noncompliant_estate())


def test_every_fixed_check_exists_with_its_controls() -> None:
    results = evaluate_connector_checks(GitHubConnector, [], now=NOW)
    assert set(FIXED) <= set(results)
    assert set(results) == set(EXPECTED_FAILING)
    controls = {cid: set(r.check.definition.control_ids) for cid, r in results.items()}
    assert {"A.8.5"} <= controls["github.org.two_factor_required"]
    assert {"A.5.15", "A.8.3"} <= controls["github.org.default_permission_restricted"]
    assert {"A.8.2"} <= controls["github.org.owners_limited"]
    assert {"A.8.32", "A.8.4"} <= controls["github.repo.default_branch_protected"]
    assert {"A.8.12", "A.8.28"} <= controls["github.repo.secret_scanning_enabled"]
    assert {"A.8.8"} <= controls["github.repo.no_open_critical_vulnerabilities"]
    assert {"A.8.3", "A.5.12"} <= controls["github.repo.public_only_if_allowed"]


@pytest.mark.parametrize("check_id", sorted(EXPECTED_FAILING))
def test_check_passes_on_compliant_estate(results_compliant: dict[str, Any], check_id: str) -> None:
    result = results_compliant[check_id]
    assert result.status == "pass", (result.failing, result.errors, result.findings)


@pytest.mark.parametrize("check_id", sorted(EXPECTED_FAILING))
def test_check_fails_on_noncompliant_estate(results_noncompliant: dict[str, Any], check_id: str) -> None:
    result = results_noncompliant[check_id]
    assert result.status == "fail"
    assert sorted(result.failing) == EXPECTED_FAILING[check_id]


def test_archived_repository_never_fails_fixed_repo_checks(results_compliant: dict[str, Any]) -> None:
    for check_id in FIXED:
        if check_id.startswith("github.repo.") and check_id != "github.repo.public_only_if_allowed":
            resources = {f.resource for f in results_compliant[check_id].findings}
            assert "acme/attic" not in resources and "acme/api" in resources


def test_messages_name_the_resource(results_noncompliant: dict[str, Any]) -> None:
    [finding] = [f for f in results_noncompliant["github.org.owners_limited"].findings if f.status == "fail"]
    assert finding.message == "organization acme has 4 owners (at most 3 allowed)"
    [finding] = [f for f in results_noncompliant["github.org.members_have_2fa"].findings if f.status == "fail"]
    assert finding.resource == "cleo" and "two-factor" in finding.message


def test_params_are_overridable(stub: Any) -> None:
    serve(stub, _noncompliant_estate())
    collected = collect_items(GitHubConnector, settings(stub))
    results = evaluate_connector_checks(
        GitHubConnector,
        collected,
        {
            "github.org.owners_limited": {"max_owners": 4},
            "github.repo.public_only_if_allowed": {"allowed_public": ["acme/blog", "acme/site"]},
            "github.repo.default_branch_protected": {"min_approvals": 2},
        },
        NOW,
    )
    assert results["github.org.owners_limited"].status == "pass"
    assert results["github.repo.public_only_if_allowed"].status == "pass"
    # with two approvals required, single-approval protection and rulesets no longer count
    assert "acme/api" in results["github.repo.default_branch_protected"].failing
    assert "acme/web" in results["github.repo.default_branch_protected"].failing


def test_without_owner_rights_owner_checks_are_error_not_pass(stub: Any) -> None:
    serve(stub, compliant_estate(owner_token=False))
    results = evaluate_connector_checks(GitHubConnector, collect_items(GitHubConnector, settings(stub)), PARAMS, NOW)
    assert results["github.org.two_factor_required"].status == "error"
    assert results["github.org.default_permission_restricted"].status == "error"
    assert results["github.org.members_have_2fa"].status == "error"
    assert results["github.repo.default_branch_protected"].status == "pass"  # other kinds unaffected


def test_demo_estate_shows_every_fixed_check() -> None:
    items = list(GitHubConnector.simulated_estate(NOW))
    assert items == list(GitHubConnector.simulated_estate(NOW))  # deterministic
    assert {i.kind for i in items} == {k.name for k in GitHubConnector.evidence_kinds}
    results = evaluate_connector_checks(GitHubConnector, items, now=NOW)
    for check_id in FIXED:
        assert results[check_id].status in ("pass", "fail"), check_id
    assert results["github.org.two_factor_required"].status == "pass"
    assert results["github.org.owners_limited"].failing == ["example"]
    assert "example/legacy-billing" not in results["github.repo.default_branch_protected"].failing


def test_a_failed_detail_call_only_affects_the_checks_that_read_it(stub: Stub) -> None:
    """An API without the Actions-permissions endpoint (plain 404) must not blind the protection checks."""
    serve(stub, compliant_estate())
    stub.fail("GET", r"/repos/acme/[^/]+/actions/permissions", 404, times=1000, body={"message": "Not Found"})
    collected = collect_items(GitHubConnector, settings(stub))
    results = evaluate_connector_checks(GitHubConnector, collected, params=PARAMS, now=NOW)
    assert results["github.repo.actions_restricted"].status == "error"
    assert any("actions permissions: " in e for e in results["github.repo.actions_restricted"].errors)
    for check_id in (
        "github.repo.default_branch_protected",
        "github.repo.force_push_blocked",
        "github.repo.secret_scanning_enabled",
    ):
        assert results[check_id].status == "pass", (check_id, results[check_id].errors)
        assert results[check_id].errors == []


def test_without_the_branch_endpoint_protection_is_asked_directly(stub: Stub) -> None:
    serve(stub, compliant_estate())
    stub.fail("GET", r"/repos/acme/[^/]+/branches/[^/]+", 404, times=1000, body={"message": "Not Found"})
    collected = collect_items(GitHubConnector, settings(stub))
    results = evaluate_connector_checks(GitHubConnector, collected, params=PARAMS, now=NOW)
    assert stub.count("GET", r"/repos/acme/[^/]+/branches/[^/]+/protection") > 0
    assert results["github.repo.default_branch_protected"].status == "pass"
    assert results["github.repo.force_push_blocked"].status == "pass"


def test_no_outside_collaborators_means_no_per_repository_access_calls(stub: Stub) -> None:
    estate = compliant_estate()
    estate.outside_collaborators.clear()
    serve(stub, estate)
    collected = collect_items(GitHubConnector, settings(stub))
    assert stub.count("GET", r"/repos/acme/[^/]+/collaborators") == 0
    results = evaluate_connector_checks(GitHubConnector, collected, params=PARAMS, now=NOW)
    assert results["github.outside_collaborator.no_admin"].status == "not_applicable"
