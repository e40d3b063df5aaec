"""`annexa demo`: a full run against the built-in simulated estate, with every installed connector."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from collector.registry import connector_names


def test_demo_runs_every_connector_and_writes_reports(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "collector", "demo", "--dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "gap-report.json").read_text())
    assert len(report["controls"]) == 93
    names = {c["name"] for c in report["run"]["connectors"]}
    builtin = {"aws", "github", "okta", "gcp", "azure"} & set(connector_names())
    assert builtin <= names
    for name in ("gap-report.md", "gap-report.html", "gap-report.csv"):
        assert (tmp_path / "out" / name).stat().st_size > 1000
    assert "wrote" in result.stdout
    if builtin:
        assert report["summary"]["fail"] > 0 and report["summary"]["pass"] > 0
