"""Run the real `annexa` command line in a subprocess, as a user or a cron job would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def annexa(
    args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`annexa ARGS` with the interpreter running the tests; ``env`` replaces the environment when given."""
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        env=dict(env) if env is not None else None,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def annexa_with_config(
    args: Sequence[str], config: Path, extra_env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """`annexa COMMAND -c CONFIG ...` with extra environment variables (tokens) added."""
    return annexa([args[0], "-c", str(config), *args[1:]], env={**os.environ, **extra_env})
