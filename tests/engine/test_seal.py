"""Sealed runs: `annexa verify` recomputes every seal from the stored bodies and finds each kind of edit.

The demo store (seven runs, manual evidence files, risks) is made once; each test tampers with a copy
the way someone with write access to the SQLite file could, and expects exit 5 naming the first run
and what in it no longer matches. Signing runs through the fake connector with a key from the
environment, as a cron container would hold it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from engine.support import Project

VERIFY_FAILED = 5


def _db(demo: Path) -> sqlite3.Connection:
    return sqlite3.connect(demo / "annexa-demo.db", isolation_level=None)


def _verify(cli: Any, demo: Path, *args: str) -> Any:
    return cli("verify", "-c", str(demo / "annexa.yaml"), *args)


def _run_id(db: sqlite3.Connection, seq: int) -> str:
    return str(db.execute("select id from runs where seq = ?", [seq]).fetchone()[0])


def test_a_clean_store_verifies(cli: Any, demo: Path) -> None:
    result = _verify(cli, demo)
    assert result.code == 0, result.err
    assert "7 run(s) verified: every seal and the chain match" in result.out
    document = json.loads(_verify(cli, demo, "--format", "json").out)
    assert document["ok"] is True and document["first_failure"] is None
    assert [r["seq"] for r in document["runs"]] == [1, 2, 3, 4, 5, 6, 7]
    assert all(r["after_the_fact"] is False for r in document["runs"])


def test_an_edited_evidence_body_is_named_with_the_first_run_that_holds_it(cli: Any, demo: Path) -> None:
    with _db(demo) as db:
        kind, item_id, digest, first = db.execute(
            "select kind, item_id, hash, valid_from from evidence where kind = 'aws.iam.user' and valid_from = 3"
            " order by item_id limit 1"
        ).fetchone()
        body = json.loads(db.execute("select data from blobs where hash = ?", [digest]).fetchone()[0])
        body["mfa_devices"] = [{"SerialNumber": "arn:aws:iam::1:mfa/forged"}]
        db.execute("update blobs set data = ? where hash = ?", [json.dumps(body), digest])
        run = _run_id(db, first)
    result = _verify(cli, demo)
    assert result.code == VERIFY_FAILED
    assert (
        f"verification failed at run {run} (seq {first}): evidence {kind} {item_id}: "
        "the stored body does not match the hash it was stored under" in result.err
    )


def test_a_changed_finding_names_its_check(cli: Any, demo: Path) -> None:
    with _db(demo) as db:
        check, first = db.execute(
            "select check_id, valid_from from findings where status = 'fail' order by valid_from, check_id limit 1"
        ).fetchone()
        db.execute(
            "update findings set status = 'pass', message = '' where check_id = ? and valid_from = ?", [check, first]
        )
        run = _run_id(db, first)
    result = _verify(cli, demo)
    assert result.code == VERIFY_FAILED
    assert f"at run {run} (seq {first}): check {check}: its result or findings changed" in result.err


def test_an_edited_check_result_is_found_even_when_the_seal_record_is_rewritten_to_match(cli: Any, demo: Path) -> None:
    with _db(demo) as db:
        run = _run_id(db, 5)
        db.execute("update check_runs set status = 'pass' where run_id = ? and status = 'fail'", [run])
        db.execute("update seals set parts = '{}' where run_id = ?", [run])  # hide the evidence of the edit
    result = _verify(cli, demo)
    assert result.code == VERIFY_FAILED
    assert f"at run {run} (seq 5)" in result.err


def test_a_deleted_run_breaks_the_chain(cli: Any, demo: Path) -> None:
    with _db(demo) as db:
        deleted = _run_id(db, 3)
        for table in ("check_runs", "connector_runs"):
            db.execute(f"delete from {table} where run_id = ?", [deleted])
        db.execute("delete from runs where id = ?", [deleted])
        after = _run_id(db, 4)
    result = _verify(cli, demo, "--format", "json")
    assert result.code == VERIFY_FAILED
    document = json.loads(result.out)
    assert document["first_failure"]["run"] == deleted
    assert document["first_failure"]["problem"] == "the run was deleted from the store"
    later = next(r for r in document["runs"] if r["run"] == after)
    assert "runs 3..3 of the sequence are missing (deleted or re-numbered)" in later["problems"]


def test_re_ordered_runs_are_found(cli: Any, demo: Path) -> None:
    with _db(demo) as db:
        second, third = _run_id(db, 2), _run_id(db, 3)
        db.execute("update runs set seq = -1 where id = ?", [second])
        db.execute("update runs set seq = 2 where id = ?", [third])
        db.execute("update runs set seq = 3 where id = ?", [second])
    result = _verify(cli, demo)
    assert result.code == VERIFY_FAILED
    assert f"at run {third} (seq 2): the run was sealed as number 3, now it is 2 (re-ordered)" in result.err


def test_a_swapped_manual_evidence_file_is_found(cli: Any, demo: Path) -> None:
    with _db(demo) as db:
        sha = db.execute("select sha256 from documents order by sha256 limit 1").fetchone()[0]
        db.execute("update documents set data = ? where sha256 = ?", [b"# a different policy\n", sha])
    result = _verify(cli, demo)
    assert result.code == VERIFY_FAILED
    assert "the stored file was replaced" in result.err and "manual evidence" in result.err


def test_verify_one_run_checks_the_chain_up_to_it(cli: Any, demo: Path) -> None:
    with _db(demo) as db:
        db.execute("update runs set summary = '{}' where seq = 6")
        fourth = _run_id(db, 4)
    assert _verify(cli, demo, "--run", fourth).code == 0  # the damage lies after it
    result = _verify(cli, demo, "--all")
    assert result.code == VERIFY_FAILED
    assert "(seq 6): the run's metadata (times, status, summary, configuration digest) was changed" in result.err


def test_a_store_from_before_sealing_is_sealed_once_after_the_fact(cli: Any, demo: Path) -> None:
    with _db(demo) as db:
        db.execute("drop table seals")
        db.execute("delete from _sqlite_migrations where name = 'm004_sealed_runs'")
        db.execute("PRAGMA user_version = 3")
    result = _verify(cli, demo, "--format", "json")
    assert result.code == 0, result.err
    runs = json.loads(result.out)["runs"]
    assert len(runs) == 7 and all(r["after_the_fact"] for r in runs)
    table = _verify(cli, demo)
    assert "(after the fact)" in table.out
    assert "7 sealed after the fact, when this release first opened the store" in table.out


def _signing_project(project: Project, cli: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    keys = project.root / "keys"
    made = cli("keygen", "--out", str(keys / "seal"))
    assert made.code == 0, made.err
    private = (keys / "seal.pem").read_text()
    assert (keys / "seal.pem").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("ANNEXA_SIGNING_KEY", private)
    project.config(extra="seal:\n  signing_key: ${ANNEXA_SIGNING_KEY}\n")
    return keys, private


def test_signed_seals_verify_with_the_public_key_and_the_private_key_is_never_stored(
    project: Project, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys, private = _signing_project(project, cli, monkeypatch)
    assert cli("run").code == 0 and cli("run").code == 0
    result = cli("verify", "--public-key", str(keys / "seal.pub.pem"))
    assert result.code == 0, result.err
    assert "2 run(s) verified" in result.out and "signatures checked with key" in result.out
    stored = b"".join(p.read_bytes() for p in project.root.glob("annexa.db*"))
    body = "".join(line for line in private.splitlines() if not line.startswith("-----"))
    assert body.encode() not in stored and b"PRIVATE KEY" not in stored


def test_a_signature_from_another_key_fails(project: Project, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _signing_project(project, cli, monkeypatch)
    assert cli("run").code == 0
    assert cli("keygen", "--out", str(project.root / "other")).code == 0
    result = cli("verify", "--public-key", str(project.root / "other.pub.pem"))
    assert result.code == VERIFY_FAILED
    assert "the signature does not verify with key" in result.err


def test_keygen_never_overwrites(project: Project, cli: Any) -> None:
    assert cli("keygen", "--out", str(project.root / "k")).code == 0
    again = cli("keygen", "--out", str(project.root / "k"))
    assert again.code == 2 and "exists: keygen never overwrites a key" in again.err


def test_a_bad_signing_key_is_a_configuration_error(
    project: Project, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNEXA_SIGNING_KEY", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    project.config(extra="seal:\n  signing_key: ${ANNEXA_SIGNING_KEY}\n")
    result = cli("run")
    assert result.code == 2
    assert "annexa.yaml:" in result.err and "seal.signing_key: not an unencrypted PEM private key" in result.err
    assert not project.store.exists()  # nothing written


def test_a_missing_signing_key_file_and_a_public_key_that_is_not_one_are_one_line(
    project: Project, cli: Any, tmp_path: Path
) -> None:
    project.config(extra="seal:\n  signing_key: ./keys/missing.pem\n")
    missing = cli("validate")
    assert missing.code == 2
    assert "seal.signing_key: cannot read the signing key file" in missing.err
    assert str(project.root.resolve() / "keys" / "missing.pem") in missing.err  # relative to annexa.yaml
    project.config()
    assert cli("run").code == 0
    (tmp_path / "not-a-key.pem").write_text("hello\n")
    refused = cli("verify", "--public-key", str(tmp_path / "not-a-key.pem"))
    assert refused.code == 2 and "is not a PEM public key" in refused.err
