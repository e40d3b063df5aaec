"""Engine benchmark: 100,000 synthetic evidence items, 30 CEL checks, two runs over one store.

Reports, each next to a baseline measured in the same process so the figures travel across machines:

* evaluation time of the 30 checks, against a baseline of serialising every item to JSON once;
* store throughput of a run's publication, against a bare sqlite3 executemany of the same rows;
* peak memory (RSS) of the process, and of two runs made in a process of their own over items generated
  as the connector yields them (what `annexa run` holds: the estate's size must not show in it);
* store growth of an unchanged second run, as a share of the first run's bytes.

Run: python bench/bench_engine.py [--items 100000] [--json]
     python bench/bench_engine.py --run-only --items 1000000   # only the streamed run's time and memory
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collector.evaluate import SnapshotItem, evaluate_checks
from collector.mapping import load_checks
from collector.progress import Progress
from collector.runner import CollectorPlan, execute_run
from collector.seal import parts as seal_parts
from collector.store import Store, canonical_json, run_records
from collector.verify import verify
from connectors.base import CollectContext, CollectionError, EvidenceItem

KINDS = 10
NOW = datetime(2026, 11, 27, tzinfo=UTC)
# Three checks per kind: a boolean field, a list comprehension with a parameter, a timestamp age.
CHECK_TEMPLATES = [
    ("mfa", "resource.mfa_enabled", "{}"),
    ("keys", "resource.access_keys.all(k, k.status != 'Active' || k.age_days <= params.max_age)", "{max_age: 90}"),
    ("recent", "timestamp(resource.last_used) > now - duration('2160h')", "{}"),
]


def item(kind: int, i: int) -> EvidenceItem:
    return EvidenceItem(
        f"bench.svc.kind{kind}",
        f"arn:bench:kind{kind}:{i:06d}",
        {
            "arn": f"arn:bench:kind{kind}:{i:06d}",
            "name": f"resource-{i}",
            "mfa_enabled": i % 7 != 0,
            "access_keys": [{"id": f"AK{i}{k}", "status": "Active", "age_days": (i + k * 13) % 120} for k in range(2)],
            "last_used": f"2026-{(i % 11) + 1:02d}-15T10:00:00Z",
            "tags": {"team": f"t{i % 17}", "env": "prod" if i % 3 else "dev"},
            "region": ["eu-central-1", "us-east-1", "eu-west-1"][i % 3],
        },
    )


def write_checks(path: Path) -> None:
    lines = ["version: 1", "checks:"]
    for kind in range(KINDS):
        for name, expression, params in CHECK_TEMPLATES:
            lines += [
                f"  - id: bench.kind{kind}.{name}",
                f"    title: bench {name} {kind}",
                f"    evidence: bench.svc.kind{kind}",
                f"    assert: {json.dumps(expression)}",
                f"    params: {params}",
                "    severity: medium",
                "    controls: [A.8.5]",
                "    remediation: none",
            ]
    path.write_text("\n".join(lines) + "\n")


def size_of(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if not p.name.endswith(".lock"))


# `annexa ARGS` reporting its own peak memory. The children's ru_maxrss would not do: a child forked from
# this process counts this process's pages until it execs, and Linux keeps that peak across exec.
# VmHWM belongs to the address space exec creates, so it is the command's own.
_MEASURED = """
import atexit, re, sys
def _hwm():
    text = open("/proc/self/status").read()
    open({out!r}, "w").write(re.search(r"VmHWM:\\s+(\\d+) kB", text).group(1))
atexit.register(_hwm)
sys.argv = ["annexa", *sys.argv[1:]]
from collector.cli import main
main()
"""


def streamed_runs(items: int) -> dict[str, Any]:
    """Two runs (first, unchanged re-run) over generated items, in this process: run from a child so
    the peak memory is the runs' own and the items exist only as the connector yields them."""
    per_kind = items // KINDS
    kinds = {f"bench.svc.kind{k}": "bench" for k in range(KINDS)}

    def collect(context: CollectContext) -> Iterator[EvidenceItem | CollectionError]:
        for k in range(KINDS):
            for i in range(per_kind):
                yield item(k, i)

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "bench.yaml"
        write_checks(rules)
        checks = load_checks(kinds, builtin_files=[rules])
        with Store(Path(tmp) / "run.db", create=True) as store:
            store.acquire_lock()
            for _ in range(2):
                start = time.perf_counter()
                execute_run(
                    store,
                    [CollectorPlan("bench", "bench", frozenset(kinds), collect)],
                    checks,
                    organization="bench",
                    config_digest="b",
                    excluded={},
                    progress=Progress(),
                    started_at=NOW,
                )
                times.append(time.perf_counter() - start)
    status = Path("/proc/self/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return {
        "streamed_items": per_kind * KINDS,
        "streamed_first_run_s": round(times[0], 3),
        "streamed_rerun_s": round(times[1], 3),
        "streamed_run_peak_rss_mib": round(int(match.group(1)) / 1024, 1) if match else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--run-only", action="store_true", help="only the two streamed runs, in this process")
    args = parser.parse_args()
    if args.run_only:
        print(json.dumps(streamed_runs(args.items)))
        return
    per_kind = args.items // KINDS
    items = [item(k, i) for k in range(KINDS) for i in range(per_kind)]
    kinds = {f"bench.svc.kind{k}": "bench" for k in range(KINDS)}
    out: dict[str, Any] = {"items": len(items), "checks": KINDS * len(CHECK_TEMPLATES)}

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "bench.yaml"
        write_checks(rules)
        checks = load_checks(kinds, builtin_files=[rules])

        start = time.perf_counter()
        for it in items:
            canonical_json(it.data)
        baseline_json = time.perf_counter() - start

        by_kind: dict[str, list[SnapshotItem]] = {}
        for it in items:
            by_kind.setdefault(it.kind, []).append(SnapshotItem(it.id, it.data))
        start = time.perf_counter()
        results = evaluate_checks(checks.for_connectors(["bench"]), by_kind, {}, NOW)
        evaluation = time.perf_counter() - start
        out["evaluation_s"] = round(evaluation, 3)
        out["evaluation_vs_json_baseline"] = round(evaluation / baseline_json, 2)
        out["evaluations"] = sum(sum(r.counts.values()) for r in results.values())

        def plan() -> CollectorPlan:
            def collect(context: CollectContext) -> Iterator[EvidenceItem | CollectionError]:
                yield from items

            return CollectorPlan("bench", "bench", frozenset(kinds), collect)

        db = Path(tmp) / "bench.db"
        with Store(db, create=True) as store:
            store.acquire_lock()

            def timed_run() -> tuple[float, int]:
                start = time.perf_counter()
                execute_run(
                    store,
                    [plan()],
                    checks,
                    organization="bench",
                    config_digest="b",
                    excluded={},
                    progress=Progress(),
                    started_at=NOW,
                )
                elapsed = time.perf_counter() - start
                store.db.execute("pragma wal_checkpoint(truncate)")
                return elapsed, size_of(db)

            first_run, first_bytes = timed_run()
            second_run, second_bytes = timed_run()
            latest = store.resolve_run(None)["id"]
            start = time.perf_counter()
            seal_parts(run_records(store.db, latest, rehash=False)[0])  # what publish adds for the seal
            seal_time = time.perf_counter() - start
            start = time.perf_counter()
            verified = verify(store)
            verify_time = time.perf_counter() - start
            assert verified.ok, verified.first_failure

        # The pack as a user makes it: `annexa export pack` in its own process, so its peak memory is
        # its own and not this benchmark's (which holds every item it generated).
        config = Path(tmp) / "annexa.yaml"
        config.write_text(f"store: {db}\n")
        pack_path = Path(tmp) / "pack.zip"
        hwm = Path(tmp) / "pack-vmhwm"
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                _MEASURED.format(out=str(hwm)),
                "export",
                "pack",
                "-c",
                str(config),
                "-o",
                str(pack_path),
            ],
            check=True,
            capture_output=True,
        )
        pack_time = time.perf_counter() - start
        pack_rss = int(hwm.read_text()) / 1024
        with zipfile.ZipFile(pack_path) as archive:
            pack_files = len(archive.infolist())
        pack_bytes = pack_path.stat().st_size

        child = subprocess.run(
            [sys.executable, __file__, "--run-only", "--items", str(args.items)],
            check=True,
            capture_output=True,
            text=True,
        )
        out.update(json.loads(child.stdout.strip().splitlines()[-1]))

        raw = Path(tmp) / "raw.db"
        conn = sqlite3.connect(raw)
        conn.execute("create table t (kind text, id text, hash text, data text)")
        start = time.perf_counter()
        conn.executemany(
            "insert into t values (?, ?, ?, ?)", ((it.kind, it.id, "h", canonical_json(it.data)) for it in items)
        )
        conn.commit()
        baseline_sqlite = time.perf_counter() - start
        conn.close()

    out["first_run_s"] = round(first_run, 3)
    out["first_run_items_per_s"] = round(len(items) / first_run)
    out["first_run_vs_bare_sqlite_insert"] = round(first_run / baseline_sqlite, 2)
    out["unchanged_rerun_s"] = round(second_run, 3)
    out["seal_s"] = round(seal_time, 3)
    out["seal_share_of_rerun"] = round(seal_time / second_run, 3)
    out["verify_two_runs_s"] = round(verify_time, 3)
    out["verify_vs_first_run"] = round(verify_time / first_run, 2)
    out["pack_s"] = round(pack_time, 3)
    out["pack_files"] = pack_files
    out["pack_bytes"] = pack_bytes
    out["pack_vs_first_run"] = round(pack_time / first_run, 2)
    out["pack_peak_rss_mib"] = round(pack_rss, 1)
    out["store_first_run_bytes"] = first_bytes
    out["store_growth_unchanged_rerun_bytes"] = second_bytes - first_bytes
    out["store_growth_ratio"] = round((second_bytes - first_bytes) / first_bytes, 4)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    width = max(map(len, out))
    for key, value in out.items():
        print(f"{key.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
