"""Engine fixtures: the fake connector (registered in-process and as an installed plugin), a CLI driver."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_connector import FakeConnector, OtherConnector

from collector.registry import register, unregister
from engine.support import TESTS_DIR, Project, run_cli


@pytest.fixture(autouse=True)
def fake_registered() -> Iterator[None]:
    register(FakeConnector)
    register(OtherConnector)
    yield
    unregister(FakeConnector.name)
    unregister(OtherConnector.name)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("NO_COLOR", "1")
    return lambda *args: run_cli(list(args), capsys, monkeypatch)


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """Environment in which a subprocess finds the fake connector as an installed entry-point plugin."""
    site = tmp_path / "plugin-site"
    dist = site / "annexa_fake_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: annexa-fake-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[annexa.connectors]\nfake = fake_connector:FakeConnector\nother = fake_connector:OtherConnector\n"
    )
    (site / "fake_connector.py").write_text((TESTS_DIR / "fake_connector.py").read_text())
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's store (seven runs, manual evidence, risks), made once per session."""
    out = tmp_path_factory.mktemp("demo-store") / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "collector", "demo", "--dir", str(out), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(out.parent)},
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def demo(demo_dir: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the demo directory a test may tamper with."""
    copy = tmp_path / "demo"
    shutil.copytree(demo_dir, copy, ignore=shutil.ignore_patterns("*.lock"))
    yield copy
