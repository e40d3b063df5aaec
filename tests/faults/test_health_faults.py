"""Health: a container goes unhealthy when nothing could be collected (expired credentials look like
that), and `--require complete` lets it insist on a complete run."""

from __future__ import annotations

import json
from typing import Any

from engine.support import Project


def test_health_fails_when_every_connector_errored(project: Project, cli: Any) -> None:
    project.config("{crash: true}")
    assert cli("run", "-q").code == 1
    result = cli("health")
    assert result.code == 1
    assert "failed: no connector collected anything" in result.err and "simulated crash" in result.err
    [run] = json.loads(cli("runs", "--format", "json").out)["runs"]
    assert run["status"] == "failed"  # never published: it would read as an empty estate


def test_require_complete(project: Project, cli: Any) -> None:
    project.config("{users: [{name: a, mfa: true}], fail_kinds: [fake.s3.bucket]}")
    assert cli("run", "-q").code == 1
    assert cli("health").code == 0
    strict = cli("health", "--require", "complete")
    assert strict.code == 1 and "partial" in strict.err and "fake" in strict.err


def test_unknown_facts_make_only_the_checks_reading_them_error(project: Project, cli: Any) -> None:
    project.config(
        "{users: [{name: alice, mfa: true}, {name: bob, mfa: false}], unknown: {alice: {mfa: '500 from the API'}}}"
    )
    assert cli("run", "-q").code == 1
    import json

    report = json.loads(cli("report", "--format", "json").out)
    checks = {c["id"]: c for control in report["controls"] for c in control["checks"]}
    mfa = checks["fake.iam.user_mfa_enabled"]
    assert mfa["status"] == "fail"  # bob really fails
    assert mfa["counts"] == {"pass": 0, "fail": 1, "error": 1}  # alice is error, never a verdict
    assert any("alice: mfa could not be read: 500 from the API" in e for e in mfa["errors"])
    assert checks["fake.iam.user_count_limited"]["status"] == "not_applicable"
