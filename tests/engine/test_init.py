"""`annexa init`: a starter configuration that validates as written, and never overwrites one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collector.init import BLOCKS


@pytest.mark.parametrize("connectors", [[], ["aws"], ["github", "okta"], list(BLOCKS)])
def test_the_starter_validates_once_its_credentials_are_set(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connectors: list[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_example")
    monkeypatch.setenv("OKTA_API_TOKEN", "okta-example")
    args = [arg for name in connectors for arg in ("--connector", name)]
    written = cli("init", "-c", "annexa.yaml", *args)
    assert written.code == 0, written.err
    result = cli("validate", "-c", "annexa.yaml")
    assert result.code == 0, result.err
    expected = connectors or sorted(BLOCKS)
    assert f"connectors: {', '.join(sorted(expected))})" in result.out


def test_init_never_overwrites(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "annexa.yaml").write_text("organization: Mine\n")
    result = cli("init")
    assert result.code == 2 and "already exists" in result.err
    assert (tmp_path / "annexa.yaml").read_text() == "organization: Mine\n"


def test_init_names_an_unknown_connector(cli: Any, tmp_path: Path) -> None:
    result = cli("init", "--connector", "gitlab")
    assert result.code == 2 and "unknown connector 'gitlab'" in result.err
    assert not (tmp_path / "annexa.yaml").exists()


def test_a_missing_credential_is_named(cli: Any) -> None:
    assert cli("init", "--connector", "github").code == 0
    result = cli("validate")
    assert result.code == 2 and "GITHUB_TOKEN is not set" in result.err
