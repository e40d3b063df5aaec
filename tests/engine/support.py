"""Shared pieces of the engine tests: the fake connector's checks, a project directory, CLI drivers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent.parent


FAKE_CHECKS = """\
version: 1
checks:
  - id: fake.iam.user_mfa_enabled
    title: Users have MFA
    evidence: fake.iam.user
    assert: resource.mfa
    severity: high
    controls: [A.8.5]
    remediation: Turn on MFA for the user.
    message: "user {resource.name} has no MFA device"
  - id: fake.s3.bucket_not_public
    title: Buckets are not public
    evidence: fake.s3.bucket
    when: resource.name != "ignored"
    assert: "!resource.public"
    severity: critical
    controls: [A.8.3, A.5.15]
    remediation: Block public access.
  - id: other.iam.user_mfa_enabled
    title: Other users have MFA
    evidence: other.iam.user
    assert: resource.mfa
    severity: high
    controls: [A.8.5]
    remediation: Turn on MFA.
  - id: fake.iam.user_count_limited
    title: Few users
    evidence: fake.iam.user
    when: has(resource.admin) && resource.admin
    assert: size(resource.name) <= params.max_len
    params: {max_len: 10}
    severity: low
    controls: [A.8.2]
    remediation: Keep admin names short.
"""


@dataclass
class Project:
    """A directory with an annexa.yaml using the fake connector, and ways to run annexa on it."""

    root: Path

    @property
    def store(self) -> Path:
        return self.root / "annexa.db"

    def write_config(self, body: str) -> Path:
        path = self.root / "annexa.yaml"
        path.write_text(textwrap.dedent(body))
        return path

    def config(self, fake: str = "{}", extra: str = "") -> Path:
        (self.root / "fake_checks.yaml").write_text(FAKE_CHECKS)
        return self.write_config(
            f"organization: Test GmbH\nstore: ./annexa.db\nmappings: [./fake_checks.yaml]\n"
            f"connectors:\n  fake: {fake}\n{textwrap.dedent(extra)}"
        )


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Result:
    """Run `annexa ARGS` in-process through the real entry function (error handling included)."""
    from collector.cli import main

    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["annexa", *args])
    code: Any = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if exc.code is not None else 0
    captured = capsys.readouterr()
    return Result(int(code) if isinstance(code, int) else 1, captured.out, captured.err)


def annexa_subprocess(args: list[str], env: dict[str, str], cwd: Path, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "collector", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )
