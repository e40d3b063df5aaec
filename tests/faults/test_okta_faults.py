"""The fault property for Okta: every route of the imitation, answering 500 or never answering, turns no
check to pass, fails no resource that did not fail, loses no item silently, and is reported.

The estate is collected through the real SDK as an OAuth service app (so the token endpoint is a route
too), as the incremental second run after a clean first one (so the System Log is read), with a user
deleted between the listing and the factor call (so the user lookup is read) and two-item pages (so
every list but the authenticators is read over several pages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from providers.okta_estate import build_org
from providers.okta_imitation import OktaImitation, OktaOrg, factor, user
from stub import Stub

from collector.testing import collect_items
from connectors.base import CollectContext, CollectionError, ConnectorState, EvidenceItem, PreviousRun
from connectors.okta import OktaConnector
from faults.fault_property import NO_ERROR, Outcome, collect_outcome, reset, route_cases, violations

NOW = datetime.now(UTC)
KEY_ENV = "FAULTS_OKTA_SERVICE_KEY"  # not OKTA_*: the per-test environment isolation would remove it
BOB = "00u1bob00000000002"  # named by a factor event after the first run: the second run fetches his factors
NEWCOMER = "00u3yuri0000000097"  # created after the first run: factors fetched
DELETED = "00u3zed00000000098"  # created after the first run and deleted before its factor call
SERVER_ERROR = {"errorCode": "E0000009", "errorSummary": "Internal Server Error", "errorCauses": []}
HANG_SECONDS = 3.0  # longer than request_timeout: the client gives up first
SETTINGS: dict[str, Any] = {
    "client_id": "0oafaults",
    "private_key_env": KEY_ENV,
    "page_limit": 2,
    "factor_concurrency": 16,
    "request_timeout": 0.4,
    "connect_timeout": 0.4,
    "retry": {"max_attempts": 2, "initial_backoff_seconds": 0.01, "max_backoff_seconds": 0.05, "deadline_seconds": 5},
}
ROUTES = route_cases(OktaImitation(Stub(), OktaOrg()).stub.routes)
# Routes whose failure the connector recovers from completely, so that the run is rightly not partial.
RECOVERED = {("GET", "/api/v1/logs"): "an unreadable System Log makes the run a full factor sweep"}


@dataclass
class Estate:
    stub: Stub
    baseline: Outcome
    run: Callable[[], tuple[Outcome, str | None]]
    active_users: int  # users whose factors a full sweep fetches


def _context(run_id: str, previous: PreviousRun | None, state: dict[str, Any], started: datetime) -> CollectContext:
    return CollectContext(run_id=run_id, started_at=started, state=ConnectorState(state), previous=previous)


def _previous(run_id: str, records: list[EvidenceItem | CollectionError], started: datetime) -> PreviousRun:
    def items(kind: str) -> Iterator[EvidenceItem]:
        return iter([r for r in records if isinstance(r, EvidenceItem) and r.kind == kind])

    return PreviousRun(run_id, started, "ok", items)


def _after_first_run(org: OktaOrg) -> None:
    org.log_event("user.mfa.factor.activate", BOB, datetime.now(UTC))
    for uid, login in ((NEWCOMER, "yuri@example.com"), (DELETED, "zed@example.com")):
        org.users.append(user(uid, login, created=NOW - timedelta(days=1), last_login=NOW - timedelta(hours=2)))
        org.factors[uid] = [factor(f"f{uid[-2:]}", "webauthn", provider="FIDO")]
    org.deleted.add(DELETED)


@pytest.fixture(scope="module")
def estate() -> Iterator[Estate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    stub = Stub()
    stub.start()
    org = build_org(NOW)
    OktaImitation(stub, org)
    settings = {**SETTINGS, "org_url": stub.base_url}
    with pytest.MonkeyPatch.context() as env:
        env.setenv(KEY_ENV, pem.decode())
        started = datetime.now(UTC) - timedelta(hours=6)
        first_ctx = _context("run-1", None, {}, started)
        first = collect_items(OktaConnector, settings, first_ctx)
        assert not [r for r in first if isinstance(r, CollectionError)]
        _after_first_run(org)
        previous, state = _previous("run-1", first, started), dict(first_ctx.state.changed)

        def run() -> tuple[Outcome, str | None]:
            return collect_outcome(OktaConnector, settings, NOW, _context("run-2", previous, state, datetime.now(UTC)))

        baseline, crashed = run()
        assert crashed is None and not baseline.errors, baseline.errors
        active = sum(1 for u in org.users if u["status"] != "DEPROVISIONED")
        yield Estate(stub, baseline, run, active)
    stub.stop()


def _requested(stub: Stub, method: str, pattern: str) -> int:
    return stub.count(method, pattern)


def test_the_estate_calls_every_route_and_judges_both_ways(estate: Estate) -> None:
    reset(estate.stub)
    outcome, _ = estate.run()
    uncalled = [case for case in ROUTES if not _requested(estate.stub, *case)]
    assert uncalled == []  # no route needs skipping: every case below really exercises its route
    assert len(ROUTES) == 14  # + device assurance policies, ThreatInsight configuration
    statuses = {result.status for result in outcome.results.values()}
    assert {"pass", "fail"} <= statuses
    users = {r.id: r for r in outcome.collected if isinstance(r, EvidenceItem) and r.kind == "okta.user"}
    assert "zed@example.com" not in users and users["yuri@example.com"].data["factors_source"] == "fresh"
    assert users["carol@example.com"].data["factors_source"] == "carried_over"
    # Several pages were read (two-item pages), so a fault on any page is a fault of the route.
    assert len([r for r in estate.stub.log if r.path == "/api/v1/users" and "after" in r.query]) >= 4


def _check(estate: Estate, method: str, pattern: str) -> None:
    outcome, crashed = estate.run()
    assert _requested(estate.stub, method, pattern), f"{method} {pattern} was never requested under the fault"
    found = violations(estate.baseline, outcome, crashed)
    if (method, pattern) in RECOVERED:
        assert found == [NO_ERROR], RECOVERED[(method, pattern)]
        factor_calls = _requested(estate.stub, "GET", r"/api/v1/users/[^/]+/factors")
        assert factor_calls >= estate.active_users  # the full sweep really happened
    else:
        assert found == []


@pytest.mark.parametrize(("method", "pattern"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_a_persistent_500_is_never_a_verdict(estate: Estate, method: str, pattern: str) -> None:
    reset(estate.stub)
    estate.stub.fail(method, pattern, 500, times=1_000_000, body=SERVER_ERROR)
    _check(estate, method, pattern)


@pytest.mark.parametrize(("method", "pattern"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_a_timeout_is_never_a_verdict(estate: Estate, method: str, pattern: str) -> None:
    reset(estate.stub)
    estate.stub.hang(method, pattern, seconds=HANG_SECONDS)
    _check(estate, method, pattern)
