"""The coverage checks of issue #15 over GitHub: vulnerability disclosure, dependency licences, production
environments and approved outside collaborators, collected through PyGithub from the local imitation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stub import Stub

from collector.testing import collect_items, evaluate_connector_checks
from connectors.base import CollectContext, CollectionError, ConnectorState, EvidenceItem
from connectors.github import GitHubConnector
from connectors.github.sbom import licence_ids

from .github_fixtures import compliant_estate, compliant_repo, serve, settings
from .github_imitation import Estate, Repo, dependency, environment

NOW = datetime(2026, 5, 1, tzinfo=UTC)
FORBIDDEN = {"message": "Resource not accessible by personal access token", "status": "403"}
POLICY = "github.repo.security_policy_published"
LICENCES = "github.repo.dependency_licences_allowed"
PRODUCTION = "github.repo.production_environment_protected"
APPROVED = "github.outside_collaborator.approved"


def repos_of(collected: list[Any]) -> dict[str, dict[str, Any]]:
    return {r.id: r.data for r in collected if isinstance(r, EvidenceItem) and r.kind == "github.repo"}


def results_of(stub: Stub, estate: Estate, **params: Any) -> tuple[list[Any], dict[str, Any]]:
    serve(stub, estate)
    collected = collect_items(GitHubConnector, settings(stub))
    return collected, evaluate_connector_checks(GitHubConnector, collected, params, NOW)


def failing_message(result: Any, resource: str) -> str:
    [finding] = [f for f in result.findings if f.resource == resource and f.status == "fail"]
    return str(finding.message)


# -- security policy ---------------------------------------------------------------------------------------


def test_security_policy_from_a_file_reporting_or_the_organizations_defaults(stub: Stub) -> None:
    estate = compliant_estate(
        repos=[
            compliant_repo("own", visibility="public", files=["README.md", "docs/guide.md", "docs/Security.md"]),
            compliant_repo("reporting", visibility="public", private_vulnerability_reporting=True),
            compliant_repo("silent", visibility="public", files=["README.md", ".github/workflows/ci.yml"]),
            compliant_repo("empty", visibility="public", files=[]),  # "This repository is empty."
            compliant_repo("inner"),  # private: not asked
        ]
    )
    collected, results = results_of(stub, estate)
    repos = repos_of(collected)
    assert repos["acme/own"]["security_policy"] == {
        "private_vulnerability_reporting": False,
        "policy_file": {"repository": "acme/own", "path": "docs/Security.md"},
    }
    assert repos["acme/reporting"]["security_policy"]["private_vulnerability_reporting"] is True
    assert repos["acme/inner"]["security_policy"] is None
    assert stub.count("GET", "/repos/acme/inner/(private-vulnerability-reporting|contents.*)") == 0
    result = results[POLICY]
    assert result.status == "fail" and sorted(result.failing) == ["acme/empty", "acme/silent"]
    assert failing_message(result, "acme/silent") == (
        "public repository acme/silent has neither private vulnerability reporting nor a SECURITY.md"
    )
    # A folder listing only where the root shows that folder: silent has .github/ but no docs/.
    assert stub.count("GET", "/repos/acme/silent/contents/docs") == 0
    assert stub.count("GET", "/repos/acme/silent/contents/.github") == 1

    # The organization's public .github repository supplies a default SECURITY.md for all of them.
    estate.repos.append(Repo(".github", visibility="public", files=["profile/README.md", "SECURITY.md"]))
    stub.log.clear()
    collected, results = results_of(stub, estate)
    assert repos_of(collected)["acme/silent"]["security_policy"]["policy_file"] == {
        "repository": "acme/.github",
        "path": "SECURITY.md",
    }
    assert results[POLICY].status == "pass"
    assert stub.count("GET", "/repos/acme/.github/contents") == 1  # once per run, however many repositories


def test_security_policy_denied_is_an_error_naming_the_call(stub: Stub) -> None:
    estate = compliant_estate()
    serve(stub, estate)
    stub.fail("GET", "/repos/acme/site/private-vulnerability-reporting", 403, times=10, body=FORBIDDEN)
    collected = collect_items(GitHubConnector, settings(stub))
    results = evaluate_connector_checks(GitHubConnector, collected, now=NOW)
    result = results[POLICY]
    assert result.status == "error" and result.failing == []
    assert [f.resource for f in result.findings if f.status == "error"] == ["acme/site"]
    assert any("GET /repos/acme/site/private-vulnerability-reporting" in m and "HTTP 403" in m for m in result.errors)
    assert results["github.repo.default_branch_protected"].status == "pass"  # other facts unaffected


# -- dependency licences ---------------------------------------------------------------------------------


def test_licence_ids_of_spdx_expressions() -> None:
    assert licence_ids("(MIT OR GPL-3.0-only) AND Apache-2.0 WITH LLVM-exception") == [
        "MIT",
        "GPL-3.0-only",
        "Apache-2.0",
    ]
    assert licence_ids("GPL-2.0-or-later with Classpath-exception-2.0 or BSD-3-Clause") == [
        "GPL-2.0-or-later",
        "BSD-3-Clause",
    ]
    assert licence_ids(None) == [] and licence_ids("NOASSERTION") == []


def test_denied_licences_are_found_inside_expressions_and_by_prefix(stub: Stub) -> None:
    estate = compliant_estate(
        repos=[
            compliant_repo(
                "copyleft",
                dependencies=[
                    dependency("plain", "1.0", concluded="MIT"),
                    dependency("dual", "2.0", declared="MIT OR AGPL-3.0-or-later"),
                ],
            ),
            compliant_repo("lesser", dependencies=[dependency("libfoo", "1.0", concluded="LGPL-3.0-only")]),
            compliant_repo("unknown", dependencies=[dependency("mystery", "0.1")]),  # NOASSERTION: no licence stated
            compliant_repo("nograph", dependency_graph=False),
        ]
    )
    collected, results = results_of(stub, estate)
    repos = repos_of(collected)
    assert repos["acme/copyleft"]["dependency_licenses"] == [
        {
            "name": "pip:dual",
            "version": "2.0",
            "license": "MIT OR AGPL-3.0-or-later",
            "license_ids": ["MIT", "AGPL-3.0-or-later"],
        },
        {"name": "pip:plain", "version": "1.0", "license": "MIT", "license_ids": ["MIT"]},
    ]  # the repository's own package (its GPL-3.0 licence) is not a dependency
    assert repos["acme/unknown"]["dependency_licenses"][0]["license"] is None
    assert repos["acme/nograph"]["dependency_licenses"] is None
    result = results[LICENCES]
    assert result.status == "fail" and sorted(result.failing) == ["acme/copyleft", "acme/nograph"]
    assert failing_message(result, "acme/nograph") == (
        "acme/nograph depends on a package licensed under one of ['AGPL-3.0', 'GPL-3.0', 'SSPL-1.0'], "
        "or its dependency graph is off"
    )
    cleared = evaluate_connector_checks(
        GitHubConnector, collected, {LICENCES: {"allowed_packages": ["pip:dual"]}}, NOW
    )[LICENCES]
    assert cleared.failing == ["acme/nograph"]
    stricter = evaluate_connector_checks(GitHubConnector, collected, {LICENCES: {"denied_licenses": ["LGPL"]}}, NOW)
    assert sorted(stricter[LICENCES].failing) == ["acme/lesser", "acme/nograph"]


def test_sbom_denied_is_an_error_never_a_pass(stub: Stub) -> None:
    serve(stub, compliant_estate())
    stub.fail("GET", "/repos/acme/api/dependency-graph/sbom", 403, times=10, body=FORBIDDEN)
    collected = collect_items(GitHubConnector, settings(stub))
    result = evaluate_connector_checks(GitHubConnector, collected, now=NOW)[LICENCES]
    assert result.status == "error" and result.failing == []
    assert [f.resource for f in result.findings if f.status == "error"] == ["acme/api"]
    assert any("GET /repos/acme/api/dependency-graph/sbom" in m and "HTTP 403" in m for m in result.errors)


# -- production environments ---------------------------------------------------------------------------------


def test_environments_are_read_across_pages(stub: Stub) -> None:
    many = [environment(f"review-{n:03d}") for n in range(104)]
    estate = compliant_estate(
        repos=[
            compliant_repo("fleet", environments=[*many, environment("production", protected_branches=True)]),
            compliant_repo("loose", environments=[*many, environment("prod", protected_branches=False)]),
            compliant_repo("noprod", environments=[environment("staging")]),
        ]
    )
    collected, results = results_of(stub, estate)
    fleet = repos_of(collected)["acme/fleet"]["environments"]
    assert len(fleet) == 105 and fleet[-1]["deployment_branch_policy"]["protected_branches"] is True
    pages = [r.query.get("page") for r in stub.log if r.path == "/repos/acme/fleet/environments"]
    assert pages == [None, "2"]
    result = results[PRODUCTION]
    assert result.status == "fail" and result.failing == ["acme/loose"]
    assert failing_message(result, "acme/loose") == (
        "production environment of acme/loose can be deployed to without a reviewer or a protected branch"
    )
    assert "acme/noprod" not in {f.resource for f in result.findings}  # no production environment: out of scope
    renamed = evaluate_connector_checks(
        GitHubConnector, collected, {PRODUCTION: {"production_names": ["staging"]}}, NOW
    )
    assert renamed[PRODUCTION].failing == ["acme/noprod"]


def test_environments_denied_make_only_that_check_error(stub: Stub) -> None:
    serve(stub, compliant_estate())
    stub.fail("GET", "/repos/acme/web/environments", 403, times=10, body=FORBIDDEN)
    collected = collect_items(GitHubConnector, settings(stub))
    results = evaluate_connector_checks(GitHubConnector, collected, now=NOW)
    result = results[PRODUCTION]
    assert result.status == "error" and result.failing == []
    assert [f.resource for f in result.findings if f.status == "error"] == ["acme/web"]
    assert any("GET /repos/acme/web/environments" in m and "HTTP 403" in m for m in result.errors)
    assert [m.message for m in collected if isinstance(m, CollectionError) and "environments" in m.message]
    assert results[LICENCES].status == "pass" and results[LICENCES].errors == []


# -- outside collaborators ---------------------------------------------------------------------------------------


def test_outside_collaborators_approved_only_once_a_list_is_configured(stub: Stub) -> None:
    estate = compliant_estate()
    estate.outside_collaborators.append("mallory")
    collected, results = results_of(stub, estate)
    assert results[APPROVED].status == "not_applicable"  # nothing configured: never a silent pass
    judged = evaluate_connector_checks(GitHubConnector, collected, {APPROVED: {"approved": ["olga"]}}, NOW)[APPROVED]
    assert judged.status == "fail" and judged.failing == ["mallory"]
    assert failing_message(judged, "mallory") == "outside collaborator mallory is not on the approved list"


def test_outside_collaborators_unreadable_make_approved_error(stub: Stub) -> None:
    serve(stub, compliant_estate())
    stub.fail("GET", "/orgs/acme/outside_collaborators", 403, times=10, body=FORBIDDEN)
    collected = collect_items(GitHubConnector, settings(stub))
    result = evaluate_connector_checks(GitHubConnector, collected, {APPROVED: {"approved": ["olga"]}}, NOW)[APPROVED]
    assert result.status == "error" and any("outside collaborators" in e and "403" in e for e in result.errors)


# -- cost -----------------------------------------------------------------------------------------------------


def _charged(stub: Stub, pattern: str) -> int:
    import re

    rx = re.compile(pattern + "$")
    return sum(1 for r in stub.log if rx.match(r.path) and getattr(r, "status", None) != 304)


def test_unchanged_rerun_pays_nothing_for_the_new_facts_and_a_push_reasks(stub: Stub) -> None:
    estate = compliant_estate()
    serve(stub, estate)
    first = CollectContext(run_id="r1", started_at=NOW, state=ConnectorState())
    run1 = collect_items(GitHubConnector, settings(stub), first)
    assert _charged(stub, "/repos/acme/[^/]+/dependency-graph/sbom") == 3
    stub.log.clear()
    second = CollectContext(run_id="r2", started_at=NOW, state=ConnectorState(first.state.changed))
    run2 = collect_items(GitHubConnector, settings(stub), second)
    assert repos_of(run2) == repos_of(run1)
    # The SBOM (a new ETag on every request) and the policy file search are remembered until a push;
    # reporting and environments answer 304.
    assert stub.count("GET", "/repos/acme/[^/]+/(dependency-graph/sbom|contents.*)") == 0
    assert _charged(stub, "/repos/acme/[^/]+/(private-vulnerability-reporting|environments)") == 0
    assert stub.count("GET", "/repos/acme/site/private-vulnerability-reporting") == 1
    # A push re-asks the pushed repository's SBOM and policy file search, nobody else's.
    estate.repos[2].pushed_at = "2026-04-30T09:00:00Z"
    estate.repos[2].dependencies.append(dependency("ghostpdf", "1.0", concluded="AGPL-3.0-only"))
    stub.log.clear()
    third = CollectContext(run_id="r3", started_at=NOW, state=ConnectorState(second.state.changed))
    run3 = collect_items(GitHubConnector, settings(stub), third)
    assert stub.count("GET", "/repos/acme/[^/]+/dependency-graph/sbom") == 1
    assert stub.count("GET", "/repos/acme/site/contents.*") >= 1
    result = evaluate_connector_checks(GitHubConnector, run3, now=NOW)[LICENCES]
    assert result.failing == ["acme/site"]
