"""`annexa clauses`, `annexa readiness` and the observation window, on stores with known runs."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from engine.support import Project

from collector.observation import observation_window, schedule_interval
from collector.store import Store

ESTATE = "{users: [{name: alice, mfa: true}, {name: bob, mfa: false}], buckets: [{name: logs, public: false}]}"
ALL_GOOD = "{users: [{name: alice, mfa: true}], buckets: [{name: logs, public: false}]}"


def _shift_runs(store: Path, starts: list[datetime]) -> None:
    """Date the store's runs (oldest first) as if they had run at ``starts``: the observation window
    is computed from the runs table, so this is how months of operation are made in a test."""
    with sqlite3.connect(store) as db:
        ids = [r[0] for r in db.execute("select id from runs order by seq")]
        assert len(ids) == len(starts)
        for run_id, start in zip(ids, starts, strict=True):
            stamp = start.strftime("%Y-%m-%dT%H:%M:%SZ")
            db.execute("update runs set started_at = ?, finished_at = ? where id = ?", [stamp, stamp, run_id])


@pytest.fixture
def operated(cli: Any, project: Project) -> Path:
    """Five complete daily runs, a three-day outage, then two more; the fake estate fails MFA for bob."""
    config = project.config(ESTATE, extra="schedule: {cron: '0 6 * * *'}\n")
    for _ in range(7):
        assert cli("run", "-c", str(config)).code in (0, 1)
    day0 = datetime(2026, 10, 1, 6, tzinfo=UTC)
    starts = [day0 + timedelta(days=d) for d in (0, 1, 2, 3, 4, 8, 9)]
    _shift_runs(project.store, starts)
    return config


def test_the_observation_window_measures_coverage_gaps_and_day_share(operated: Path, project: Project) -> None:
    with Store(project.store) as store:
        window = observation_window(
            store, as_of=datetime(2026, 10, 10, 12, tzinfo=UTC), interval=schedule_interval("0 6 * * *")
        )
    doc = window.document()
    assert doc["first_complete_run"] == "2026-10-01T06:00:00Z"
    assert doc["complete_runs"] == 7
    assert doc["days_in_window"] == 10 and doc["days_with_complete_run"] == 7
    assert doc["share_of_days_with_complete_run"] == 0.7
    assert doc["longest_gap_hours"] == 96.0  # 5 Oct 06:00 -> 9 Oct 06:00
    assert doc["longest_gap"] == {"from": "2026-10-05T06:00:00Z", "to": "2026-10-09T06:00:00Z"}
    assert doc["gap_flagged"] is True  # 96 h > 3 x 24 h
    assert doc["weeks_covered"] == pytest.approx(9.25 / 7, abs=0.05)
    # A.8.5 fails (bob has no MFA) in every run; A.8.3 passes in every run since the first.
    assert doc["passing_since"]["A.8.5"] is None
    assert doc["passing_since"]["A.8.3"] == "2026-10-01T06:00:00Z"


def test_a_weekly_schedule_tolerates_a_week_between_runs(operated: Path, project: Project) -> None:
    with Store(project.store) as store:
        window = observation_window(
            store, as_of=datetime(2026, 10, 10, 12, tzinfo=UTC), interval=schedule_interval("0 6 * * 1")
        )
    assert window.gap_flagged is False


def test_passing_since_restarts_after_a_failure(cli: Any, project: Project) -> None:
    config = project.config(ESTATE)
    assert cli("run", "-c", str(config)).code == 0  # bob has no MFA: A.8.5 fails
    fixed = project.config(ALL_GOOD)
    assert cli("run", "-c", str(fixed)).code == 0
    assert cli("run", "-c", str(fixed)).code == 0
    day0 = datetime(2026, 10, 1, 6, tzinfo=UTC)
    _shift_runs(project.store, [day0, day0 + timedelta(days=1), day0 + timedelta(days=2)])
    with Store(project.store) as store:
        window = observation_window(store, as_of=day0 + timedelta(days=3))
    assert window.passing_since["A.8.5"] == "2026-10-02T06:00:00Z"


def test_clauses_lists_every_clause_item_with_its_evidence_state(cli: Any, project: Project, tmp_path: Path) -> None:
    config = project.config()
    audit = tmp_path / "audit.pdf"
    audit.write_bytes(b"internal audit 2026")
    old = (date.today() - timedelta(days=400)).isoformat()
    added = cli("evidence", "add", str(audit), "--clause", "9.2", "--title", "Internal audit", "-c", str(config))
    assert added.code == 0
    assert (
        cli("evidence", "add", "--url", "https://x.example/p", "--clause", "5.2", "--title", "Policy",
            "--date", old, "--review-every", "12m", "-c", str(config)).code == 0
    )  # fmt: skip
    listed = json.loads(cli("clauses", "-c", str(config), "--format", "json").out)
    assert listed["schema"] == "annexa/clauses@1"
    states = {c["id"]: c["state"] for c in listed["clauses"]}
    assert len(states) == 15
    assert states["9.2"] == "current" and states["5.2"] == "expired" and states["4.3"] == "missing"
    table = cli("clauses", "-c", str(config)).out
    assert "9.2     current  ev-0001" in table


def test_readiness_gives_a_verdict_per_section_and_lists_the_gaps(cli: Any, operated: Path, tmp_path: Path) -> None:
    report = cli("readiness", "-c", str(operated), "--audit-date", "2026-12-01", "--format", "json")
    assert report.code == 0, report.err
    doc = json.loads(report.out)
    assert doc["schema"] == "annexa/readiness@1" and doc["verdict"] == "gaps"
    sections = {s["id"]: s for s in doc["sections"]}
    assert list(sections) == ["clauses", "audit_and_review", "soa", "risks", "automated", "manual", "observation"]
    assert sections["clauses"]["verdict"] == "gaps" and len(sections["clauses"]["gaps"]) == 15
    assert any("no current internal audit record (9.2)" in g for g in sections["audit_and_review"]["gaps"])
    assert any(g.startswith("A.8.5 ") and "fake.iam.user_mfa_enabled" in g for g in sections["automated"]["gaps"])
    assert sections["observation"]["window"]["gap_flagged"] is True


def test_an_internal_audit_after_the_audit_date_is_a_gap(cli: Any, project: Project, tmp_path: Path) -> None:
    config = project.config(ESTATE)
    for clause, day in (("9.2", "2026-11-20"), ("9.3", "2027-01-15")):
        doc = tmp_path / f"{clause}.pdf"
        doc.write_bytes(clause.encode())
        added = cli("evidence", "add", str(doc), "--clause", clause, "--title", f"record {clause}", "--date", day,
                    "-c", str(config))  # fmt: skip
        assert added.code == 0, added.err
    assert cli("run", "-c", str(config)).code == 0  # a report reflects the register as it stood at its run
    doc = json.loads(cli("readiness", "-c", str(config), "--audit-date", "2027-01-10", "--format", "json").out)
    section = next(s for s in doc["sections"] if s["id"] == "audit_and_review")
    assert section["gaps"] == ["the management review (9.3) is dated 2027-01-15, not before the audit on 2027-01-10"]
    assert section["records"]["9.2"]["held_on"] == "2026-11-20"


@pytest.mark.parametrize(("args", "message"), [
    (["--audit-date", "2027-13-01"], "--audit-date: '2027-13-01' is not a date (YYYY-MM-DD)"),
    (["--run", "nope"], "nope"),
])  # fmt: skip
def test_bad_readiness_arguments_are_one_line_and_exit_2(
    cli: Any, project: Project, args: list[str], message: str
) -> None:
    config = project.config(ESTATE)
    assert cli("run", "-c", str(config)).code == 0
    result = cli("readiness", "-c", str(config), *args)
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1 and message in result.err


def test_the_readiness_html_renders_its_verdicts_and_chart_in_chromium(
    cli: Any, operated: Path, tmp_path: Path
) -> None:
    out = tmp_path / "readiness.html"
    assert cli("readiness", "-c", str(operated), "--format", "html", "-o", str(out)).code == 0
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1280,900", "--dump-dom", out.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert '<span id="verdict" class="verdict gaps">gaps</span>' in dom
    assert dom.count('<tr data-section="') == 7
    assert '<div class="chart-wrap" id="window-chart"><svg' in dom and "<polyline" in dom
    assert "2026-10-01" in dom  # the chart's first date on its axis, or the window's first run
