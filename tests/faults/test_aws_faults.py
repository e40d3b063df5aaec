"""The fault property for AWS: every operation the connector sends to moto (and to the Access Analyzer
and Security Hub imitations), answering 500 or never answering, turns no check to pass, fails no resource that did not
fail, loses no item silently, and is reported.

The estate (a member account through the Organization) is seeded once into moto's server
mode and collected through boto3's real HTTP path. Cases come from the operations the unfaulted run
sends, so a new API call is covered automatically. Two attempts per call, no backoff and a half-second
read timeout keep each case to a few seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from providers.aws_estate import GOOD, ROLE, access_analyzer, security_hub, seed_all
from providers.aws_moto import FaultyMoto
from stub import Stub

from connectors.aws import AwsConnector
from connectors.aws import iam as aws_iam
from faults.fault_property import NO_ERROR, Outcome, collect_outcome, reset, violations

NOW = datetime.now(UTC)
READ_TIMEOUT = 0.5
HANG_SECONDS = 1.0  # longer than the read timeout: botocore gives up first
# One region (the other region's resources are the same kinds through the same calls) and the member
# account: every operation is sent, and a case costs about two seconds.
SETTINGS = {
    "regions": [GOOD],
    "accounts_role": ROLE,
    "max_attempts": 2,
    "read_timeout_seconds": READ_TIMEOUT,
}
# Access Analyzer and Security Hub, imitated on one stub (moto lacks them, or the calls Annexa makes).
ANALYZER_ROUTES = [
    ("GET", "/analyzer"),
    ("POST", "/finding"),
    ("GET", "/accounts"),
    ("POST", "/standards/get"),
    ("POST", "/findings"),
]
_IDENTIFIER = re.compile(r"[0-9-]")  # a bucket name, a detector id, an API version: not the operation

# Operations whose failure stops the whole connector: without the caller's identity nothing can be attributed.
STOPS = {"sts GetCallerIdentity": "the caller's account"}
# Operations whose failure the connector recovers from completely: the fact is read another way.
RECOVERED: dict[str, str] = {}


def operation_pattern(service: str, protocol: str, operation: str) -> str:
    """The fault target for an operation as the injector logs it: identifiers in REST paths become `*`."""
    if protocol != "rest":
        return operation
    method, _, target = operation.partition(" ")
    path, _, query = target.partition("?")
    segments = ["*" if _IDENTIFIER.search(s) else s for s in path.split("/")]
    return f"{method} {'/'.join(segments)}" + (f"?{query}" if query else "")


@dataclass
class Estate:
    moto: FaultyMoto
    analyzer: Stub
    baseline: Outcome
    operations: dict[str, str]  # "service pattern" -> pattern, from the unfaulted run
    run: Callable[[], tuple[Outcome, str | None]]


def _environment(patch: pytest.MonkeyPatch, moto: FaultyMoto, analyzer: str) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": GOOD,
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_ENDPOINT_URL_ACCESSANALYZER": analyzer,
        "AWS_ENDPOINT_URL_SECURITYHUB": analyzer,
    }.items():
        patch.setenv(key, value)


@pytest.fixture(scope="module")
def estate(moto_server: str) -> Iterator[Estate]:
    moto, analyzer = FaultyMoto(), Stub()
    analyzer.start()
    analyzer_url = access_analyzer(analyzer)
    security_hub(analyzer)
    with pytest.MonkeyPatch.context() as patch:
        _environment(patch, moto, analyzer_url)
        import botocore.retries.standard as std

        # botocore's jittered backoff would sleep per retry; the retry decisions stay real.
        patch.setattr(std.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
        patch.setattr(aws_iam, "REPORT_POLL_SECONDS", 0.01)
        moto.reset()
        seed_all()
        moto.clear_calls()

        def run() -> tuple[Outcome, str | None]:
            return collect_outcome(AwsConnector, SETTINGS, NOW)

        # The unfaulted run waits as long as it needs: moto builds a service's backend on its first call,
        # which on a loaded machine can outlast the cases' short read timeout. The cases then find it warm.
        baseline, crashed = collect_outcome(AwsConnector, {**SETTINGS, "read_timeout_seconds": 60}, NOW)
        assert crashed is None and not baseline.errors, baseline.errors
        operations = {
            f"{c.service} {pattern}": pattern
            for c in moto.calls()
            for pattern in [operation_pattern(c.service, c.protocol, c.operation)]
        }
        yield Estate(moto, analyzer, baseline, operations, run)
    moto.stop()
    analyzer.stop()


@pytest.fixture(autouse=True)
def _endpoints(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's environment isolation clears AWS_* per test: point boto3 at the servers again."""
    _environment(monkeypatch, estate.moto, estate.analyzer.base_url)


# The parametrisation needs the case list at import time, before any fixture runs, so it is the list
# the estate is known to produce; a test below fails when the estate sends an operation not listed here,
# so a new API call cannot go unfaulted.
OPERATIONS = [
    "account POST /getAlternateContact",
    "cloudtrail DescribeTrails",
    "cloudtrail GetTrailStatus",
    "config DescribeConfigurationRecorderStatus",
    "config DescribeConfigurationRecorders",
    "config DescribeDeliveryChannels",
    "ec2 DescribeFlowLogs",
    "ec2 DescribeSecurityGroups",
    "ec2 DescribeVpcs",
    "ec2 GetEbsEncryptionByDefault",
    "elasticloadbalancing DescribeListeners",
    "elasticloadbalancing DescribeLoadBalancers",
    "guardduty GET /detector",
    "guardduty GET /detector/*",
    "iam GenerateCredentialReport",
    "iam GetAccessKeyLastUsed",
    "iam GetAccountAuthorizationDetails",
    "iam GetAccountPasswordPolicy",
    "iam GetAccountSummary",
    "iam GetCredentialReport",
    "iam ListAccessKeys",
    "iam ListMFADevices",
    "iam ListVirtualMFADevices",
    "kms DescribeKey",
    "kms GetKeyRotationStatus",
    "kms ListKeys",
    "logs DescribeLogGroups",
    "organizations ListAccounts",
    "rds DescribeDBInstances",
    "s3 GET /",
    "s3 GET /*?encryption",
    "s3 GET /*?lifecycle",
    "s3 GET /*?location",
    "s3 GET /*?logging",
    "s3 GET /*?object-lock",
    "s3 GET /*?policy",
    "s3 GET /*?policyStatus",
    "s3 GET /*?publicAccessBlock",
    "s3 GET /*?tagging",
    "s3 GET /*?versioning",
    "s3 GET /*/configuration/publicAccessBlock",
    "ssm GetDocument",
    "sts AssumeRole",
    "sts GetCallerIdentity",
]


def test_every_operation_the_estate_sends_is_a_case(estate: Estate) -> None:
    assert sorted(estate.operations) == sorted(OPERATIONS)
    assert {"pass", "fail"} <= {r.status for r in estate.baseline.results.values()}


def _check(estate: Estate, case: str, requested: Callable[[], int]) -> None:
    outcome, crashed = estate.run()
    assert requested(), f"{case} was never requested under the fault"
    if case in STOPS:
        assert crashed is not None, f"expected the connector to stop without {STOPS[case]}"
    else:
        assert crashed is None, f"the connector crashed: {crashed}"  # one failing operation never costs the sweep
    found = violations(estate.baseline, outcome, crashed)
    assert found == ([NO_ERROR] if case in RECOVERED else []), found


def _fault_moto(estate: Estate, case: str, inject: Callable[[str], None]) -> None:
    service, pattern = case.split(" ", 1)
    estate.moto.clear_calls()
    estate.moto.clear_faults()
    reset(estate.analyzer)
    inject(pattern)
    try:
        _check(estate, case, lambda: _count(estate, service, pattern))
    finally:
        estate.moto.clear_faults()


def _count(estate: Estate, service: str, pattern: str) -> int:
    return sum(
        1
        for c in estate.moto.calls()
        if c.service == service and operation_pattern(c.service, c.protocol, c.operation) == pattern
    )


@pytest.mark.parametrize("case", OPERATIONS)
def test_a_persistent_500_is_never_a_verdict(estate: Estate, case: str) -> None:
    _fault_moto(estate, case, estate.moto.server_error)


@pytest.mark.parametrize("case", OPERATIONS)
def test_a_timeout_is_never_a_verdict(estate: Estate, case: str) -> None:
    _fault_moto(estate, case, lambda pattern: estate.moto.hang(pattern, HANG_SECONDS))


def _fault_analyzer(estate: Estate, method: str, path: str, inject: Callable[[], None]) -> None:
    estate.moto.clear_faults()
    reset(estate.analyzer)
    inject()
    _check(estate, f"accessanalyzer {method} {path}", lambda: estate.analyzer.count(method, path))


@pytest.mark.parametrize(("method", "path"), ANALYZER_ROUTES)
def test_access_analyzer_answering_500_is_never_a_verdict(estate: Estate, method: str, path: str) -> None:
    body = {"message": "Internal server error"}
    _fault_analyzer(estate, method, path, lambda: estate.analyzer.fail(method, path, 500, times=1_000_000, body=body))


@pytest.mark.parametrize(("method", "path"), ANALYZER_ROUTES)
def test_access_analyzer_timing_out_is_never_a_verdict(estate: Estate, method: str, path: str) -> None:
    _fault_analyzer(estate, method, path, lambda: estate.analyzer.hang(method, path, seconds=HANG_SECONDS))
