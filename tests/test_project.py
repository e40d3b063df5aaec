"""Project hygiene as tests: lint, types, Dockerfile, and documentation that matches the code."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from collector.cli import cli
from collector.registry import available_connectors

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        pytest.fail(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def test_ruff_clean() -> None:
    result = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_clean() -> None:
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_lints_clean() -> None:
    result = subprocess.run([_tool("hadolint"), "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["annexa"]' in dockerfile and 'CMD ["schedule", "--now"]' in dockerfile
    assert "HEALTHCHECK" in dockerfile and re.search(r"^USER \d+", dockerfile, re.M)


def test_readme_opens_with_the_two_setup_commands() -> None:
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", README, re.S)
    first_two = [b.strip() for b in blocks[:2]]
    assert "annexa demo" in first_two[0] and "pip install" in first_two[0]
    assert "pytest" in first_two[1] and "pip install" in first_two[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert first_two[1].splitlines()[-1] in ci  # CI runs the README's test command


def test_every_cli_command_is_documented() -> None:
    for name in cli.commands:
        assert f"annexa {name}" in README, f"README lacks `annexa {name}`"


def test_every_connector_is_documented() -> None:
    for name, connector in available_connectors().items():
        doc = ROOT / "docs" / f"{name}.md"
        if name in ("fake", "other"):
            continue
        assert doc.exists(), f"docs/{name}.md missing"
        text = doc.read_text()
        for kind in connector.evidence_kinds:
            assert kind.name in text, f"docs/{name}.md does not document {kind.name}"


def test_the_cli_help_lists_every_exit_status() -> None:
    from click.testing import CliRunner

    from collector import exit_codes
    from collector.cli import cli

    shown = " ".join(CliRunner().invoke(cli, ["--help"]).output.split())
    for name in ("OK", "COLLECTION_FAILED", "USAGE", "FAIL_ON", "BUSY", "VERIFY_FAILED"):
        assert f" {getattr(exit_codes, name)} " in shown, name
    assert "5 verification failed" in shown
