"""The store defends itself: every fault is one line with the documented status, and data is never lost.

Each case checks the exact message class and exit status, and that the runs stored before the fault
read back unchanged afterwards.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

from engine.support import Project

from faults.mounts import fill, read_only_view, tmpfs

USERS = "{users: [{name: alice, mfa: true}, {name: bob, mfa: false}]}"


def _runs(cli: Any) -> list[dict[str, Any]]:
    result = cli("runs", "--format", "json")
    assert result.code == 0, result.err
    return list(json.loads(result.out)["runs"])


def _one_line_error(result: Any, code: int, *fragments: str) -> None:
    assert result.code == code, (result.code, result.out, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stored(project: Project, cli: Any) -> list[dict[str, Any]]:
    project.config(USERS)
    assert cli("run").code == 0
    return _runs(cli)


def test_a_truncated_store_is_refused_with_one_line(project: Project, cli: Any) -> None:
    _stored(project, cli)
    data = project.store.read_bytes()
    project.store.write_bytes(data[: len(data) // 2])
    for command in (["runs"], ["report"], ["run"], ["health"]):
        _one_line_error(cli(*command), 2, str(project.store), "truncated")


def test_garbage_in_the_header_is_not_a_database(project: Project, cli: Any) -> None:
    project.config(USERS)
    project.store.write_bytes(b"this is not sqlite at all" * 200)
    before = _digest(project.store)
    for command in (["run"], ["runs"], ["report"]):
        _one_line_error(cli(*command), 2, "file is not a database", str(project.store))
    assert _digest(project.store) == before


def test_a_directory_as_the_store(project: Project, cli: Any) -> None:
    project.config(USERS)
    project.store.mkdir()
    for command in (["run"], ["runs"]):
        _one_line_error(cli(*command), 2, "is a directory", "store:")


def test_a_foreign_database_is_refused_and_never_modified(project: Project, cli: Any) -> None:
    project.config(USERS)
    with sqlite3.connect(project.store) as db:
        db.execute("create table runs (id text, started_at text)")
        db.execute("insert into runs values ('x', 'y')")
    before = _digest(project.store)
    _one_line_error(cli("run"), 2, "another program", "not modified")
    _one_line_error(cli("runs"), 2, "another program")
    assert _digest(project.store) == before
    assert not project.store.with_name("annexa.db-wal").exists()
    with sqlite3.connect(project.store) as db:
        assert db.execute("pragma journal_mode").fetchone()[0] == "delete"


def test_a_store_written_by_a_newer_annexa_is_refused(project: Project, cli: Any) -> None:
    _stored(project, cli)
    with sqlite3.connect(project.store) as db:
        db.execute("pragma user_version = 999")
    before = _digest(project.store)
    _one_line_error(cli("run"), 2, "written by a newer version")
    _one_line_error(cli("runs"), 2, "written by a newer version")
    assert _digest(project.store) == before


def test_an_unknown_migration_means_a_newer_annexa(project: Project, cli: Any) -> None:
    _stored(project, cli)
    with sqlite3.connect(project.store) as db:
        db.execute("insert into _sqlite_migrations (migration_set, name, applied_at) values ('annexa', 'm999_x', '')")
    _one_line_error(cli("run"), 2, "newer version", "m999_x")


def test_a_store_is_marked_as_annexas(project: Project, cli: Any) -> None:
    _stored(project, cli)
    with sqlite3.connect(project.store) as db:
        assert db.execute("pragma application_id").fetchone()[0] == 0x414E5841
        assert db.execute("pragma user_version").fetchone()[0] >= 2


def test_a_store_from_before_the_mark_is_adopted(project: Project, cli: Any) -> None:
    runs = _stored(project, cli)
    with sqlite3.connect(project.store) as db:  # what a store made by the previous release looks like
        db.execute("pragma application_id = 0")
        db.execute("pragma user_version = 0")
    assert _runs(cli) == runs
    assert cli("run").code == 0
    with sqlite3.connect(project.store) as db:
        assert db.execute("pragma application_id").fetchone()[0] == 0x414E5841


def _corrupt_the_middle(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("pragma wal_checkpoint(truncate)")
        page_size = db.execute("pragma page_size").fetchone()[0]
        pages = db.execute("pragma page_count").fetchone()[0]
    assert pages > 8
    with path.open("r+b") as handle:  # 16 KB of garbage over the pages after the schema
        handle.seek(2 * page_size)
        handle.write(b"\xa5" * 16384)


def test_corruption_in_the_middle_is_detected(project: Project, cli: Any) -> None:
    project.config("{users: [" + ", ".join(f"{{name: user{i:03d}, mfa: true}}" for i in range(300)) + "]}")
    assert cli("run").code == 0
    _corrupt_the_middle(project.store)
    _one_line_error(cli("run"), 2, "damaged", ".recover")
    result = cli("check-store")
    assert result.code == 5, result.err
    assert "damaged" in result.err
    report = cli("report", "--format", "json")
    assert report.code == 2 and "Traceback" not in report.err
    assert "damaged" in report.err or "malformed" in report.err


def test_check_store_passes_a_sound_store(project: Project, cli: Any) -> None:
    _stored(project, cli)
    result = cli("check-store")
    assert result.code == 0 and "integrity check ok" in result.out


def test_a_read_only_store_can_still_be_read(project: Project, cli: Any, tmp_path: Path) -> None:
    runs = _stored(project, cli)
    assert cli("run").code == 0
    runs = _runs(cli)
    report = cli("report", "--format", "json").out
    with read_only_view(project.root, tmp_path / "ro") as view:
        config = str(view / "annexa.yaml")
        assert [r["id"] for r in _runs(lambda *a: cli(*a, "-c", config))] == [r["id"] for r in runs]
        result = cli("report", "--format", "json", "-c", config)
        assert result.code == 0, result.err
        assert json.loads(result.out)["controls"] == json.loads(report)["controls"]
        assert cli("diff", "-c", config).code == 0
        assert cli("health", "-c", config).code == 0
        _one_line_error(cli("run", "-c", config), 2, "not writable")


def test_the_wal_removed_under_a_reader(project: Project, cli: Any) -> None:
    runs = _stored(project, cli)
    reader = sqlite3.connect(project.store)  # holds the WAL open, as a long reader would
    reader.execute("select count(*) from runs").fetchone()
    try:
        wal = project.store.with_name("annexa.db-wal")
        if wal.exists():
            wal.unlink()
        result = cli("runs", "--format", "json")
        assert "Traceback" not in result.err
        if result.code == 0:
            assert [r["id"] for r in json.loads(result.out)["runs"]] == [r["id"] for r in runs]
        else:
            _one_line_error(result, 2, str(project.store))
    finally:
        reader.close()


def test_disk_full_during_a_run_fails_the_run_and_keeps_the_earlier_ones(project: Project, cli: Any) -> None:
    with tmpfs(project.root / "disk", "2m") as disk:
        names = ", ".join(f"{{name: u{i:04d}{'x' * 300}, mfa: true}}" for i in range(4000))
        project.config(USERS).write_text(
            project.config(USERS).read_text().replace("store: ./annexa.db", f"store: {disk}/annexa.db")
        )
        assert cli("run").code == 0
        first = _runs(cli)
        config = project.root / "annexa.yaml"
        config.write_text(config.read_text().replace(USERS, "{users: [" + names + "]}"))
        filler = fill(disk, leave_bytes=64 * 1024)
        result = cli("run", "-q")
        _one_line_error(result, 1, "full", "earlier runs are unchanged")
        filler.unlink()
        after = _runs(cli)
        assert after[-1] == first[-1]
        assert after[0]["status"] in ("failed", "interrupted")
        published = cli("report", "--format", "json")
        assert published.code == 0 and json.loads(published.out)["run"]["id"] == first[0]["id"]


def test_the_store_removed_during_a_run_fails_at_publish(project: Project, cli: Any, tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    project.config(f"{{users: [{{name: a, mfa: true}}], started_file: '{started}', release_file: '{release}'}}")
    outcome: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: outcome.update(result=cli("run", "-q")))
    runner.start()
    try:
        _wait_for_file(started)
        project.store.unlink()
        shutil.rmtree(tmp_path / "gone", ignore_errors=True)
    finally:
        release.write_text("go")
        runner.join(60)
    _one_line_error(outcome["result"], 1, "disappeared during the run")


def _wait_for_file(path: Path, timeout: float = 30.0) -> None:
    ready = threading.Event()

    def poll() -> None:
        while not path.exists():
            if ready.wait(0.02):
                return
        ready.set()

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    assert ready.wait(timeout), f"{path} never appeared"


def test_backup_is_a_consistent_copy_while_a_run_writes(project: Project, cli: Any, tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    project.config(USERS)
    assert cli("run").code == 0
    config = project.root / "annexa.yaml"
    config.write_text(
        config.read_text().replace(
            "mfa: false}]}", f"mfa: false}}], started_file: '{started}', release_file: '{release}'}}"
        )
    )
    runner = threading.Thread(target=lambda: cli("run", "-q"))
    runner.start()
    try:
        _wait_for_file(started)
        result = cli("backup", str(tmp_path / "copy.db"))
        assert result.code == 0, result.err
    finally:
        release.write_text("go")
        runner.join(60)
    copy = tmp_path / "copy.db"
    with sqlite3.connect(copy) as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert db.execute("pragma application_id").fetchone()[0] == 0x414E5841
        statuses = [r[0] for r in db.execute("select status from runs order by rowid")]
    assert statuses[0] == "complete"
    assert not copy.with_name("copy.db-wal").exists()
    _one_line_error(cli("backup", str(copy)), 2, "already exists")
    assert cli("backup", str(copy), "--force").code == 0


def test_a_running_run_without_a_lock_holder_is_interrupted(project: Project, cli: Any) -> None:
    _stored(project, cli)
    with sqlite3.connect(project.store) as db:
        db.execute("update runs set status = 'running', seq = null")
    [run] = _runs(cli)
    assert run["status"] == "interrupted"
