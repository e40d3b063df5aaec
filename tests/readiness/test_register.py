"""The manual evidence register: content-addressed files, links, validity, retirement, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from engine.support import Project


@pytest.fixture
def store_config(project: Project) -> Path:
    return project.write_config("organization: Test GmbH\nstore: ./annexa.db\n")


def _listed(cli: Any, *args: str) -> list[dict[str, Any]]:
    result = cli("evidence", "list", "--format", "json", *args)
    assert result.code == 0, result.err
    return list(json.loads(result.out)["evidence"])


def test_a_file_is_stored_once_by_its_sha256_and_exported_byte_for_byte(
    cli: Any, store_config: Path, tmp_path: Path
) -> None:
    data = os.urandom(150_000) + b"\x00\xff" * 100  # binary, with NUL bytes
    policy = tmp_path / "policy.pdf"
    policy.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    first = cli("evidence", "add", str(policy), "--control", "A.5.1", "--clause", "5.2", "--title", "InfoSec policy")
    assert first.code == 0, first.err
    assert f"added ev-0001: InfoSec policy (sha256 {digest}" in first.out and ", stored)" in first.out
    again = cli("evidence", "add", str(policy), "--control", "A.5.10", "--title", "Acceptable use (same PDF)")
    assert again.code == 0
    assert "already in the store: no new bytes; the same file is ev-0001" in again.out
    with sqlite3.connect(tmp_path / "annexa.db") as db:
        assert db.execute("select count(*), sum(size) from documents").fetchone() == (1, len(data))
    out = tmp_path / "exported.pdf"
    exported = cli("evidence", "export", "ev-0002", "-o", str(out))
    assert exported.code == 0 and "verified" in exported.out
    assert out.read_bytes() == data


def test_export_refuses_bytes_that_do_not_match_their_hash(cli: Any, store_config: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("minutes of the management review")
    assert cli("evidence", "add", str(tmp_path / "a.txt"), "--clause", "9.3", "--title", "Review").code == 0
    with sqlite3.connect(tmp_path / "annexa.db") as db:
        db.execute("update documents set data = ?", [b"tampered"])
    result = cli("evidence", "export", "ev-0001", "-o", str(tmp_path / "x.txt"))
    assert result.code == 2 and "do not match its SHA-256" in result.err
    assert not (tmp_path / "x.txt").exists()


def test_links_validity_and_filters(cli: Any, store_config: Path, tmp_path: Path) -> None:
    today = date.today()
    soon = (today + timedelta(days=10)).isoformat()
    past = (today - timedelta(days=1)).isoformat()
    (tmp_path / "t.csv").write_text("name,completed\nalice,2026-01-10\n")
    assert (
        cli("evidence", "add", "--url", "https://wiki.example/isms-scope", "--clause", "4.3", "--title", "Scope").code
        == 0
    )
    assert (
        cli(
            "evidence",
            "add",
            str(tmp_path / "t.csv"),
            "--control",
            "A.6.3",
            "--title",
            "Training",
            "--valid-until",
            soon,
        ).code
        == 0
    )
    old = (today - timedelta(days=400)).isoformat()
    assert (
        cli(
            "evidence",
            "add",
            "--url",
            "https://x.example/r",
            "--control",
            "A.5.18",
            "--title",
            "Access review",
            "--date",
            old,
            "--review-every",
            "12m",
        ).code
        == 0
    )
    assert (
        cli(
            "evidence",
            "add",
            "--url",
            "https://x.example/old",
            "--control",
            "A.5.1",
            "--title",
            "Old",
            "--valid-until",
            past,
        ).code
        == 0
    )
    states = {e["id"]: e["state"] for e in _listed(cli)}
    assert states == {"ev-0001": "current", "ev-0002": "expiring", "ev-0003": "expired", "ev-0004": "expired"}
    assert [e["id"] for e in _listed(cli, "--control", "A.6.3")] == ["ev-0002"]
    assert [e["id"] for e in _listed(cli, "--clause", "4.3")] == ["ev-0001"]
    assert {e["id"] for e in _listed(cli, "--expiring", "30d")} == {"ev-0002", "ev-0003", "ev-0004"}
    review = next(e for e in _listed(cli) if e["id"] == "ev-0003")
    assert review["valid_until"] == (date.fromisoformat(old).replace(year=date.fromisoformat(old).year + 1)).isoformat()


def test_retire_never_deletes(cli: Any, store_config: Path, tmp_path: Path) -> None:
    assert cli("evidence", "add", "--url", "https://x.example/p", "--control", "A.5.1", "--title", "Policy").code == 0
    retired = cli("evidence", "retire", "ev-0001", "--reason", "superseded by v2")
    assert retired.code == 0
    assert _listed(cli) == []
    [entry] = _listed(cli, "--all")
    assert entry["state"] == "retired"
    shown = json.loads(cli("evidence", "show", "ev-0001", "--format", "json").out)
    assert [h["action"] for h in shown["history"]] == ["added", "retired"]
    assert shown["retire_reason"] == "superseded by v2"
    again = cli("evidence", "retire", "ev-0001", "--reason", "x")
    assert again.code == 2 and "already retired" in again.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--control", "A.9.9", "--title", "x"], "'A.9.9' is not an Annex A control id"),
        (["--clause", "11.1", "--title", "x"], "'11.1' is not an ISMS clause item"),
        (["--title", "x"], "name at least one --control"),
        (["--control", "A.5.1", "--title", "x", "--date", "2026-13-01"], "'2026-13-01' is not a date"),
        (["--control", "A.5.1", "--title", "x", "--review-every", "12q"], "'12q' is not a review period"),
        (["--control", "A.5.1", "--title", "x", "--valid-until", "2027-01-01", "--review-every", "12m"], "not both"),
        (["--control", "A.5.1", "--title", "x", "--max-size", "100KB"], "over the limit of 100.0 KB"),
        (["--control", "A.5.1", "--title", "x", "--max-size", "lots"], "'lots' is not a size"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    cli: Any, store_config: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "doc.pdf").write_bytes(b"x" * 200_000)
    result = cli("evidence", "add", str(tmp_path / "doc.pdf"), *args)
    assert result.code == 2, result.out
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "annexa.db").exists()


@pytest.mark.parametrize(("name", "message"), [("missing.pdf", "file not found"), (".", "is a directory")])
def test_missing_file_or_directory(cli: Any, store_config: Path, tmp_path: Path, name: str, message: str) -> None:
    result = cli("evidence", "add", str(tmp_path / name), "--control", "A.5.1", "--title", "x")
    assert result.code == 2 and message in result.err
    assert not (tmp_path / "annexa.db").exists()


def test_a_store_of_the_previous_schema_gains_the_register_without_loss(cli: Any, project: Project) -> None:
    project.config("{users: [{name: alice, mfa: true}]}")
    assert cli("run", "-q").code == 0
    with sqlite3.connect(project.store) as db:  # back to the schema the previous release wrote
        db.execute("delete from _sqlite_migrations where name = 'm003_manual_evidence_register'")
        db.execute("drop table manual_evidence")
        db.execute("drop table manual_evidence_history")
        db.execute("drop table documents")
        db.execute(
            "create table manual_evidence (id text primary key, control_id text, title text, sha256 text,"
            " valid_from text, valid_until text, added_at text)"
        )
        db.execute("pragma user_version = 2")
    before = json.loads(cli("runs", "--format", "json").out)
    assert _listed(cli) == []  # read-only use of an older store works before any migration
    assert cli("evidence", "add", "--url", "https://x.example/p", "--control", "A.5.1", "--title", "Policy").code == 0
    assert json.loads(cli("runs", "--format", "json").out) == before
    assert [e["id"] for e in _listed(cli)] == ["ev-0001"]
