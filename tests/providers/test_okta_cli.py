"""End to end: `annexa run` as a subprocess with the Okta connector against the local imitation, twice."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from annexa_cli import annexa_with_config

from .okta_estate import build_org
from .okta_imitation import TOKEN, OktaImitation


def test_annexa_run_report_and_incremental_rerun(stub: Any, tmp_path: Path) -> None:
    OktaImitation(stub, build_org(datetime.now(UTC)))
    config = tmp_path / "annexa.yaml"
    config.write_text(
        "organization: Example GmbH\n"
        f"store: {tmp_path / 'annexa.db'}\n"
        "connectors:\n"
        "  okta:\n"
        f"    org_url: {stub.base_url}\n"
        "    token: ${OKTA_API_TOKEN}\n"
        "    retry_backoff: 0\n"
    )
    first = annexa_with_config(["run"], config, {"OKTA_API_TOKEN": TOKEN})
    assert first.returncode == 0, first.stderr
    factor_calls = stub.count("GET", r"/api/v1/users/[^/]+/factors")
    assert factor_calls == 8  # every user but the two DEPROVISIONED ones
    report = annexa_with_config(["report", "--format", "json"], config, {"OKTA_API_TOKEN": TOKEN})
    assert report.returncode == 0, report.stderr
    gap = json.loads(report.stdout)
    [connector] = gap["run"]["connectors"]
    assert connector["name"] == "okta" and connector["status"] == "ok"
    checks = {c["id"]: c for control in gap["controls"] for c in control["checks"]}
    assert checks["okta.user.mfa_enrolled"]["status"] == "fail"
    assert [f["resource"] for f in checks["okta.user.mfa_enrolled"]["failing"]] == ["bob@example.com"]
    assert [f["resource"] for f in checks["okta.user.inactive_deactivated"]["failing"]] == ["carol@example.com"]
    assert checks["okta.policy.password_strong"]["status"] == "fail"
    assert checks["okta.policy.mfa_enrollment_required"]["status"] == "pass"
    assert checks["okta.admin.super_admins_limited"]["status"] == "pass"

    second = annexa_with_config(
        ["run"], config, {"OKTA_API_TOKEN": TOKEN}
    )  # nothing changed: factors are carried over, none fetched
    assert second.returncode == 0, second.stderr
    assert stub.count("GET", r"/api/v1/users/[^/]+/factors") == factor_calls
    assert [r for r in stub.log if r.path == "/api/v1/logs"]
    db = sqlite3.connect(tmp_path / "annexa.db")
    calls = [
        row[0]
        for row in db.execute("select c.api_calls from connector_runs c join runs r on r.id = c.run_id order by r.seq")
    ]
    assert len(calls) == 2 and calls[1] < calls[0]
    blobs = "".join(row[0] for row in db.execute("select data from blobs"))
    assert '"factors_source": "carried_over"' in blobs or '"factors_source":"carried_over"' in blobs
    for output in (first.stdout, first.stderr, second.stdout, second.stderr, report.stdout, report.stderr):
        assert TOKEN not in output
    assert TOKEN.encode() not in (tmp_path / "annexa.db").read_bytes()
