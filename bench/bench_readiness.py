"""Readiness at scale: 1,000 manual evidence files of ~200 KB, 200 risks and 365 daily demo runs in one store.

Times `annexa soa`, `annexa readiness` and `annexa report` (their in-process work: reading the store,
building and rendering) against the time to read the runs table once, in the same process; and the
store growth of registering a file that is already stored (its bytes must not be stored again).

    python bench/bench_readiness.py            # the issue's sizes (several minutes: 365 runs)
    python bench/bench_readiness.py --quick    # 50 files, 20 risks, 30 runs, for a test
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collector.demo import _demo_run, estate_clock, write_demo_config  # noqa: E402
from collector.demo_isms import RISK_FILE  # noqa: E402
from collector.register import add_entry, prepare_entry  # noqa: E402
from collector.store import Store  # noqa: E402
from collector.timeutil import utcnow  # noqa: E402

CONTROLS = ["A.5.1", "A.5.2", "A.5.10", "A.5.19", "A.5.24", "A.6.3", "A.7.2", "A.8.1", "A.8.13", "A.8.32"]
CLAUSES = ["4.3", "5.2", "6.1.2", "7.2", "9.1", "9.2", "9.3"]


def _timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        begin = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - begin)
    return best


def build(directory: Path, files: int, file_kib: int, runs: int, risks: int) -> dict[str, Any]:
    today = estate_clock(utcnow())
    config = write_demo_config(directory, today)
    risk_lines = ["risks:"]
    for i in range(risks):
        risk_lines += [
            f"  - id: R-{i + 1:03d}",
            f"    title: Synthetic risk {i + 1}",
            "    owner: CISO",
            f"    likelihood: {i % 5 + 1}",
            f"    impact: {(i * 3) % 5 + 1}",
            "    treatment: mitigate",
            f"    controls: [{CONTROLS[i % len(CONTROLS)]}, A.8.5]",
        ]
    (directory / RISK_FILE).write_text("\n".join(risk_lines) + "\n")  # in place of the demo's register
    begin = time.perf_counter()
    for days_ago in range(runs, 0, -1):
        _demo_run(directory, config, today - timedelta(days=days_ago), drift=False, quiet=True, replay=True)
    runs_s = time.perf_counter() - begin
    docs = directory / "docs"
    docs.mkdir()
    begin = time.perf_counter()
    with Store(directory / "annexa-demo.db") as store:
        store.acquire_lock()
        for i in range(files):
            path = docs / f"record-{i:04d}.bin"
            path.write_bytes(os.urandom(file_kib * 1024))
            pending = prepare_entry(
                path=path,
                url=None,
                controls=[CONTROLS[i % len(CONTROLS)]],
                clauses=[CLAUSES[i % len(CLAUSES)]] if i % 3 == 0 else [],
                title=f"Record {i}",
                review_every="12m",
            )
            add_entry(store, pending)
    return {"config": config, "runs_s": runs_s, "register_s": time.perf_counter() - begin, "docs": docs}


def measure(directory: Path, built: dict[str, Any]) -> dict[str, Any]:
    from collector.operations import open_store_for_reading, report_text
    from collector.readiness import readiness_document
    from collector.readiness_render import render_html
    from collector.report import build_gap_report
    from collector.soa import render_xlsx, soa_document

    config = str(built["config"])
    store_file = directory / "annexa-demo.db"

    def read_runs_table() -> None:
        with sqlite3.connect(store_file) as db:
            rows = db.execute("select * from runs").fetchall()
            for row in rows:
                json.loads(row[11] or "{}")  # the summary column, as readers decode it

    def report() -> None:
        with open_store_for_reading(config) as store:
            report_text(store, None, "html")

    def readiness() -> None:
        render_html(readiness_document(config, None, None))

    figures: dict[str, Any] = {"baseline_read_runs_s": _timed(read_runs_table, 5)}
    figures["report_html_s"] = _timed(report)
    figures["readiness_html_s"] = _timed(readiness)

    def soa() -> None:
        with open_store_for_reading(config) as store:
            run = store.resolve_run(None)
            render_xlsx(soa_document(store, run, build_gap_report(store, run)), "bench")

    figures["soa_xlsx_s"] = _timed(soa)
    base = figures["baseline_read_runs_s"]
    for key in ("report_html_s", "readiness_html_s", "soa_xlsx_s"):
        figures[key.removesuffix("_s") + "_vs_read_runs"] = round(figures[key] / base, 1)

    with Store(store_file) as store:
        store.acquire_lock()
        before = store_file.stat().st_size
        docs_before = store.db.execute("select coalesce(sum(size), 0) from documents").fetchone()[0]
        again = built["docs"] / "record-0000.bin"
        add_entry(store, prepare_entry(path=again, url=None, controls=["A.5.1"], clauses=[], title="Same file again"))
        docs_after = store.db.execute("select coalesce(sum(size), 0) from documents").fetchone()[0]
    figures["duplicate_file_document_bytes_added"] = docs_after - docs_before
    figures["duplicate_file_store_growth_bytes"] = store_file.stat().st_size - before
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    files, runs, risks = (50, 30, 20) if args.quick else (1000, 365, 200)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        built = build(directory, files, 200, runs, risks)
        figures = {
            "files": files,
            "file_kib": 200,
            "runs": runs,
            "risks": risks,
            "build_runs_s": round(built["runs_s"], 1),
            "register_files_s": round(built["register_s"], 1),
            **measure(directory, built),
            "store_mib": round((directory / "annexa-demo.db").stat().st_size / 2**20, 1),
        }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:40} {value}")


if __name__ == "__main__":
    main()
