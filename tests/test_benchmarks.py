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
    # with organization policies deciding, three requests per repository plus organization-level lists,
    # and two facts GitHub has no organization-wide call for (environments, the SBOM's licences)
    assert figures["first_requests_per_repo"] <= 5.2
    # an unchanged re-run is charged only the first branch summaries of unprotected repositories
    assert 0 < figures["rerun_cost_pct_of_first"] <= 10
    assert set(figures["endpoints"]) >= {"/repos/{o}/{r}/branches/{b}/protection", "/orgs/{org}/actions/permissions"}


def test_readiness_benchmark_runs_and_stores_a_duplicate_file_once() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_readiness.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    figures = json.loads(out.stdout)
    assert (figures["files"], figures["runs"], figures["risks"]) == (50, 30, 20)
    assert figures["duplicate_file_document_bytes_added"] == 0  # content-addressed: the same bytes, once
    for key in ("report_html_vs_read_runs", "readiness_html_vs_read_runs", "soa_xlsx_vs_read_runs"):
        assert figures[key] > 0
