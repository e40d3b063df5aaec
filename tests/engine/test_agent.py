"""The agent (schedule), drift, health, two processes on one store, webhook notifications."""

from __future__ import annotations

import json
import logging
import signal
import sqlite3
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger

from collector.config import load_settings
from collector.schedule import Agent, next_fire_times
from engine.support import Project, annexa_subprocess


@pytest.mark.parametrize(
    ("cron", "tz", "after", "expected"),
    [
        (
            "0 0 * * 0",
            "UTC",
            datetime(2025, 3, 1, 3, 0, tzinfo=UTC),
            ["2025-03-02 00:00", "2025-03-09 00:00"],
        ),  # Sundays
        ("30 2 * * *", "UTC", datetime(2025, 3, 1, 3, 0, tzinfo=UTC), ["2025-03-02 02:30", "2025-03-03 02:30"]),
        ("0 */6 * * *", "UTC", datetime(2025, 3, 1, 3, 0, tzinfo=UTC), ["2025-03-01 06:00", "2025-03-01 12:00"]),
        (
            "0 9 * * 1-5",
            "Europe/Berlin",
            datetime(2025, 3, 7, 12, 0, tzinfo=UTC),
            ["2025-03-10 09:00", "2025-03-11 09:00"],
        ),
        ("15 4 1 * *", "UTC", datetime(2025, 3, 1, 5, 0, tzinfo=UTC), ["2025-04-01 04:15", "2025-05-01 04:15"]),
        # both day of month and weekday restricted: either matches (the 13th, a Sunday, and Fridays)
        (
            "0 0 13 * 5",
            "UTC",
            datetime(2026, 11, 27, 0, 0, 1, tzinfo=UTC),
            ["2026-12-04 00:00", "2026-12-11 00:00", "2026-12-13 00:00", "2026-12-18 00:00"],
        ),
        # a day-of-month field starting with * stays unrestricted: every second day that is a Monday
        (
            "0 0 */2 * 1",
            "UTC",
            datetime(2026, 11, 27, tzinfo=UTC),
            ["2026-12-07 00:00", "2026-12-21 00:00", "2027-01-11 00:00", "2027-01-25 00:00"],
        ),
    ],
)
def test_schedule_fire_times(cron: str, tz: str, after: datetime, expected: list[str]) -> None:
    fires = next_fire_times(cron, tz, after, count=len(expected))
    assert [f.strftime("%Y-%m-%d %H:%M") for f in fires] == expected
    if cron == "0 0 * * 0":
        assert all(f.strftime("%A") == "Sunday" for f in fires)


def test_one_run_at_a_time(project: Project, caplog: pytest.LogCaptureFixture) -> None:
    project.config("{}", extra='schedule: {cron: "* * * * *"}\n')
    settings = load_settings(project.root / "annexa.yaml")
    running, peak, finished = [0], [0], [0]
    lock = threading.Lock()
    release, two_done, skipped = threading.Event(), threading.Event(), threading.Event()

    class SkipWatcher(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "run skipped: the previous run is still going" in record.getMessage():
                skipped.set()

    def slow_job() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(60)  # held until the scheduler has tried, and refused, to start a second one
        with lock:
            running[0] -= 1
            finished[0] += 1
            if finished[0] == 2:
                two_done.set()

    logger = logging.getLogger("annexa.test-agent")
    watcher = SkipWatcher()
    logger.addHandler(watcher)
    agent = Agent(settings, logger, trigger=CronTrigger(second="*"), job=slow_job)

    def drive() -> None:
        assert skipped.wait(60)
        release.set()
        assert two_done.wait(60)
        agent.stop()

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    try:
        with caplog.at_level(logging.WARNING, logger="annexa.test-agent"):
            agent.scheduler.start()  # blocks until stop()
    finally:
        release.set()
        logger.removeHandler(watcher)
    driver.join(10)
    assert peak[0] == 1
    assert finished[0] >= 2
    assert any("run skipped: the previous run is still going" in r.getMessage() for r in caplog.records)


def _wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _running_runs(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(store) as db:
            return int(db.execute("select count(*) from runs where status = 'running'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_sigterm_during_a_run_stops_within_30s_and_records_failure(project: Project, plugin_env: dict) -> None:
    project.config("{delay_s: 60, users: [{name: a, mfa: true}]}", extra='schedule: {cron: "0 0 1 1 *"}\n')
    agent = annexa_subprocess(["schedule", "--now", "--log-format", "json"], plugin_env, project.root)
    try:
        _wait_for(lambda: _running_runs(project.store) == 1)
        began = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        _out, err = agent.communicate(timeout=30)
    finally:
        if agent.poll() is None:
            agent.kill()
    assert agent.returncode == 0, err
    assert time.monotonic() - began < 30
    with sqlite3.connect(project.store) as db:
        rows = db.execute("select status, error from runs").fetchall()
    assert len(rows) == 1 and rows[0][0] == "failed" and "interrupted" in rows[0][1]
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(line["msg"] == "stop requested" for line in lines)
    assert lines[-1]["msg"] == "agent stopped"


def test_scheduled_run_logs_a_json_summary_and_posts_regressions(
    project: Project, plugin_env: dict, monkeypatch
) -> None:
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    monkeypatch.setenv("PYTHONPATH", plugin_env["PYTHONPATH"])
    extra = f'schedule: {{cron: "0 0 1 1 *"}}\nnotify: {{webhook_url: "{url}", format: slack}}\n'
    project.config("{users: [{name: alice, mfa: true}]}", extra=extra)
    logger = logging.getLogger("annexa.test-notify")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    agent = Agent(load_settings(project.root / "annexa.yaml"), logger)
    agent.run_once()
    assert received == []  # nothing to compare with yet
    project.config("{users: [{name: alice, mfa: false}]}", extra=extra)
    agent = Agent(load_settings(project.root / "annexa.yaml"), logger)
    agent.run_once()
    server.shutdown()
    summaries = [r for r in records if r.getMessage() == "run finished"]
    assert len(summaries) == 2 and summaries[-1].fields["summary"]["fail"] == 1  # type: ignore[attr-defined]
    assert len(received) == 1
    text = received[0]["text"]
    assert "1 regression" not in text or "regression(s)" in text
    assert "fake.iam.user_mfa_enabled on alice: pass → fail" in text
    assert "control A.8.5: pass → fail" in text
    assert url not in " ".join(r.getMessage() + str(getattr(r, "fields", "")) for r in records)


def test_annexa_run_notifies_too_unless_told_not_to(project: Project, cli) -> None:
    """A Kubernetes CronJob runs `annexa run`, not the agent: it must post regressions as well."""
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook-secret-path"
    extra = f'notify: {{webhook_url: "{url}", format: json, on: regression}}\n'
    try:
        project.config("{users: [{name: alice, mfa: true}]}", extra=extra)
        assert cli("run", "-q").code == 0
        project.config("{users: [{name: alice, mfa: false}]}", extra=extra)
        skipped = cli("run", "-q", "--no-notify")
        assert skipped.code == 0 and received == []
        project.config("{users: [{name: alice, mfa: true}]}", extra=extra)
        assert cli("run", "-q").code == 0  # fixed again: no regression, nothing posted
        project.config("{users: [{name: alice, mfa: false}]}", extra=extra)
        posted = cli("run", "-q")
    finally:
        server.shutdown()
    assert posted.code == 0
    assert "notification sent (HTTP 200, 2 regressions)" in posted.err
    assert len(received) == 1 and received[0]["schema"] == "annexa/notification@1"
    assert url not in posted.out + posted.err


def test_drift_between_two_runs(project: Project, cli) -> None:
    project.config(
        "{users: [{name: bob, mfa: false}, {name: carol, mfa: true}], buckets: [{name: logs, public: false}]}"
    )
    config = project.root / "annexa.yaml"
    config.write_text(config.read_text() + "  other: {users: [{name: dave, mfa: true}]}\n")
    assert cli("run").code == 0
    # bob fixed, erin added, the bucket made public, the other connector removed
    project.config(
        "{users: [{name: bob, mfa: true}, {name: carol, mfa: true}, {name: erin, mfa: true}], "
        "buckets: [{name: logs, public: true}]}"
    )
    assert cli("run").code == 0
    result = cli("diff", "--format", "json")
    assert result.code == 0
    drift = json.loads(result.out)
    assert drift["schema"] == "annexa/drift@1"
    findings = {(f["check"], f["resource"]): (f["from"], f["to"]) for f in drift["findings"]}
    assert findings[("fake.iam.user_mfa_enabled", "bob")] == ("fail", "pass")
    assert findings[("fake.iam.user_mfa_enabled", "erin")] == ("absent", "pass")
    assert findings[("fake.s3.bucket_not_public", "logs")] == ("pass", "fail")
    assert findings[("other.iam.user_mfa_enabled", "dave")] == ("pass", "absent")
    assert ("fake.iam.user_mfa_enabled", "carol") not in findings
    controls = {c["id"]: (c["from"], c["to"]) for c in drift["controls"]}
    assert controls["A.8.3"] == ("pass", "fail")
    assert controls["A.8.5"] == ("fail", "pass")
    ev = drift["evidence"]
    assert {"kind": "fake.iam.user", "id": "erin"} in ev["added"]
    assert {"kind": "other.iam.user", "id": "dave"} in ev["removed"]
    changed = {(c["kind"], c["id"]): c["fields"] for c in ev["changed"]}
    assert changed[("fake.s3.bucket", "logs")] == ["public"]
    assert changed[("fake.iam.user", "bob")] == ["mfa"]
    assert cli("diff", "--fail-on", "regression").code == 3
    md = cli("diff").out
    assert md.index("## Regressions") < md.index("## Controls")
    assert "`fake.s3.bucket_not_public` on `logs`: pass → fail" in md
    # no regression from a run to itself
    latest = drift["to_run"]
    assert cli("diff", "--from", latest, "--to", latest, "--fail-on", "regression").code == 0


def test_health(project: Project, cli) -> None:
    project.config("{users: [{name: a, mfa: true}]}")
    before = cli("health")
    assert before.code == 1 and "no evidence store" in before.err
    assert cli("run").code == 0
    fresh = cli("health")
    assert fresh.code == 0 and fresh.out.startswith("healthy")
    with sqlite3.connect(project.store) as db:
        db.execute("update runs set finished_at = '2026-01-01T00:00:00Z'")
    old = cli("health", "--max-age", "26")
    assert old.code == 1 and "h ago (limit 26 h)" in old.err


def test_two_concurrent_runs(project: Project, plugin_env: dict, tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    project.config(f"{{users: [{{name: a, mfa: true}}], started_file: '{started}', release_file: '{release}'}}")
    first = annexa_subprocess(["run"], plugin_env, project.root)
    waiting = None
    try:
        _wait_for(started.exists, timeout=120)  # the first run holds the lock and is collecting
        # while the first run holds the store: a reader works, a run that may not wait refuses
        reader = annexa_subprocess(["runs", "--format", "json"], plugin_env, project.root)
        refused = annexa_subprocess(["run", "--no-wait"], plugin_env, project.root)
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0, err
        assert json.loads(out)["runs"][0]["status"] == "running"
        _, err = refused.communicate(timeout=120)
        assert refused.returncode == 4, err
        assert "another annexa run is writing" in err
        waiting = annexa_subprocess(["run"], plugin_env, project.root)
        assert waiting.stderr is not None
        seen = ""
        while "waiting for it to finish" not in seen:  # the line it prints when it finds the store busy
            line = waiting.stderr.readline()
            assert line, "the second run ended without waiting"
            seen += line
    finally:
        release.write_text("go")
    _, first_err = first.communicate(timeout=120)
    _, waiting_err = waiting.communicate(timeout=120)
    assert first.returncode == 0 and waiting.returncode == 0, first_err + waiting_err
    with sqlite3.connect(project.store) as db:
        assert [r[0] for r in db.execute("select status from runs")] == ["complete", "complete"]
    assert "database is locked" not in first_err + seen + waiting_err


def test_idle_agent_logs_its_next_run_and_stops_on_sigterm(project: Project, plugin_env: dict) -> None:
    project.config("{}", extra='schedule: {cron: "0 3 * * *", timezone: Europe/Berlin}\n')
    agent = annexa_subprocess(["schedule"], plugin_env, project.root)  # not a terminal: JSON lines
    try:
        assert agent.stderr is not None
        started = json.loads(agent.stderr.readline())
        assert started["msg"] == "agent started"
        assert started["next_run"].endswith("T03:00:00+01:00")
        began = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(30) == 0
        assert time.monotonic() - began < 5
    finally:
        if agent.poll() is None:
            agent.kill()
    assert not project.store.exists()  # an idle agent writes nothing
