"""A run streams: items reach the store as they are collected and are evaluated one kind at a time, so
what a run holds does not grow with the estate. These tests hold the behaviour that streaming must keep
(the memory figure itself is bench/bench_engine.py's `streamed_run_peak_rss_mib`)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector import runner
from collector.mapping import load_checks
from collector.progress import Progress
from collector.runner import CollectorPlan, execute_run
from collector.seal import CHECK_FIELDS, RunRecords, digest, parts
from collector.store import Store
from connectors.base import CollectContext, CollectionError, EvidenceItem

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"fake.iam.user": "fake", "fake.s3.bucket": "fake"}
CHECKS = """version: 1
checks:
  - id: fake.iam.user_mfa
    title: users have MFA
    evidence: fake.iam.user
    assert: resource.mfa
    severity: high
    controls: [A.8.5]
    remediation: Turn on MFA for the user in the fake console.
    message: "user {id} has no MFA"
  - id: fake.s3.bucket_private
    title: buckets are private
    evidence: fake.s3.bucket
    lookup: {users: {evidence: fake.iam.user, key: resource.name}}
    assert: "!(resource.owner in users) || users[resource.owner].mfa"
    severity: high
    controls: [A.8.3]
    remediation: Give the bucket's owner MFA or hand the bucket to another owner.
    message: "bucket {id} belongs to a user without MFA"
"""


def _items(n: int) -> Iterator[EvidenceItem]:
    for i in range(n):  # kinds interleaved, as a connector sweeping regions yields them
        yield EvidenceItem("fake.iam.user", f"user{i:05d}", {"name": f"user{i:05d}", "mfa": i % 10 != 3})
        yield EvidenceItem("fake.s3.bucket", f"bucket{i:05d}", {"owner": f"user{i:05d}"})


def _run(store: Store, tmp_path: Path, collect: object) -> runner.RunResult:
    rules = tmp_path / "rules.yaml"
    rules.write_text(CHECKS)
    checks = load_checks(KINDS, builtin_files=[rules])
    plan = CollectorPlan("fake", "fake", frozenset(KINDS), collect)  # type: ignore[arg-type]
    return execute_run(store, [plan], checks, organization="o", config_digest="d", excluded={}, progress=Progress())


def test_more_items_than_the_hand_over_queue_holds_are_all_published_and_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "_QUEUE_DEPTH", 2)  # the collector must wait for the writer, often
    monkeypatch.setattr(runner, "_HAND_OVER_BATCH", 3)
    monkeypatch.setattr(runner, "_WRITE_BATCH_ITEMS", 50)
    with Store(tmp_path / "s.db", create=True) as store:
        store.acquire_lock()
        result = _run(store, tmp_path, lambda context: _items(1200))
        seq = store.resolve_run(result.run_id)["seq"]
        kinds = [row["kind"] for row in store.evidence(seq)]
        assert len(kinds) == 2400 and kinds.count("fake.s3.bucket") == 1200
        statuses = {(r["check_id"], r["status"]) for r in store.findings(seq)}
        assert ("fake.s3.bucket_private", "fail") in statuses  # the lookup saw the users of the same run
        counts = {c.check.id: c.counts for c in result.checks.values()}
        assert counts["fake.iam.user_mfa"] == {"pass": 1080, "fail": 120, "error": 0}
        assert counts["fake.s3.bucket_private"] == {"pass": 1080, "fail": 120, "error": 0}


def test_an_item_collected_twice_is_published_once_in_its_last_version(tmp_path: Path) -> None:
    def collect(context: CollectContext) -> Iterator[EvidenceItem | CollectionError]:
        yield EvidenceItem("fake.iam.user", "alice", {"name": "alice", "mfa": False})
        yield EvidenceItem("fake.iam.user", "alice", {"name": "alice", "mfa": True})

    with Store(tmp_path / "s.db", create=True) as store:
        store.acquire_lock()
        result = _run(store, tmp_path, collect)
        seq = store.resolve_run(result.run_id)["seq"]
        [row] = list(store.evidence(seq, with_data=True))
        assert row["data"] == {"name": "alice", "mfa": True}
        assert [(f["resource"], f["status"]) for f in store.findings(seq)] == [("alice", "pass")]
        assert result.connector_runs[0].evidence_items == 2  # what the connector yielded, as before


def test_a_store_fault_while_items_stream_in_fails_the_run_and_keeps_the_last_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(tmp_path / "s.db", create=True) as store:
        store.acquire_lock()
        first = _run(store, tmp_path, lambda context: _items(100))
        calls = 0
        real = store.stage_items

        def disk_full(*args: object, **kwargs: object) -> None:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise OSError(28, "No space left on device")
            real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(store, "stage_items", disk_full)
        monkeypatch.setattr(runner, "_WRITE_BATCH_ITEMS", 10)
        released = threading.Event()

        def endless(context: CollectContext) -> Iterator[EvidenceItem | CollectionError]:
            try:
                yield from _items(10_000)
            finally:
                released.set()  # the collector was told to stop rather than left waiting forever

        with pytest.raises(OSError, match="No space left"):
            _run(store, tmp_path, endless)
        assert released.wait(30)
        assert store.resolve_run(None)["id"] == first.run_id
        runs = {r["id"]: r["status"] for r in store.runs()}
        assert list(runs.values()).count("failed") == 1


def test_the_seal_is_fed_in_the_stores_order_and_refuses_any_other() -> None:
    run = {"id": "r", "seq": 1}
    check = {"check_id": "c", "status": "fail", "supporting": []}
    rows = [{"check_id": "c", "resource": r, "status": "fail", "message": "m", "hash": None} for r in ("x", "y")]
    fed = parts(
        RunRecords(
            run=run,
            evidence=iter([("k", "a", "h1", {}), ("k", "b", "h2", {"f": "why"})]),
            checks=[check],
            findings=iter(rows),
        )
    )
    # The documented serialisation (docs/verify.md): the digest of the sorted rows, all at once.
    assert fed["evidence"]["k"] == digest([["a", "h1", {}], ["b", "h2", {"f": "why"}]])
    result = [check.get(f) for f in CHECK_FIELDS]
    assert fed["checks"]["c"] == digest(
        {"result": result, "findings": [["x", "fail", "m", None], ["y", "fail", "m", None]]}
    )
    with pytest.raises(ValueError, match="out of order"):
        parts(RunRecords(run=run, evidence=[("k", "b", "h2", {}), ("k", "a", "h1", {})]))


def test_the_engine_benchmark_measures_a_streamed_run_in_its_own_process() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_engine.py"), "--run-only", "--items", "2000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["streamed_items"] == 2000
    assert figures["streamed_run_peak_rss_mib"] > 0
    assert figures["streamed_rerun_s"] > 0
