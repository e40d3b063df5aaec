"""The fault property for GitHub: every route of the imitation, answering 500 or never answering, turns no
check to pass, fails no resource that did not fail, loses no item silently, and is reported.

The estate is collected through the real PyGithub over HTTP, with one retry and a short request timeout
so that each case takes about a second. Routes the estate never requests are skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from providers.github_fixtures import compliant_estate, serve, settings
from providers.github_imitation import GitHubImitation
from stub import Stub

from connectors.github import GitHubConnector
from faults.fault_property import NO_ERROR, Outcome, collect_outcome, reset, route_cases, violations

NOW = datetime.now(UTC)
HANG_SECONDS = 2.5  # longer than request_timeout: the client gives up first
SERVER_ERROR = {"message": "Server Error"}


def _route_table() -> list[tuple[str, str]]:
    stub = Stub()
    stub.start()  # the imitation tunes the listening socket, so it needs a started server
    try:
        return route_cases(GitHubImitation(stub, compliant_estate()).stub.routes)
    finally:
        stub.stop()


ROUTES = _route_table()
ORG = ("GET", "/orgs/(?P<org>[^/]+)")  # without the organization nothing can be collected: the connector stops
# Routes whose failure the connector recovers from completely (the same facts read another way).
RECOVERED = {
    ("GET", "/orgs/(?P<org>[^/]+)/actions/permissions"): "the organization's Actions policy is asked per repository",
    ("GET", "/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/branches/(?P<branch>[^/]+)"): "the protection is asked directly",
}


@dataclass
class Estate:
    stub: Stub
    baseline: Outcome
    run: Callable[[], tuple[Outcome, str | None]]


@pytest.fixture(scope="module")
def estate() -> Iterator[Estate]:
    stub = Stub()
    stub.start()
    serve(stub, compliant_estate())
    config = settings(stub, max_retries=1, request_timeout=1, recheck_hours=0)

    def run() -> tuple[Outcome, str | None]:
        return collect_outcome(GitHubConnector, config, NOW)

    baseline, crashed = run()
    assert crashed is None and not baseline.errors, baseline.errors
    yield Estate(stub, baseline, run)
    stub.stop()


def _skip_unless_requested(estate: Estate, method: str, pattern: str) -> None:
    """Skip a route the unfaulted estate never requests; leave the stub clean for the faulted run."""
    reset(estate.stub)
    estate.run()
    requested = estate.stub.count(method, pattern)
    reset(estate.stub)
    if not requested:
        pytest.skip(f"the compliant estate never requests {method} {pattern}")


def test_the_baseline_judges_both_ways_and_calls_most_routes(estate: Estate) -> None:
    reset(estate.stub)
    outcome, _ = estate.run()
    assert {"pass"} <= {r.status for r in outcome.results.values()}
    called = [case for case in ROUTES if estate.stub.count(*case)]
    assert len(called) >= len(ROUTES) // 2, f"only {len(called)} of {len(ROUTES)} routes requested"


def _check(estate: Estate, method: str, pattern: str) -> None:
    outcome, crashed = estate.run()
    assert estate.stub.count(method, pattern), f"{method} {pattern} was never requested under the fault"
    if (method, pattern) == ORG:
        assert crashed is not None and "organization" in crashed  # one line naming what failed, exit 1
    else:
        assert crashed is None, f"the connector crashed: {crashed}"  # one failing route never costs the sweep
    found = violations(estate.baseline, outcome, crashed)
    assert found == ([NO_ERROR] if (method, pattern) in RECOVERED else []), found


@pytest.mark.parametrize(("method", "pattern"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_a_persistent_500_is_never_a_verdict(estate: Estate, method: str, pattern: str) -> None:
    _skip_unless_requested(estate, method, pattern)
    estate.stub.fail(method, pattern, 500, times=1_000_000, body=SERVER_ERROR)
    _check(estate, method, pattern)


@pytest.mark.parametrize(("method", "pattern"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_a_timeout_is_never_a_verdict(estate: Estate, method: str, pattern: str) -> None:
    _skip_unless_requested(estate, method, pattern)
    estate.stub.hang(method, pattern, seconds=HANG_SECONDS)
    _check(estate, method, pattern)
