"""End-to-end runs with the fake connector: statuses, exit codes, reports, secrets, failures."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

from engine.support import Project

USERS = "{users: [{name: alice, mfa: true}, {name: bob, mfa: false}], buckets: [{name: logs, public: false}]}"
ALL_GOOD = "{users: [{name: alice, mfa: true}], buckets: [{name: logs, public: false}]}"


def _report(cli, *args: str) -> dict:
    result = cli("report", "--format", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def _control(report: dict, control_id: str) -> dict:
    return next(c for c in report["controls"] if c["id"] == control_id)


def _check(report: dict, check_id: str) -> dict:
    for control in report["controls"]:
        for check in control["checks"]:
            if check["id"] == check_id:
                return check
    raise AssertionError(f"{check_id} not in report")


def test_run_stores_snapshot_and_reports_failing_resource(project: Project, cli) -> None:
    project.config(USERS, extra="soa:\n  excluded:\n    A.7.4: no premises\n")
    result = cli("run")
    assert result.code == 0, result.err
    assert result.out.startswith("run ") and " complete" in result.out.splitlines()[0]
    report = _report(cli)
    assert report["schema"] == "annexa/gap-report@1"
    assert report["organization"] == "Test GmbH"
    assert [c["id"] for c in report["controls"]][:3] == ["A.5.1", "A.5.2", "A.5.3"]
    assert len(report["controls"]) == 93 and report["controls"][-1]["id"] == "A.8.34"
    mfa = _check(report, "fake.iam.user_mfa_enabled")
    assert mfa["status"] == "fail"
    assert mfa["counts"] == {"pass": 1, "fail": 1, "error": 0}
    assert [(f["resource"], f["message"]) for f in mfa["failing"]] == [("bob", "user bob has no MFA device")]
    assert len(mfa["failing"][0]["evidence_hash"]) == 64  # the verdict traces to the stored item
    assert _control(report, "A.8.5")["status"] == "fail"
    assert _control(report, "A.8.3")["status"] == "pass"
    assert _control(report, "A.8.2")["status"] == "not_assessed"  # its only check had nothing in scope
    assert _check(report, "fake.iam.user_count_limited")["status"] == "not_applicable"
    assert _control(report, "A.7.4") == {
        **_control(report, "A.7.4"),
        "status": "excluded",
        "exclusion_reason": "no premises",
    }
    assert _control(report, "A.5.1")["status"] == "manual"
    assert report["summary"] == {
        "controls": 93, "pass": 2, "fail": 1, "not_assessed": 1, "manual": 88, "excluded": 1,
        "manual_evidenced": 0, "manual_missing": 88,
    }  # fmt: skip
    assert report["run"]["status"] == "complete"
    assert report["run"]["connectors"][0]["name"] == "fake"
    assert report["run"]["connectors"][0]["evidence_items"] == 3
    assert report["run"]["started_at"].endswith("Z") and report["generated_at"].endswith("Z")


def test_fail_on_fail_exits_3(project: Project, cli) -> None:
    project.config(USERS)
    assert cli("run", "--fail-on", "fail").code == 3
    project.config(ALL_GOOD)
    assert cli("run", "--fail-on", "fail").code == 0


def test_kind_error_makes_checks_error_and_controls_not_assessed(project: Project, cli) -> None:
    project.config("{users: [{name: alice, mfa: true}], fail_kinds: [fake.s3.bucket]}")
    result = cli("run")
    assert result.code == 1
    assert "fake.s3.bucket: AccessDenied (simulated)" in result.out
    report = _report(cli)
    bucket = _check(report, "fake.s3.bucket_not_public")
    assert bucket["status"] == "error"
    assert bucket["errors"] == ["fake.s3.bucket: AccessDenied (simulated)"]
    assert _control(report, "A.8.3")["status"] == "not_assessed"
    assert _control(report, "A.8.5")["status"] == "pass"  # the other kind was still collected
    assert report["run"]["status"] == "partial"
    assert report["run"]["connectors"][0]["status"] == "partial"


def test_exit_3_wins_over_1(project: Project, cli) -> None:
    project.config("{users: [{name: bob, mfa: false}], fail_kinds: [fake.s3.bucket]}")
    assert cli("run", "--fail-on", "fail").code == 3


def test_crashing_connector_never_passes_and_secret_is_redacted(project: Project, cli, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_TOKEN", "s3cr3t-token-value")
    project.config(
        "{crash: true, token: '${FAKE_TOKEN}', users: [{name: alice, mfa: true}]}",
    )
    _add_other_connector(project)  # one connector collects, so the run is published
    result = cli("run")
    assert result.code == 1
    report = _report(cli)
    fake = next(c for c in report["run"]["connectors"] if c["name"] == "fake")
    assert fake["status"] == "error"
    assert "simulated crash (credentials *** / " in fake["errors"][0]
    assert _check(report, "fake.iam.user_mfa_enabled")["status"] == "error"
    assert report["summary"]["pass"] == 0
    for fmt in ("md", "html", "csv", "json"):
        assert "s3cr3t-token-value" not in cli("report", "--format", fmt).out
    raw = project.store.read_bytes() + b"".join(p.read_bytes() for p in project.root.glob("annexa.db-*"))
    assert b"s3cr3t-token-value" not in raw
    assert "s3cr3t-token-value" not in result.out + result.err


def test_item_error_is_error_never_pass(project: Project, cli) -> None:
    project.config("{users: [{name: alice, mfa: true}, {name: carol}]}")
    assert cli("run").code == 0
    check = _check(_report(cli), "fake.iam.user_mfa_enabled")
    assert check["status"] == "error"
    assert check["counts"] == {"pass": 1, "fail": 0, "error": 1}
    assert check["errors"] == ["carol: missing field 'mfa'"]


def test_disabled_check_and_param_override(project: Project, cli) -> None:
    project.config(
        "{users: [{name: administrator, mfa: true, admin: true}]}",
        extra="checks:\n  fake.iam.user_mfa_enabled: {enabled: false}\n  fake.iam.user_count_limited:\n"
        "    params: {max_len: 5}\n",
    )
    assert cli("run").code == 0
    report = _report(cli)
    assert _control(report, "A.8.5")["status"] == "manual"
    failing = _check(report, "fake.iam.user_count_limited")["failing"]
    assert [(f["resource"], f["message"]) for f in failing] == [("administrator", "administrator: Few users — not met")]
    listed = json.loads(cli("checks", "--format", "json").out)
    entry = next(c for c in listed["checks"] if c["id"] == "fake.iam.user_mfa_enabled")
    assert entry["enabled"] is False and entry["connector"] == "fake" and entry["evidence"] == "fake.iam.user"


def test_report_formats_and_report_dir(project: Project, cli) -> None:
    project.config(USERS)
    assert cli("run", "--report-dir", "out").code == 0
    for name in ("gap-report.json", "gap-report.md", "gap-report.html", "gap-report.csv"):
        assert (project.root / "out" / name).stat().st_size > 500
    md = cli("report").out
    assert "## Failing controls (1)" in md and "`bob`: user bob has no MFA device" in md
    rows = list(csv.DictReader(io.StringIO(cli("report", "--format", "csv").out)))
    bob = [r for r in rows if r["resource"] == "bob"]
    assert bob and bob[0]["control_id"] == "A.8.5" and bob[0]["remediation"] == "Turn on MFA for the user."
    html = cli("report", "--format", "html", "-o", "r.html")
    assert html.code == 0 and "<svg" in (project.root / "r.html").read_text()


def test_runs_listing_and_run_references(project: Project, cli) -> None:
    project.config(USERS)
    first = cli("run").out.split()[1]
    project.config(ALL_GOOD)
    second = cli("run").out.split()[1]
    listing = json.loads(cli("runs", "--format", "json").out)
    assert listing["schema"] == "annexa/runs@1"
    assert [r["id"] for r in listing["runs"]] == [second, first]
    assert listing["runs"][0]["connectors"] == [{"name": "fake", "status": "ok", "evidence_items": 2}]
    assert _report(cli, "--run", "previous")["run"]["id"] == first
    assert _report(cli, "--run", first[:-1])["run"]["id"] == first
    assert cli("report", "--run", "nope").code == 2
    table = cli("runs").out
    assert second in table.splitlines()[2]


def test_report_before_any_run(project: Project, cli) -> None:
    project.config(USERS)
    result = cli("report")
    assert result.code == 2 and "run `annexa run` first" in result.err


def test_controls_listing(project: Project, cli) -> None:
    project.config(USERS)
    document = json.loads(cli("controls", "--format", "json").out)
    assert document["schema"] == "annexa/controls@1" and len(document["controls"]) == 93
    a83 = next(c for c in document["controls"] if c["id"] == "A.8.3")
    assert "fake.s3.bucket_not_public" in a83["checks"] and a83["theme"] == "technological"


def test_store_has_no_unpublished_snapshot_after_interrupted_run(project: Project, cli) -> None:
    project.config(USERS)
    assert cli("run").code == 0
    db = sqlite3.connect(project.store)
    db.execute("insert into runs (id, status, started_at) values ('zombie', 'running', '2026-01-01T00:00:00Z')")
    db.commit()
    db.close()
    assert _report(cli)["run"]["id"] != "zombie"
    assert cli("run").code == 0  # the next writer proves the zombie dead and marks it failed
    runs = json.loads(cli("runs", "--format", "json").out)["runs"]
    zombie = next(r for r in runs if r["id"] == "zombie")
    assert zombie["status"] == "failed" and zombie["error"].startswith("interrupted")


def _add_other_connector(project: Project) -> None:
    config = project.root / "annexa.yaml"
    config.write_text(
        config.read_text().replace("connectors:\n", "connectors:\n  other: {users: [{name: x, mfa: true}]}\n")
    )
