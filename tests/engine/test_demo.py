"""`annexa demo`: a full run against the built-in simulated estate, with every installed connector."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from collector.registry import connector_names


def test_demo_runs_every_connector_and_writes_reports(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "collector", "demo", "--dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "gap-report.json").read_text())
    assert len(report["controls"]) == 93
    names = {c["name"] for c in report["run"]["connectors"]}
    builtin = {"aws", "github", "okta", "gcp", "azure"} & set(connector_names())
    assert builtin <= names
    for name in ("gap-report.md", "gap-report.html", "gap-report.csv"):
        assert (tmp_path / "out" / name).stat().st_size > 1000
    assert "wrote" in result.stdout
    if builtin:
        assert report["summary"]["fail"] > 0 and report["summary"]["pass"] > 0


def _annexa(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(cwd)},
    )


def test_demo_writes_a_config_the_reading_commands_use_and_drift_shows_regressions(tmp_path: Path) -> None:
    first = _annexa(["demo", "--dir", "out", "-q"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "annexa runs -c out/annexa.yaml" in first.stdout
    assert "annexa demo --dir out --drift && annexa diff -c out/annexa.yaml" in first.stdout
    runs = _annexa(["runs", "-c", "out/annexa.yaml", "--format", "json"], tmp_path)
    assert runs.returncode == 0, runs.stderr
    listed = json.loads(runs.stdout)["runs"]
    # today's run, after a replayed week: six complete daily runs, so readiness has a window to show
    assert [r["status"] for r in listed] == ["partial"] + ["complete"] * 6
    assert [r["started_at"][11:] for r in listed[1:]] == ["06:00:00Z"] * 6
    assert {c["name"] for c in listed[0]["connectors"]} >= {"aws", "okta", "manual"}
    assert _annexa(["validate", "-c", "out/annexa.yaml"], tmp_path).returncode == 0
    readiness = json.loads(_annexa(["readiness", "-c", "out/annexa.yaml", "--format", "json"], tmp_path).stdout)
    sections = {s["id"]: s for s in readiness["sections"]}
    assert sections["audit_and_review"]["verdict"] == "ready"
    assert {i["id"]: i["state"] for i in sections["clauses"]["items"]}["5.2"] == "expiring"
    assert sections["observation"]["window"]["complete_runs"] == 6

    again = _annexa(["demo", "--dir", "out", "-q"], tmp_path)  # the same day: the same estate
    assert again.returncode == 0, again.stderr
    same = json.loads(_annexa(["diff", "-c", "out/annexa.yaml", "--format", "json"], tmp_path).stdout)
    assert same["evidence"] == {"added": [], "removed": [], "changed": []}
    assert same["findings"] == []

    drifted = _annexa(["demo", "--dir", "out", "-q", "--drift"], tmp_path)
    assert drifted.returncode == 0, drifted.stderr
    assert "drift: IAM user alice lost her MFA device" in drifted.stdout
    diff = _annexa(["diff", "-c", "out/annexa.yaml", "--format", "json", "--fail-on", "regression"], tmp_path)
    assert diff.returncode == 3
    regressions = {(f["check"], f["resource"]) for f in json.loads(diff.stdout)["regressions"]["findings"]}
    assert ("aws.iam.user_mfa_enabled", "arn:aws:iam::111122223333:user/alice") in regressions
    assert ("aws.s3.bucket_public_access_blocked", "arn:aws:s3:::demo-logs") in regressions


def test_demo_drift_into_an_empty_folder_makes_its_own_baseline(tmp_path: Path) -> None:
    drifted = _annexa(["demo", "--dir", "fresh", "-q", "--drift"], tmp_path)
    assert drifted.returncode == 0, drifted.stderr
    diff = json.loads(_annexa(["diff", "-c", "fresh/annexa.yaml", "--format", "json"], tmp_path).stdout)
    assert diff["summary"]["regressions"] >= 3
