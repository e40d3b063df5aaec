"""The fault property for Azure: every route of the login, ARM and Graph imitations answering 500 or never
answering turns no check to pass, fails no resource that did not fail, loses no item silently, and is
reported.

Collected through the real azure-identity and HTTP clients over TLS (the imitations' own certificate),
with two retries, a tiny backoff and a one-second read timeout so that each case takes a few seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from providers.azure_estate import populate
from providers.azure_imitation import AzureImitation
from stub import Stub

from connectors.azure import AzureConnector
from faults.fault_property import Outcome, collect_outcome, reset, route_cases, violations

NOW = datetime.now(UTC)
SERVERS = ("login", "arm", "graph")
SERVER_ERROR = {"error": {"code": "InternalServerError", "message": "fault injected"}}
READ_TIMEOUT = 1.0
HANG_SECONDS = 2.5  # longer than the read timeout: the client gives up first


def _route_table() -> list[tuple[str, str, str]]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        imitation = AzureImitation(Path(tmp))
        try:
            return [
                (server, method, pattern)
                for server in SERVERS
                for method, pattern in route_cases(getattr(imitation, server).routes)
            ]
        finally:
            imitation.stop()


ROUTES = _route_table()


@dataclass
class Estate:
    az: AzureImitation
    baseline: Outcome
    run: Callable[[], tuple[Outcome, str | None]]


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    az = AzureImitation(tmp_path_factory.mktemp("azure"))
    with pytest.MonkeyPatch.context() as patch:
        az.use_environment(patch)
        populate(az)

        def run() -> tuple[Outcome, str | None]:
            return collect_outcome(AzureConnector, az.settings(read_timeout_seconds=READ_TIMEOUT), NOW)

        baseline, crashed = run()
        assert crashed is None and not baseline.errors, baseline.errors
        yield Estate(az, baseline, run)
    az.stop()


@pytest.fixture(autouse=True)
def _credentials(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's environment isolation clears AZURE_* per test: set the service principal again."""
    estate.az.use_environment(monkeypatch)


def _server(estate: Estate, name: str) -> Stub:
    stub: Stub = getattr(estate.az, name)
    return stub


def _reset(estate: Estate) -> None:
    reset(*(_server(estate, name) for name in SERVERS))


def test_the_baseline_judges_and_requests_every_server(estate: Estate) -> None:
    assert "fail" in {r.status for r in estate.baseline.results.values()}
    _reset(estate)
    estate.run()
    assert all(_server(estate, name).log for name in SERVERS)


def _requested(estate: Estate, server: str, method: str, pattern: str) -> Stub:
    """The server of the route, clean for the faulted run; skips a route the estate never requests."""
    _reset(estate)
    estate.run()
    stub = _server(estate, server)
    if not stub.count(method, pattern):
        pytest.skip(f"the estate never requests {server} {method} {pattern}")
    _reset(estate)
    return stub


def _check(estate: Estate, stub: Stub, method: str, pattern: str) -> None:
    outcome, crashed = estate.run()
    assert stub.count(method, pattern), f"{method} {pattern} was never requested under the fault"
    assert violations(estate.baseline, outcome, crashed) == []


@pytest.mark.parametrize(("server", "method", "pattern"), ROUTES, ids=[f"{s} {m} {p}" for s, m, p in ROUTES])
def test_a_persistent_500_is_never_a_verdict(estate: Estate, server: str, method: str, pattern: str) -> None:
    stub = _requested(estate, server, method, pattern)
    stub.fail(method, pattern, 500, times=1_000_000, body=SERVER_ERROR)
    _check(estate, stub, method, pattern)


@pytest.mark.parametrize(("server", "method", "pattern"), ROUTES, ids=[f"{s} {m} {p}" for s, m, p in ROUTES])
def test_a_timeout_is_never_a_verdict(estate: Estate, server: str, method: str, pattern: str) -> None:
    stub = _requested(estate, server, method, pattern)
    stub.hang(method, pattern, seconds=HANG_SECONDS)
    _check(estate, stub, method, pattern)
