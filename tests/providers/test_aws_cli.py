"""End to end: `annexa run` and `annexa report` as subprocesses with the AWS connector against moto."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from annexa_cli import annexa
from stub import Stub

from .aws_estate import BAD, GOOD, MANAGEMENT, access_analyzer, security_hub, seed_all

REPO = Path(__file__).parents[2]


def test_annexa_run_and_report_with_the_aws_connector(
    aws_endpoint: str, stub: Stub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    estate = seed_all()
    config = tmp_path / "annexa.yaml"
    config.write_text(
        "organization: Example GmbH\n"
        f"store: {tmp_path / 'annexa.db'}\n"
        "connectors:\n"
        "  aws:\n"
        f"    regions: [{GOOD}, {BAD}]\n"
    )
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_ACCESSANALYZER": access_analyzer(stub),
        "AWS_ENDPOINT_URL_SECURITYHUB": security_hub(stub),
        "PYTHONPATH": str(REPO),
    }
    run = annexa(["run", "-c", str(config)], env, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    report = annexa(["report", "-c", str(config), "--format", "json"], env, tmp_path)
    assert report.returncode == 0, report.stderr
    gap = json.loads(report.stdout)
    assert gap["run"]["connectors"][0]["name"] == "aws" and gap["run"]["connectors"][0]["status"] == "ok"
    checks = {c["id"]: c for control in gap["controls"] for c in control["checks"]}
    assert checks["aws.iam.user_mfa_enabled"]["status"] == "fail"
    assert [f["resource"] for f in checks["aws.iam.user_mfa_enabled"]["failing"]] == [estate.ids["bob"]]
    assert checks["aws.cloudtrail.multi_region_logging"]["status"] == "pass"
    assert [f["resource"] for f in checks["aws.guardduty.enabled"]["failing"]] == [f"{MANAGEMENT}/{BAD}"]
    assert checks["aws.rds.instance_not_public"]["status"] == "fail"
    assert checks["aws.account.root_access_keys_absent"]["status"] == "pass"
    # coverage checks (issue #15), end to end
    assert {f["resource"] for f in checks["aws.elbv2.listener_tls_secure"]["failing"]} == {
        estate.ids["web-plain"],
        estate.ids["web-old-tls"],
    }
    assert [f["resource"] for f in checks["aws.s3.bucket_object_lock_where_required"]["failing"]] == [
        estate.ids["open-bucket"]
    ]
    assert [f["resource"] for f in checks["aws.securityhub.no_untriaged_high_findings"]["failing"]] == [
        f"{MANAGEMENT}/{GOOD}"
    ]
    assert checks["aws.account.security_contact_registered"]["status"] == "pass"  # no member account here
    assert {c for c in checks if c.startswith("aws.")} >= {
        "aws.account.root_mfa_enabled",
        "aws.s3.bucket_public_access_blocked",
        "aws.ec2.vpc_flow_logs_enabled",
        "aws.kms.key_rotation_enabled",
    }
