"""Outputs: reports are written atomically, never through a planted symlink, and a report that cannot be
written is one clear line: refused before the run when it can be known, else the run is kept and says so."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.support import Project

from faults.mounts import fill, tmpfs
from faults.test_store_faults import USERS, _one_line_error, _runs


def test_a_planted_symlink_in_the_report_dir_is_refused(project: Project, cli: Any, tmp_path: Path) -> None:
    project.config(USERS)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    reports = project.root / "reports"
    reports.mkdir()
    (reports / "gap-report.html").symlink_to(victim)
    _one_line_error(cli("run", "--report-dir", str(reports)), 2, "symbolic link", "--follow-symlinks")
    assert victim.read_text() == "precious"
    assert not project.store.exists()  # refused before anything was written


def test_follow_symlinks_writes_through_the_link(project: Project, cli: Any, tmp_path: Path) -> None:
    project.config(USERS)
    target = tmp_path / "published.html"
    reports = project.root / "reports"
    reports.mkdir()
    (reports / "gap-report.html").symlink_to(target)
    result = cli("run", "--report-dir", str(reports), "--follow-symlinks")
    assert result.code == 0, result.err
    assert (reports / "gap-report.html").is_symlink()
    assert "<html" in target.read_text()


def test_report_output_never_follows_a_symlink(project: Project, cli: Any, tmp_path: Path) -> None:
    project.config(USERS)
    assert cli("run").code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "report.md"
    link.symlink_to(victim)
    _one_line_error(cli("report", "-o", str(link)), 2, "symbolic link")
    assert victim.read_text() == "precious"


def test_a_report_path_that_is_a_directory(project: Project, cli: Any) -> None:
    project.config(USERS)
    reports = project.root / "reports"
    (reports / "gap-report.json").mkdir(parents=True)
    _one_line_error(cli("run", "--report-dir", str(reports)), 2, "gap-report.json", "is a directory")
    assert not project.store.exists()
    (project.root / "plain-file").write_text("x")
    refused = cli("run", "--report-dir", str(project.root / "plain-file"))  # click's own usage error
    assert refused.code == 2 and "is a file" in refused.err and "Traceback" not in refused.err


def test_report_into_a_missing_or_unwritable_place(project: Project, cli: Any) -> None:
    project.config(USERS)
    assert cli("run").code == 0
    (project.root / "a-file").write_text("x")
    _one_line_error(cli("report", "-o", str(project.root / "a-file" / "r.md")), 2, "is not a directory")
    nested = project.root / "new" / "dir" / "r.md"
    assert cli("report", "-o", str(nested)).code == 0  # a missing directory is created
    assert nested.read_text().startswith("#")


def test_reports_that_cannot_be_written_leave_the_run_stored(project: Project, cli: Any) -> None:
    project.config(USERS)
    with tmpfs(project.root / "reports", "256k") as reports:
        filler = fill(reports)
        result = cli("run", "-q", "--report-dir", str(reports))
        assert result.code == 1, result.err
        assert "is stored" in result.err and "annexa report --run" in result.err
        assert "Traceback" not in result.err
        filler.unlink()
        assert not [p for p in os.listdir(reports) if p.endswith(".tmp")]  # no half-written temporary left
    [run] = _runs(cli)
    assert run["status"] == "complete"


def test_reports_are_replaced_atomically(project: Project, cli: Any) -> None:
    project.config(USERS)
    reports = project.root / "reports"
    assert cli("run", "--report-dir", str(reports)).code == 0
    inode = (reports / "gap-report.json").stat().st_ino
    assert cli("run", "--report-dir", str(reports)).code == 0
    assert (reports / "gap-report.json").stat().st_ino != inode  # a new file renamed into place
    assert json.loads((reports / "gap-report.json").read_text())["schema"] == "annexa/gap-report@1"
