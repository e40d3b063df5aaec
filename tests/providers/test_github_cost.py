"""How the GitHub connector spares requests: organization policies, answers without ETags remembered
across runs, and the branch summary when most branches are unprotected. Each saving is shown together with
the evidence and the verdicts it must not change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stub import Stub

from collector.testing import collect_items, evaluate_connector_checks
from connectors.base import CollectContext, CollectionError, ConnectorState, EvidenceItem
from connectors.github import GitHubConnector
from connectors.github.recall import Recall

from .github_fixtures import compliant_estate, compliant_repo, serve, settings
from .github_imitation import Estate, Repo, protection, ruleset

NOW = datetime(2026, 5, 1, tzinfo=UTC)
WRITE_KEY = {"id": 3, "title": "deploy", "read_only": False, "verified": True, "created_at": "2025-01-01T00:00:00Z"}


def repos_of(collected: list[Any]) -> dict[str, dict[str, Any]]:
    return {r.id: r.data for r in collected if isinstance(r, EvidenceItem) and r.kind == "github.repo"}


def errors_of(collected: list[Any]) -> list[str]:
    return [r.message for r in collected if isinstance(r, CollectionError)]


def next_run(stub: Stub, state: dict[str, Any], run_id: str, **extra: Any) -> tuple[list[Any], dict[str, Any]]:
    stub.log.clear()
    context = CollectContext(run_id=run_id, started_at=NOW, state=ConnectorState(state))
    return collect_items(GitHubConnector, settings(stub, **extra), context), context.state.changed


def run_twice(stub: Stub, estate: Estate, **extra: Any) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Two runs carrying the connector state forward; the stub's log holds only the second run's requests."""
    serve(stub, estate)
    run1, state = next_run(stub, {}, "r1", **extra)
    run2, state = next_run(stub, state, "r2", **extra)
    return run1, run2, state


# -- Actions: the organization's policy -----------------------------------------------------------------


def test_restrictive_org_actions_policy_spares_every_repository_call(stub: Stub) -> None:
    # 105 enabled repositories: the wrapped {"total_count", "repositories"} list spans two pages.
    enabled = [f"svc{i:03d}" for i in range(105)]
    estate = compliant_estate(
        repos=[Repo(name, actions={"enabled": True, "allowed_actions": "all"}) for name in [*enabled, "legacy"]],
        actions_policy={"enabled_repositories": "selected", "allowed_actions": "selected", "selected": enabled},
    )
    serve(stub, estate)
    collected = collect_items(GitHubConnector, settings(stub))
    assert errors_of(collected) == []
    repos = repos_of(collected)
    assert repos["acme/svc104"]["actions_permissions"] == {
        "enabled": True,
        "allowed_actions": "selected",
        "source": "organization",
    }
    assert repos["acme/legacy"]["actions_permissions"] == {
        "enabled": False,
        "allowed_actions": None,
        "source": "organization",
    }
    assert stub.count("GET", "/repos/.*/actions/permissions") == 0
    pages = [r.query.get("page") for r in stub.log if r.path == "/orgs/acme/actions/permissions/repositories"]
    assert pages == [None, "2"]
    results = evaluate_connector_checks(GitHubConnector, collected, now=NOW)
    assert results["github.repo.actions_restricted"].status == "pass"


def test_permissive_org_actions_policy_asks_each_repository(stub: Stub) -> None:
    estate = compliant_estate(actions_policy={"enabled_repositories": "all", "allowed_actions": "all"})
    estate.repos[1].actions = {"enabled": True, "allowed_actions": "all"}
    serve(stub, estate)
    collected = collect_items(GitHubConnector, settings(stub))
    repos = repos_of(collected)
    assert repos["acme/web"]["actions_permissions"] == {
        "enabled": True,
        "allowed_actions": "all",
        "source": "repository",
    }
    assert stub.count("GET", "/repos/.*/actions/permissions") == 3  # every non-archived repository
    result = evaluate_connector_checks(GitHubConnector, collected, now=NOW)["github.repo.actions_restricted"]
    assert result.status == "fail" and result.failing == ["acme/web"]


def test_unreadable_org_actions_policy_falls_back_without_an_error(stub: Stub) -> None:
    serve(stub, compliant_estate(actions_policy=None))  # 403: a classic token without admin:org
    collected = collect_items(GitHubConnector, settings(stub))
    assert errors_of(collected) == []
    assert repos_of(collected)["acme/api"]["actions_permissions"]["source"] == "repository"
    assert stub.count("GET", "/orgs/acme/actions/permissions") == 1
    assert stub.count("GET", "/repos/.*/actions/permissions") == 3


# -- deploy keys: the organization's policy ---------------------------------------------------------------


def test_deploy_keys_disabled_by_the_organization_need_no_repository_calls(stub: Stub) -> None:
    estate = compliant_estate(settings={"deploy_keys_enabled_for_repositories": False})
    estate.repos[0].deploy_keys = [WRITE_KEY]  # disabled by the organization: it cannot be used
    serve(stub, estate)
    collected = collect_items(GitHubConnector, settings(stub))
    repos = repos_of(collected)
    assert repos["acme/api"]["deploy_keys"] == [] and repos["acme/api"]["deploy_keys_allowed"] is False
    assert stub.count("GET", "/repos/.*/keys") == 0
    assert (
        evaluate_connector_checks(GitHubConnector, collected, now=NOW)["github.repo.deploy_keys_read_only"].status
        == "pass"
    )

    estate.settings = {}  # allowed again: every repository is asked and the write key fails the check
    stub.log.clear()
    collected = collect_items(GitHubConnector, settings(stub))
    assert repos_of(collected)["acme/api"]["deploy_keys_allowed"] is True
    assert stub.count("GET", "/repos/.*/keys") == 4
    result = evaluate_connector_checks(GitHubConnector, collected, now=NOW)["github.repo.deploy_keys_read_only"]
    assert result.status == "fail" and result.failing == ["acme/api"]


# -- code scanning: only where it can run -------------------------------------------------------------------


def test_code_scanning_is_not_asked_where_advanced_security_is_off(stub: Stub) -> None:
    estate = compliant_estate()
    estate.repos[0].advanced_security = "disabled"  # private: code scanning cannot run
    estate.repos[2].advanced_security = "disabled"  # public: it can regardless
    serve(stub, estate)
    collected = collect_items(GitHubConnector, settings(stub))
    assert errors_of(collected) == []
    repos = repos_of(collected)
    assert repos["acme/api"]["code_scanning_available"] is False
    assert repos["acme/api"]["code_scanning_last_analysis"] is None
    assert stub.count("GET", "/repos/acme/api/code-scanning/analyses") == 0
    assert repos["acme/site"]["code_scanning_available"] is True
    assert repos["acme/site"]["code_scanning_last_analysis"]["tool"] == "CodeQL"
    result = evaluate_connector_checks(GitHubConnector, collected, now=NOW)["github.repo.code_scanning_recent"]
    assert result.status == "fail" and result.failing == ["acme/api"]


def test_code_scanning_refusal_is_a_fact_when_availability_is_not_reported(stub: Stub) -> None:
    # Without admin rights the repository list has no security_and_analysis: the connector asks, and
    # GitHub's 403 "Advanced Security must be enabled" is recorded as "no analysis", not as an error.
    estate = compliant_estate()
    estate.repos[0].advanced_security = "disabled"
    imitation = serve(stub, estate)
    original = imitation._repo_json

    def without_analysis_settings(req: Any, r: Repo) -> dict[str, Any]:
        body = original(req, r)
        body.pop("security_and_analysis")
        return body

    imitation._repo_json = without_analysis_settings  # type: ignore[method-assign]
    collected = collect_items(GitHubConnector, settings(stub))
    assert errors_of(collected) == []
    api = repos_of(collected)["acme/api"]
    assert api["code_scanning_available"] is None and api["code_scanning_last_analysis"] is None
    assert stub.count("GET", "/repos/acme/api/code-scanning/analyses") == 1


# -- answers without an ETag, remembered across runs --------------------------------------------------------


def _mixed_estate() -> Estate:
    return compliant_estate(
        repos=[
            compliant_repo("api"),
            compliant_repo("bare", protection=None, analyses=[], codeowners=False),
            compliant_repo("ruled", protection=None, rulesets=[ruleset(10, "active")]),
        ]
    )


def test_recall_reasks_after_a_push_and_spreads_due_times_between_half_and_full_age() -> None:
    clock = [0.0]
    state = ConnectorState()
    recall = Recall(state, max_age_seconds=100.0, clock=lambda: clock[0])
    asked: list[str] = []
    repos = [{"full_name": f"acme/r{i}", "pushed_at": "t0", "default_branch": "main"} for i in range(50)]

    def sweep() -> None:
        for repo in repos:
            recall.answer("fact", repo, lambda r=repo: asked.append(r["full_name"]), keep=lambda _: True)

    sweep()
    assert len(asked) == 50
    for now, expected in ((49.9, 0), (100.0, 50)):
        asked.clear()
        clock[0] = now
        state = ConnectorState(state.changed)  # a new run sees what the last one stored
        recall.state = state
        sweep()
        assert len(asked) == expected
    # due times are spread: at three quarters of the age some, not all, are asked again
    clock[0] = 175.0
    asked.clear()
    sweep()
    assert 0 < len(asked) < 50
    # a push re-asks at once, whatever the age
    asked.clear()
    repos[0]["pushed_at"] = "t1"
    sweep()
    assert "acme/r0" in asked


def charged(stub: Stub) -> list[str]:
    """Paths of the requests GitHub would count against the rate limit (every answer except 304)."""
    return [r.path for r in stub.log if getattr(r, "status", None) != 304]


def test_unchanged_reruns_reuse_404_answers_and_soon_pay_nothing(stub: Stub) -> None:
    estate = _mixed_estate()
    run1, run2, state = run_twice(stub, estate)
    assert repos_of(run2) == repos_of(run1)
    assert repos_of(run2)["acme/bare"]["branch_protection"] is None
    assert repos_of(run2)["acme/bare"]["code_scanning_last_analysis"] is None
    # The 404s ("Branch not protected", "no analysis found", no CODEOWNERS) are not asked again. A branch
    # that answered "Branch not protected" is asked for its summary once, whose ETag makes every later
    # check free; everything else answers 304.
    assert stub.count("GET", "/repos/acme/(bare|ruled)/branches/main/protection") == 0
    assert stub.count("GET", "/repos/acme/bare/code-scanning/analyses") == 0
    assert stub.count("GET", "/repos/.*/codeowners/errors") == 0
    # (ruled's summary was read on the first run, to confirm the flag counts rulesets: a 304 now)
    assert charged(stub) == ["/repos/acme/bare/branches/main"]
    run3, _ = next_run(stub, state, "r3")
    assert repos_of(run3) == repos_of(run1)
    assert charged(stub) == []


def test_protection_added_shows_at_once_other_404s_after_a_push_or_when_due(stub: Stub) -> None:
    estate = _mixed_estate()
    _, _, state = run_twice(stub, estate)
    # Protection added without a push: the branch summary's `protected` flag flips, so it is seen at once.
    estate.repos[1].protection = protection()
    # Classic protection added on top of a ruleset leaves the summary `protected` as it was: that
    # memory stands until a push, a change of rules or the recheck.
    estate.repos[2].protection = protection()
    run3, _ = next_run(stub, state, "r3")
    assert repos_of(run3)["acme/bare"]["branch_protection"]["enforce_admins"]["enabled"] is True
    assert stub.count("GET", "/repos/acme/bare/branches/main/protection") == 1
    assert repos_of(run3)["acme/ruled"]["branch_protection"] is None
    # A first code scanning analysis has no such signal: the remembered "no analysis found" stands until
    # the next push or until it is due (a memory can delay a pass, never make one); recheck_hours: 0
    # asks every run.
    estate.repos[1].analyses = list(estate.repos[0].analyses)
    run4, _ = next_run(stub, state, "r4")
    assert repos_of(run4)["acme/bare"]["code_scanning_last_analysis"] is None
    run5, _ = next_run(stub, state, "r5", recheck_hours=0)
    assert repos_of(run5)["acme/bare"]["code_scanning_last_analysis"]["tool"] == "CodeQL"
    assert repos_of(run5)["acme/ruled"]["branch_protection"] is not None
    # A push re-asks at once: CODEOWNERS and code scanning of the pushed repository only.
    estate.repos[1].pushed_at = "2026-04-30T09:00:00Z"
    estate.repos[1].codeowners = True
    run6, _ = next_run(stub, state, "r6")
    bare = repos_of(run6)["acme/bare"]
    assert bare["codeowners"]["present"] is True and bare["code_scanning_last_analysis"] is not None
    assert stub.count("GET", "/repos/acme/bare/codeowners/errors") == 1
    assert stub.count("GET", "/repos/acme/api/codeowners/errors") == 0


# -- the branch summary when most branches are unprotected ---------------------------------------------------


def test_mostly_unprotected_organization_switches_to_the_branch_summary(stub: Stub) -> None:
    repos = [Repo(f"bare{i:02d}") for i in range(30)]
    repos[2] = Repo("ruled", rulesets=[ruleset(11, "active")])  # its summary confirms the flag counts rulesets
    repos[25] = compliant_repo("guarded")  # after the warm-up: asked summary-first, then in full
    run1, run2, _ = run_twice(stub, compliant_estate(repos=repos))
    first = repos_of(run1)
    assert first["acme/guarded"]["branch_protection"]["required_pull_request_reviews"] is not None
    assert first["acme/ruled"]["default_branch_rules"][0]["type"] == "pull_request"
    assert first["acme/bare29"]["branch_protection"] is None and first["acme/bare29"]["default_branch_rules"] == []
    results = evaluate_connector_checks(GitHubConnector, run1, now=NOW)
    failing = results["github.repo.default_branch_protected"].failing
    assert "acme/guarded" not in failing and "acme/ruled" not in failing and "acme/bare29" in failing
    assert repos_of(run2) == first
    # the re-run asks each repository summary-first and pays only for the first summaries of the
    # warm-up repositories (asked directly before, their "Branch not protected" had no ETag)
    assert stub.count("GET", "/repos/acme/bare29/branches/main") == 1
    assert stub.count("GET", "/repos/acme/bare29/(rules/)?branches/main/?.*") == 1
    assert stub.count("GET", "/repos/acme/guarded/(rules/)?branches/main(/protection)?") == 3
    warm_up = [f"/repos/acme/bare{i:02d}/branches/main" for i in range(10) if i != 2]
    assert sorted(charged(stub)) == warm_up


def test_summary_first_costs_one_request_per_unprotected_branch(stub: Stub) -> None:
    repos = [Repo("ruled", rulesets=[ruleset(11, "active")])] + [Repo(f"bare{i:02d}") for i in range(39)]
    serve(stub, compliant_estate(repos=repos))
    collect_items(GitHubConnector, settings(stub))
    branch_requests = stub.count("GET", "/repos/.*/(rules/)?branches/main(/protection)?")
    # 10 warm-up repositories asked directly (protection + rules), one summary to confirm that the
    # `protected` flag counts rulesets, then 30 repositories by their summary alone
    assert branch_requests == 10 * 2 + 1 + 30 * 1


def test_a_protected_flag_that_ignores_rulesets_is_never_trusted(stub: Stub) -> None:
    repos = [Repo("ruled", rulesets=[ruleset(11, "active")])] + [Repo(f"bare{i:02d}") for i in range(39)]
    repos[30] = Repo("late", rulesets=[ruleset(12, "active")])
    serve(stub, compliant_estate(repos=repos, summary_counts_rulesets=False))
    collected = collect_items(GitHubConnector, settings(stub))
    assert stub.count("GET", "/repos/acme/[^/]+/branches/main") == 1  # the confirmation that failed
    assert repos_of(collected)["acme/late"]["default_branch_rules"][0]["type"] == "pull_request"
    failing = evaluate_connector_checks(GitHubConnector, collected, now=NOW)[
        "github.repo.default_branch_protected"
    ].failing
    assert "acme/late" not in failing and "acme/ruled" not in failing and "acme/bare38" in failing
