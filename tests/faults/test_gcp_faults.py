"""The fault property for the GCP connector, over every route of the Google API imitation.

The seeded organization is collected once per scope mode (the organization walk, and an explicit
project list, which reads ancestors with folders.get/organizations.get instead of listing). Then,
for every route the imitation serves, that operation answers 500 persistently, or never answers
(with the connector's read timeout lowered), and the property of tests/faults/fault_property.py must
hold against the baseline: no check turns to pass, no resource fails only under the fault, no item
disappears without an error, and the run records an error. The case list comes from the imitation's
route table, so a new route is covered (or must be listed below) automatically.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from providers.gcp_estate import NOW, seed
from providers.gcp_imitation import GcpImitation
from stub import Stub

from connectors.gcp import GcpConnector
from faults.fault_property import Outcome, collect_outcome, route_cases, violations

ROUTES = route_cases(GcpImitation(Stub()).install().stub.routes)
TOKEN = ("POST", "/token")
MODES: dict[str, dict[str, Any]] = {
    "organization": {"organization_id": "1000"},
    "projects": {"projects": ["prod-app", "prod-data-lake", "dev-sandbox", "shared-net", "org-admin"]},
}
# Routes a mode never calls; asserted, so the list cannot outlive the code that made it true.
NOT_CALLED = {
    "organization": {("GET", r"/v3/folders/(?P<folder>\d+)"), ("GET", r"/v3/projects/(?P<project>[^/:]+)")},
    "projects": {("GET", r"/v3/folders"), ("GET", r"/v3/projects")},
}
# Two quick attempts, and a read timeout well under the stub's hang, so a hung call costs ~0.6 s.
SETTINGS: dict[str, Any] = {
    "retry": {"max_attempts": 2, "initial_backoff_seconds": 0.01, "max_backoff_seconds": 0.01},
    "connect_timeout_seconds": 0.3,
    "read_timeout_seconds": 0.3,
}
HANG_SECONDS = 3.0


@dataclass
class Estate:
    stub: Stub
    key_file: Path
    public_key: Any
    baselines: dict[str, Outcome]
    called: dict[str, set[tuple[str, str]]]  # mode -> routes its baseline requested


def fresh(estate_stub: Stub, public_key: Any = None) -> GcpImitation:
    """The seeded organization again on the shared stub (collecting mutates it: deleted accounts go)."""
    with estate_stub.lock:
        estate_stub.routes.clear()
        estate_stub.faults.clear()
        estate_stub.log.clear()
    imitation = seed(GcpImitation(estate_stub).install())
    imitation.public_key = public_key
    return imitation


def collect(stub: Stub, mode: str) -> tuple[Outcome, str | None]:
    """Collect and evaluate; a connector that stops (ConnectorError) fails every kind, as a run records it."""
    return collect_outcome(GcpConnector, {"api_endpoint": stub.base_url, **SETTINGS, **MODES[mode]}, NOW)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    stub = Stub()
    stub.start()
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(GcpConnector, "retry_sleep", lambda seconds: None)
        first = seed(GcpImitation(stub).install())
        key_file = first.write_key_file(tmp_path_factory.mktemp("gcp-faults"))
        mp.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
        mp.setenv("NO_GCE_CHECK", "True")
        baselines, called = {}, {}
        for mode in MODES:
            fresh(stub, first.public_key)
            outcome, crashed = collect(stub, mode)
            assert crashed is None and outcome.errors == [], (crashed, outcome.errors)
            baselines[mode] = outcome
            called[mode] = {(m, p) for m, p in ROUTES if stub.count(m, p)}
        yield Estate(stub, key_file, first.public_key, baselines, called)
    finally:
        mp.undo()
        stub.stop()


@pytest.fixture
def gcp_env(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> Estate:
    """The function-scoped isolated_env fixture clears GOOGLE_*: point ADC at the key again."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(estate.key_file))
    monkeypatch.setattr(GcpConnector, "retry_sleep", lambda seconds: None)
    return estate


def test_the_baselines_cover_every_route_and_decide_checks(gcp_env: Estate) -> None:
    for mode, routes in gcp_env.called.items():
        assert not routes & NOT_CALLED[mode], f"{mode}: listed as never called, yet called"
        assert set(ROUTES) - routes == NOT_CALLED[mode], f"{mode}: a route is neither called nor listed"
    assert set().union(*gcp_env.called.values()) == set(ROUTES)  # every route is faulted in some mode
    statuses = {r.status for r in gcp_env.baselines["organization"].results.values()}
    assert {"pass", "fail"} <= statuses  # a fault has verdicts of both kinds to spoil


CASES = [pytest.param(mode, m, p, id=f"{mode}-{m} {p}") for mode in MODES for m, p in ROUTES]


def run_case(estate: Estate, mode: str, method: str, pattern: str, fault: str) -> None:
    if (method, pattern) in NOT_CALLED[mode]:
        assert (method, pattern) not in estate.called[mode]
        pytest.skip(f"the {mode} mode never calls {method} {pattern}")
    fresh(estate.stub, estate.public_key)
    if fault == "500":
        estate.stub.fail(method, pattern, 500, times=1_000_000)
    else:
        estate.stub.hang(method, pattern, seconds=HANG_SECONDS)
    faulted, crashed = collect(estate.stub, mode)

    assert estate.stub.count(method, pattern) > 0, "the faulted route was never requested"
    said = [crashed] if crashed else [e.message for e in faulted.errors]
    expected = ("500",) if fault == "500" else ("TIMEOUT", "timed out")
    assert any(word in message for message in said for word in expected), said  # the fault, not something else
    # Only credentials that yield no token stop the connector; any other failure costs its own facts.
    assert crashed is None or (method, pattern) == TOKEN, crashed
    assert violations(estate.baselines[mode], faulted, crashed) == []


@pytest.mark.parametrize(("mode", "method", "pattern"), CASES)
def test_a_route_answering_500_is_never_a_verdict(gcp_env: Estate, mode: str, method: str, pattern: str) -> None:
    run_case(gcp_env, mode, method, pattern, "500")


@pytest.mark.parametrize(("mode", "method", "pattern"), CASES)
def test_a_route_that_never_answers_is_never_a_verdict(gcp_env: Estate, mode: str, method: str, pattern: str) -> None:
    run_case(gcp_env, mode, method, pattern, "hang")


def test_the_cases_are_the_route_table() -> None:
    assert len(ROUTES) == 19 and TOKEN in ROUTES  # 18 API routes and the token endpoint
    assert os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") is None  # isolated: no real credentials
