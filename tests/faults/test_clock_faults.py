"""Time: runs are ordered by sequence whatever the clocks said, and a finish time in the future is skew.

The runs are made by real `annexa` processes under libfaketime (Debian's `faketime`), so the clock
the store sees is the one a host with a wrong clock would have.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from engine.support import Project

FAKETIME = shutil.which("faketime")


def _annexa(
    args: list[str], env: dict[str, str], cwd: Path, offset: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "collector", *args]
    if offset is not None:
        if FAKETIME is None:
            if os.environ.get("CI"):
                pytest.fail("faketime is not installed (apt-get install faketime)")
            pytest.skip("faketime is not installed")
        command = [FAKETIME, "-f", offset, *command]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_runs_are_listed_by_sequence_even_under_a_clock_30_days_behind(project: Project, plugin_env: dict) -> None:
    project.config("{users: [{name: a, mfa: true}]}")
    first = _annexa(["run", "-q"], plugin_env, project.root)
    second = _annexa(["run", "-q"], plugin_env, project.root, offset="-30d")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    listed = json.loads(_annexa(["runs", "--format", "json"], plugin_env, project.root).stdout)["runs"]
    first_id, second_id = first.stdout.split()[1], second.stdout.split()[1]
    assert [r["id"] for r in listed] == [second_id, first_id]
    assert listed[0]["started_at"] < listed[1]["started_at"]  # the clock said otherwise; the order holds
    report = json.loads(_annexa(["report", "--format", "json"], plugin_env, project.root).stdout)
    assert report["run"]["id"] == second_id  # "latest" is the last published, not the newest timestamp


def test_a_run_finished_in_the_future_is_clock_skew_not_a_fresh_run(project: Project, plugin_env: dict) -> None:
    project.config("{users: [{name: a, mfa: true}]}")
    made = _annexa(["run", "-q"], plugin_env, project.root, offset="+2d")
    assert made.returncode == 0, made.stderr
    health = _annexa(["health"], plugin_env, project.root)
    assert health.returncode == 1
    assert "in the future" in health.stderr and "clocks" in health.stderr
    assert "-48" not in health.stderr
    lenient = _annexa(["health", "--max-skew", "200000"], plugin_env, project.root)
    assert lenient.returncode == 0, lenient.stderr
    assert "ahead of this clock" in lenient.stdout


def test_small_skew_within_the_tolerance_is_healthy(project: Project, plugin_env: dict) -> None:
    project.config("{users: [{name: a, mfa: true}]}")
    assert _annexa(["run", "-q"], plugin_env, project.root, offset="+60s").returncode == 0
    health = _annexa(["health"], plugin_env, project.root)
    assert health.returncode == 0, health.stderr
