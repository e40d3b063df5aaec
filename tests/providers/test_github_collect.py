"""GitHub connector collection through PyGithub's real HTTP path against the local imitation."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from typing import Any

import pytest
from pydantic import ValidationError

from collector.testing import collect_items
from connectors.base import CollectContext, CollectionError, ConnectorError, ConnectorState, EvidenceItem
from connectors.github import GitHubConnector, GitHubSettings

from .github_fixtures import TOKEN, compliant_estate, compliant_repo, serve, settings
from .github_imitation import Estate, Repo, protection, ruleset

SECONDARY = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}


def items_of(collected: list[Any], kind: str) -> dict[str, dict[str, Any]]:
    return {r.id: r.data for r in collected if isinstance(r, EvidenceItem) and r.kind == kind}


def errors_of(collected: list[Any], kind: str | None = None) -> list[str]:
    return [r.message for r in collected if isinstance(r, CollectionError) and (kind is None or r.kind == kind)]


def test_package_import_does_not_load_the_sdk() -> None:
    code = "import sys, connectors.github; assert 'github' not in sys.modules and 'requests' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_settings_need_exactly_one_auth_method() -> None:
    with pytest.raises(ValidationError):
        GitHubSettings(organization="acme")
    with pytest.raises(ValidationError):
        GitHubSettings(organization="acme", token="t", app_id=1, app_private_key_env="K", installation_id=2)
    with pytest.raises(ValidationError):
        GitHubSettings(organization="acme", token="t", unknown="x")  # type: ignore[call-arg]
    s = GitHubSettings(organization="acme", token="t")
    assert s.base_url == "https://api.github.com" and GitHubConnector.label(s) == "github:acme"


def test_pages_of_100_are_all_read(stub: Any) -> None:
    estate = Estate(
        members=[f"user{i:03d}" for i in range(230)],
        owners=["user000"],
        two_factor_disabled=["user150", "user229"],
        repos=[Repo(f"repo{i:03d}") for i in range(130)],
    )
    serve(stub, estate)
    progress: list[str] = []
    context = CollectContext(run_id="r1", started_at=__import__("datetime").datetime.now(), progress=progress.append)
    collected = collect_items(GitHubConnector, settings(stub), context)
    assert errors_of(collected) == []
    assert "github: 100/130 repositories of acme read" in progress  # long sweeps report progress
    members = items_of(collected, "github.member")
    assert len(members) == 230
    assert members["user000"]["role"] == "admin" and members["user001"]["role"] == "member"
    assert [m for m, d in members.items() if d["two_factor_disabled"]] == ["user150", "user229"]
    assert len(items_of(collected, "github.repo")) == 130
    repo_pages = [r for r in stub.log if r.path == "/orgs/acme/repos"]
    assert [(r.query.get("per_page"), r.query.get("page")) for r in repo_pages] == [("100", None), ("100", "2")]
    assert stub.count("GET", "/orgs/acme/members") == 3 + 1 + 1  # 3 pages, owners, 2fa filter
    assert all(r.method == "GET" for r in stub.log)


def test_secondary_rate_limit_with_retry_after_is_waited_out(stub: Any) -> None:
    serve(stub, compliant_estate())
    stub.fail("GET", "/orgs/acme/repos", 403, times=1, headers={"Retry-After": "1"}, body=SECONDARY)
    started = time.monotonic()
    collected = collect_items(GitHubConnector, settings(stub))
    assert time.monotonic() - started >= 0.9  # the Retry-After second was honoured
    assert errors_of(collected) == []
    assert len(items_of(collected, "github.repo")) == 4
    assert stub.count("GET", "/orgs/acme/repos") == 2


def test_primary_rate_limit_429_waits_for_reset(stub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.github import client

    monkeypatch.setattr(client, "RATE_LIMIT_RESET_MARGIN", 0.05)
    serve(stub, compliant_estate())
    stub.fail(
        "GET",
        "/orgs/acme/outside_collaborators",
        429,
        times=2,
        headers=lambda: {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()))},
        body={"message": "API rate limit exceeded for user ID 1."},
    )
    collected = collect_items(GitHubConnector, settings(stub))
    assert errors_of(collected) == []
    assert set(items_of(collected, "github.outside_collaborator")) == {"olga"}
    assert stub.count("GET", "/orgs/acme/outside_collaborators") == 3


def test_throttled_past_retries_is_that_kinds_error(stub: Any) -> None:
    serve(stub, compliant_estate())
    stub.fail("GET", "/orgs/acme/outside_collaborators", 403, times=50, headers={"Retry-After": "0"}, body=SECONDARY)
    collected = collect_items(GitHubConnector, settings(stub, max_retries=2))
    assert items_of(collected, "github.outside_collaborator") == {}
    [message] = errors_of(collected, "github.outside_collaborator")
    assert message.startswith("acme: outside collaborators:")
    assert len(items_of(collected, "github.repo")) == 4 and errors_of(collected, "github.repo") == []


def test_error_mid_pagination_is_an_error_not_a_short_list(stub: Any) -> None:
    imitation = serve(stub, Estate(members=["a"], owners=["a"], repos=[Repo(f"r{i}") for i in range(150)]))
    imitation.broken_pages.add(("/orgs/acme/repos", "2"))
    collected = collect_items(GitHubConnector, settings(stub, max_retries=1))
    assert items_of(collected, "github.repo") == {}
    [message] = errors_of(collected, "github.repo")
    assert message.startswith("acme: repositories:") and "502" in message
    assert stub.count("GET", "/orgs/acme/repos") == 1 + 2  # page 1, page 2 and its retry


def test_branch_not_protected_and_rulesets_by_enforcement(stub: Any) -> None:
    estate = Estate(
        members=["a"],
        owners=["a"],
        repos=[
            Repo("classic", protection=protection(approvals=2)),
            Repo("active", rulesets=[ruleset(1, "active")]),
            Repo("evaluate", rulesets=[ruleset(2, "evaluate")]),
            Repo("disabled", rulesets=[ruleset(3, "disabled")]),
            Repo("bare"),
        ],
    )
    serve(stub, estate)
    repos = items_of(collect_items(GitHubConnector, settings(stub)), "github.repo")
    assert (
        repos["acme/classic"]["branch_protection"]["required_pull_request_reviews"]["required_approving_review_count"]
        == 2
    )
    # protected only through a ruleset: GitHub answers 404 "Branch not protected" -> null, not an error
    assert repos["acme/active"]["branch_protection"] is None
    assert stub.count("GET", "/repos/acme/active/branches/main/protection") == 1
    assert [r["type"] for r in repos["acme/active"]["default_branch_rules"]] == [
        "pull_request",
        "deletion",
        "non_fast_forward",
        "required_status_checks",
    ]
    assert repos["acme/active"]["default_branch_rules"][0]["ruleset_id"] == 1
    assert repos["acme/evaluate"]["default_branch_rules"] == []
    assert repos["acme/disabled"]["default_branch_rules"] == []
    # few repositories: each is asked directly (protection + rules); one summary, of the first branch
    # protected by a ruleset alone, checks that the server's `protected` flag counts rulesets
    assert stub.count("GET", "/repos/acme/bare/branches/main/protection") == 1
    assert stub.count("GET", "/repos/acme/bare/rules/branches/main") == 1
    assert stub.count("GET", "/repos/acme/[^/]+/branches/main") == 1
    assert stub.count("GET", "/repos/acme/active/branches/main") == 1
    assert repos["acme/bare"]["branch_protection"] is None


def test_non_owner_token_2fa_filter_denied(stub: Any) -> None:
    serve(stub, compliant_estate(owner_token=False, two_factor_disabled=["cleo"]))
    collected = collect_items(GitHubConnector, settings(stub))
    [member_error] = errors_of(collected, "github.member")
    assert "filter=2fa_disabled" in member_error and "403" in member_error
    members = items_of(collected, "github.member")
    assert set(members) == {"alice", "bob", "cleo"}
    assert all(m["two_factor_disabled"] is None for m in members.values())
    assert "not an organization owner" in errors_of(collected, "github.org")[0]
    org = items_of(collected, "github.org")["acme"]
    assert org["two_factor_requirement_enabled"] is None and org["owners_count"] == 2
    assert len(items_of(collected, "github.repo")) == 4  # other kinds unaffected


def test_archived_repositories_are_marked_and_not_probed(stub: Any) -> None:
    serve(stub, compliant_estate())
    repos = items_of(collect_items(GitHubConnector, settings(stub)), "github.repo")
    attic = repos["acme/attic"]
    assert attic["archived"] is True and attic["details_skipped"] == "archived"
    assert attic["deploy_keys"] == [] and attic["dependabot_alerts"] == []
    assert stub.count("GET", "/repos/acme/attic/branches/.*") == 0
    assert repos["acme/api"]["details_skipped"] is None
    assert "hooks_url" not in repos["acme/api"] and repos["acme/api"]["html_url"].startswith("https://github.com/")


def test_dependabot_alerts_org_cursor_pages_and_per_repo_fallback(stub: Any) -> None:
    repo = compliant_repo(
        "api", alerts=[{"number": n, "severity": "critical" if n == 150 else "low"} for n in range(1, 151)]
    )
    estate = Estate(members=["a"], owners=["a"], repos=[repo, compliant_repo("web")])
    serve(stub, estate)
    repos = items_of(collect_items(GitHubConnector, settings(stub)), "github.repo")
    assert len(repos["acme/api"]["dependabot_alerts"]) == 150 and repos["acme/web"]["dependabot_alerts"] == []
    assert repos["acme/api"]["dependabot_alerts"][-1]["severity"] == "critical"
    alert_pages = [r for r in stub.log if r.path == "/orgs/acme/dependabot/alerts"]
    assert len(alert_pages) == 2 and "after" in alert_pages[1].query
    assert stub.count("GET", "/repos/.*/dependabot/alerts") == 0

    estate.org_alerts_endpoint = False  # an older GitHub Enterprise Server
    repos = items_of(collect_items(GitHubConnector, settings(stub)), "github.repo")
    assert len(repos["acme/api"]["dependabot_alerts"]) == 150
    assert stub.count("GET", "/repos/acme/api/dependabot/alerts") == 2


def test_dependabot_alerts_denied_are_unknown_not_empty(stub: Any) -> None:
    repo = compliant_repo("api", alerts=[{"number": 1, "severity": "critical"}])
    serve(stub, Estate(members=["a"], owners=["a"], repos=[repo]))
    stub.fail(
        "GET",
        "/orgs/acme/dependabot/alerts",
        403,
        times=5,
        body={"message": "Resource not accessible by personal access token"},
    )
    collected = collect_items(GitHubConnector, settings(stub))
    assert items_of(collected, "github.repo")["acme/api"]["dependabot_alerts"] is None
    assert any("Dependabot alerts" in m and "403" in m for m in errors_of(collected, "github.repo"))


def test_unknown_organization_stops_the_connector(stub: Any) -> None:
    serve(stub, Estate())
    with pytest.raises(ConnectorError, match="'nope' not found"):
        collect_items(GitHubConnector, settings(stub, organization="nope"))


def test_unchanged_rerun_costs_under_ten_percent(stub: Any) -> None:
    estate = compliant_estate(
        repos=[compliant_repo(f"svc{i:03d}") for i in range(120)]
        + [Repo(f"bare{i}", codeowners=False) for i in range(10)]
    )
    imitation = serve(stub, estate)
    first = CollectContext(run_id="r1", started_at=__import__("datetime").datetime.now(), state=ConnectorState())
    run1 = collect_items(GitHubConnector, settings(stub), first)
    cost1 = imitation.cost()
    stub.log.clear()
    second = CollectContext(run_id="r2", started_at=first.started_at, state=ConnectorState(first.state.changed))
    run2 = collect_items(GitHubConnector, settings(stub), second)
    cost2 = imitation.cost()
    assert cost2 <= 0.10 * cost1, (cost1, cost2)
    assert sorted((r.kind, r.id, str(r.data)) for r in run2 if isinstance(r, EvidenceItem)) == sorted(
        (r.kind, r.id, str(r.data)) for r in run1 if isinstance(r, EvidenceItem)
    )
    assert second.api_calls == len(stub.log)  # every request was counted, 304s included
    # the state is carried forward, so a third unchanged run is just as cheap; a change is still seen
    stub.log.clear()
    estate.repos[0].protection = protection(force_push=True)
    third = CollectContext(run_id="r3", started_at=first.started_at, state=ConnectorState(second.state.changed))
    run3 = collect_items(GitHubConnector, settings(stub), third)
    assert imitation.cost() <= cost2 + 1
    repo = items_of(run3, "github.repo")["acme/svc000"]
    assert repo["branch_protection"]["allow_force_pushes"]["enabled"] is True


def test_github_app_installation_auth(stub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    monkeypatch.setenv("ANNEXA_TEST_GH_APP_KEY", pem)
    serve(stub, compliant_estate())
    app = {
        "organization": "acme",
        "base_url": stub.base_url,
        "app_id": 1234,
        "app_private_key_env": "ANNEXA_TEST_GH_APP_KEY",
        "installation_id": 987,
    }
    collected = collect_items(GitHubConnector, app)
    assert errors_of(collected) == [] and "acme" in items_of(collected, "github.org")
    assert stub.count("POST", "/app/installations/987/access_tokens") == 1
    gets = [r for r in stub.log if r.method == "GET"]
    assert gets and all(r.headers["authorization"] == "token ghs_installationtoken" for r in gets)


def test_app_key_variable_missing_is_a_clear_error(stub: Any) -> None:
    app = {
        "organization": "acme",
        "base_url": stub.base_url,
        "app_id": 1,
        "app_private_key_env": "ANNEXA_TEST_UNSET_KEY",
        "installation_id": 2,
    }
    with pytest.raises(ConnectorError, match="ANNEXA_TEST_UNSET_KEY"):
        collect_items(GitHubConnector, app)


def test_token_never_in_evidence_errors_or_logs(stub: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    serve(stub, compliant_estate(owner_token=False))
    stub.fail("GET", "/orgs/acme/outside_collaborators", 403, times=1, body={"message": "Forbidden"})
    collected = collect_items(GitHubConnector, settings(stub))
    assert errors_of(collected)  # there were errors to leak into
    assert TOKEN not in repr(collected)
    assert TOKEN not in caplog.text
    assert all(r.headers["authorization"] == f"token {TOKEN}" for r in stub.log)  # it was really sent


def test_a_failing_branch_summary_costs_that_repository_not_the_organization(stub: Any) -> None:
    # A persistent 500 on one repository's branch summary: PyGithub raises requests' RetryError once its
    # retries are spent, which used to crash the whole connector.
    serve(stub, compliant_estate())
    stub.fail("GET", "/repos/acme/web/branches/main", 500, times=1_000_000, body={"message": "Server Error"})
    collected = collect_items(GitHubConnector, settings(stub, max_retries=1))
    assert stub.count("GET", "/repos/acme/web/branches/main") > 0
    repos = items_of(collected, "github.repo")
    assert len(repos) == 4  # every repository is still collected
    assert repos["acme/api"]["branch_protection"] is not None and repos["acme/web"]["branch_protection"] is None
    assert not [c for c in collected if isinstance(c, CollectionError) and c.kind == "github.org"]
