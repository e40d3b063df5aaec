"""The provider benchmarks keep working: a small GitHub benchmark run, checked for its request counts.

Request counts are deterministic (the imitation counts every request), unlike timings, which the
benchmarks report but no test judges.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_github_benchmark_runs_and_counts_requests() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_github.py"), "--quick", "--profile", "locked-down", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures = json.loads(out.stdout)["locked-down"]
    assert figures["repositories"] == 50
    assert figures["first_connector_status"] == figures["rerun_connector_status"] == "ok"
    # every request the imitation saw is one the connector counted, and the store recorded
    assert figures["first_requests"] == figures["first_store_api_calls"]
    # with organization policies deciding, three requests per repository plus organization-level lists
    assert figures["first_requests_per_repo"] <= 3.2
    # an unchanged re-run is charged only the first branch summaries of unprotected repositories
    assert 0 < figures["rerun_cost_pct_of_first"] <= 10
    assert set(figures["endpoints"]) >= {"/repos/{o}/{r}/branches/{b}/protection", "/orgs/{org}/actions/permissions"}
