"""The store: deduplicated snapshots, atomic publishing, one writer, readers never blocked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.evaluate import SnapshotItem
from collector.mapping import load_checks
from collector.progress import Progress
from collector.runner import CollectorPlan, execute_run
from collector.store import Store, StoreBusyError
from connectors.base import CollectContext, CollectionError, EvidenceItem


def _plan(
    items: list[EvidenceItem], kinds: frozenset[str] = frozenset({"fake.iam.user", "fake.s3.bucket"})
) -> CollectorPlan:
    def collect(context: CollectContext) -> Iterator[EvidenceItem | CollectionError]:
        yield from items

    return CollectorPlan("fake", "fake", kinds, collect)


def _users(n: int, changed: int = -1) -> list[EvidenceItem]:
    return [
        EvidenceItem("fake.iam.user", f"user{i}", {"name": f"user{i}", "mfa": i != changed, "groups": ["a", "b"] * 5})
        for i in range(n)
    ]


def _run(store: Store, items: list[EvidenceItem]):
    checks = load_checks({"fake.iam.user": "fake", "fake.s3.bucket": "fake"}, builtin_files=[])
    return execute_run(
        store, [_plan(items)], checks, organization="o", config_digest="d", excluded={}, progress=Progress()
    )


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if not p.name.endswith(".lock"))


def test_unchanged_rerun_adds_almost_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path, create=True) as store:
        store.acquire_lock()
        _run(store, _users(3000))
        store.db.execute("pragma wal_checkpoint(truncate)")
        first = _size(path)
        _run(store, _users(3000))
        store.db.execute("pragma wal_checkpoint(truncate)")
        growth = _size(path) - first
    assert growth < 0.05 * first, (growth, first)


def test_snapshots_are_reconstructed_per_run(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db", create=True) as store:
        store.acquire_lock()
        _run(store, _users(3))
        _run(store, [*_users(3, changed=1)[:2], EvidenceItem("fake.iam.user", "new", {"name": "new", "mfa": True})])
        first, second = store.resolve_run("previous"), store.resolve_run("latest")
        ids1 = [r["item_id"] for r in store.evidence(first["seq"])]
        ids2 = [r["item_id"] for r in store.evidence(second["seq"])]
        assert ids1 == ["user0", "user1", "user2"]
        assert ids2 == ["new", "user0", "user1"]
        changed = {r["item_id"]: r["data"]["mfa"] for r in store.evidence(second["seq"], with_data=True)}
        assert changed == {"new": True, "user0": True, "user1": False}
        old = {r["item_id"]: r["data"]["mfa"] for r in store.evidence(first["seq"], with_data=True)}
        assert old["user1"] is True
        assert store.db.execute("select count(*) from evidence").fetchone()[0] == 5  # 3 + changed user1 + new


def test_second_writer_refuses_when_asked_not_to_wait(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path, create=True) as writer:
        writer.acquire_lock()
        other = Store(path, create=True)
        with pytest.raises(StoreBusyError, match="another annexa run is writing"):
            other.acquire_lock(wait=False)
        # readers are not blocked while the writer holds the lock and has a transaction open
        writer.db.execute("begin immediate")
        writer.db.execute("insert into blobs values ('x', '{}')")
        assert Store(path).runs() == []
        writer.db.execute("rollback")
        other.close()


def test_failed_run_is_never_a_snapshot(tmp_path: Path) -> None:
    class SignalDuringStore(Progress):
        def message(self, text: str) -> None:
            if text == "storing evidence":
                raise KeyboardInterrupt  # what the signal handler raises in the main thread

    checks = load_checks({"fake.iam.user": "fake"}, builtin_files=[])
    with Store(tmp_path / "s.db", create=True) as store:
        store.acquire_lock()
        _run(store, _users(2))
        with pytest.raises(KeyboardInterrupt):
            execute_run(
                store,
                [_plan(_users(1))],
                checks,
                organization="o",
                config_digest="d",
                excluded={},
                progress=SignalDuringStore(),
            )
        runs = store.runs()
        assert runs[0]["status"] == "failed" and "interrupted" in runs[0]["error"]
        assert store.resolve_run(None)["id"] == runs[1]["id"]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.dictionaries(st.sampled_from(["u1", "u2", "u3", "u4"]), st.booleans()), min_size=1, max_size=5))
def test_every_run_reads_back_exactly_what_it_collected(tmp_path_factory, runs: list[dict[str, bool]]) -> None:
    path = tmp_path_factory.mktemp("prop") / "s.db"
    with Store(path, create=True) as store:
        store.acquire_lock()
        seqs = []
        for users in runs:
            items = [EvidenceItem("fake.iam.user", k, {"name": k, "mfa": v}) for k, v in users.items()]
            run_id = _run(store, items).run_id
            seqs.append((store.resolve_run(run_id)["seq"], users))
        for seq, users in seqs:
            got = {r["item_id"]: r["data"]["mfa"] for r in store.evidence(seq, with_data=True)}
            assert got == users


def test_snapshot_item_defaults() -> None:
    assert SnapshotItem("a", {}).hash is None
    assert datetime.now(UTC).tzinfo is UTC
