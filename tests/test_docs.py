"""Every configuration block and console example in README.md and docs/ is validated or executed.

- ``yaml`` blocks: an annexa.yaml (or part of one) goes through `annexa validate`; a check file is
  validated as a mapping file; Kubernetes manifests and compose files are parsed and the `annexa`
  commands inside them are checked against the CLI. An indented fragment names where it belongs with
  ``<!-- fragment: connectors.github -->`` on the line before the block.
- ``console`` blocks (``$ command`` then its output) are run and their output compared where it is
  deterministic (run ids, times and paths normalised); a block that needs a real estate says so
  with ``<!-- not run: reason -->`` before it, and its commands are still checked against the CLI.
- ``sh``/``bash`` blocks: every `annexa` command in them is checked against the CLI (options exist,
  values are valid choices).
- The command reference in README.md is generated from the CLI with cog and must be current.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_MARKER = re.compile(r"<!--\s*(fragment|not run):?\s*(.*?)\s*-->\s*$")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Block:
    file: Path
    line: int
    lang: str
    body: str
    marker: tuple[str, str] | None

    @property
    def id(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}"


def _blocks() -> list[Block]:
    out = []
    for file in DOCS:
        text = file.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            before = text[: match.start()].rstrip("\n").splitlines()
            marker = _MARKER.search(before[-1]) if before else None
            out.append(
                Block(
                    file,
                    text[: match.start()].count("\n") + 1,
                    match.group(1),
                    match.group(2),
                    (marker.group(1), marker.group(2)) if marker else None,
                )
            )
    return out


BLOCKS = _blocks()


def _of(*langs: str) -> list[Block]:
    return [b for b in BLOCKS if b.lang in langs]


# -- the CLI as a parser --------------------------------------------------------------------------


def check_command(argv: list[str]) -> None:
    """Parse `annexa ARGV` with the real click commands (no execution): unknown options fail."""
    from collector.cli import cli

    args = [a for a in argv if a != "--debug"]
    if not args or args[0] in ("--version", "--help", "-h"):
        return
    command = cli.get_command(click.Context(cli), args[0])
    assert command is not None, f"no command annexa {args[0]}"
    if isinstance(command, click.Group):
        sub = command.get_command(click.Context(command), args[1])
        assert sub is not None, f"no command annexa {args[0]} {args[1]}"
        command, args = sub, args[1:]
    command.make_context(args[0], args[1:])


def annexa_commands(script: str) -> list[list[str]]:
    """Every `annexa …` invocation in a shell snippet (continuations joined, pipelines split)."""
    script = script.replace("\\\n", " ")
    found = []
    for line in script.splitlines():
        line = line.split(" #", 1)[0].strip().removeprefix("$ ")
        for part in re.split(r"\|\||&&|;|\|", line):
            try:
                words = shlex.split(part)
            except ValueError:
                continue
            words = [w for w in words if not re.match(r"^[A-Z_]+=", w)] if words else words
            words = list(itertools.takewhile(lambda w: not re.match(r"^\d?>", w), words))  # up to a redirection
            if words and words[0] == "annexa":
                found.append(words[1:])
    return found


# -- yaml ------------------------------------------------------------------------------------------


def _env_for(text: str) -> dict[str, str]:
    """Dummy values for the variables a block names, by ${VAR} or by a `*_env: VAR` setting (as a user sets them)."""
    names = _ENV.findall(text) + re.findall(r"_env:\s*([A-Za-z_][A-Za-z0-9_]*)", text)
    return {name: _signing_key() if name == "ANNEXA_SIGNING_KEY" else f"dummy-{name.lower()}" for name in names}


def _signing_key() -> str:
    """A real Ed25519 key: the configuration loads the signing key, so a dummy string would be refused."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


def _validate_config(text: str, directory: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    config = directory / "annexa.yaml"
    config.write_text(text, encoding="utf-8")
    for mapping in re.findall(r"mappings:\s*\[([^\]]*)\]", text):
        for name in (m.strip() for m in mapping.split(",") if m.strip()):
            (directory / name).write_text("version: 1\nchecks: []\n")
    for name in re.findall(r"^risks:\s*(\S+)\s*$", text, re.MULTILINE):  # the register is shown in its own block
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text("risks: []\n")
    env = {**os.environ, **extra_env}
    return subprocess.run(
        [sys.executable, "-m", "collector", "validate", "-c", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _nested(path: str, body: str) -> str:
    lines = body.splitlines()
    keys = path.split(".")
    out = []
    for depth, key in enumerate(keys):
        out.append("  " * depth + f"{key}:")
    indent = "  " * len(keys)
    base = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    out += [indent + line[base:] if line.strip() else line for line in lines]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("block", _of("yaml", "yml"), ids=lambda b: b.id)
def test_yaml_block(block: Block, tmp_path: Path) -> None:
    body = block.body
    if block.marker and block.marker[0] == "fragment":
        body = _nested(block.marker[1], body)
    documents = [d for d in yaml.safe_load_all(body) if d is not None]
    assert documents, f"{block.id}: empty block"
    first = documents[0]
    assert isinstance(first, dict), f"{block.id}: a YAML block in the docs is a mapping"
    if "apiVersion" in first or "services" in first:
        for document in documents:
            for command in _embedded_commands(document):
                check_command(command)
        return
    if isinstance(first.get("risks"), list):  # a risk register, validated as `risks:` would read it
        from collector.risks import load_register

        (tmp_path / "risks.yaml").write_text(body)
        assert load_register(tmp_path / "risks.yaml").risks, f"{block.id}: an empty register"
        return
    if "checks" in first and isinstance(first["checks"], list):
        # A check file on its own (the docs show shipped checks, which would clash with themselves).
        from collector.mapping import load_checks
        from collector.registry import evidence_kinds

        (tmp_path / "checks.yaml").write_text(body)
        load_checks(evidence_kinds(), builtin_files=[tmp_path / "checks.yaml"])
        return
    else:
        result = _validate_config(body, tmp_path, _env_for(body))
    assert result.returncode == 0, f"{block.id}: {result.stderr}"


def _embedded_commands(document: object) -> list[list[str]]:
    """`annexa` commands in a manifest: container `command`/`args` lists and compose `command`."""
    found: list[list[str]] = []
    if isinstance(document, dict):
        words: list[str] = []
        for key in ("command", "args"):
            value = document.get(key)
            if isinstance(value, list):
                words += [str(v) for v in value]
            elif isinstance(value, str):
                words += shlex.split(value)
        if words:
            if words[0] == "annexa":
                words = words[1:]
            if document.get("image", "").startswith("annexa") or document.get("build") or "image" in document:
                found.append(words)
        for value in document.values():
            found += _embedded_commands(value)
    elif isinstance(document, list):
        for value in document:
            found += _embedded_commands(value)
    return found


# -- shell -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", _of("sh", "bash", "console", ""), ids=lambda b: b.id)
def test_annexa_commands_in_the_docs_exist(block: Block) -> None:
    for command in annexa_commands(block.body):
        check_command(command)


# -- console ---------------------------------------------------------------------------------------

_RUN_ID = re.compile(r"\b\d{8}T\d{6}Z-[0-9a-f]{6}\b")


def _normalise(text: str) -> str:
    return _RUN_ID.sub("RUN", text).rstrip()


def _console(block: Block) -> list[tuple[str, str]]:
    """(command, expected output) pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        elif pairs:
            pairs[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in pairs]


@pytest.mark.parametrize("block", _of("console"), ids=lambda b: b.id)
def test_console_example(block: Block, tmp_path: Path) -> None:
    if block.marker and block.marker[0] == "not run":
        assert block.marker[1], f"{block.id}: say why the example is not run"
        return
    env = {**os.environ, "NO_COLOR": "1", "HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    for command, expected in _console(block):
        done = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
        shown = done.stdout + (done.stderr if "annexa: error" in expected else "")
        assert _normalise(shown) == _normalise(expected), f"{block.id}: `{command}` printed:\n{shown}"


def test_every_console_block_is_run_or_says_why_not() -> None:
    for block in _of("console"):
        assert block.marker is None or block.marker[0] == "not run", block.id


# -- the generated command reference ---------------------------------------------------------------


def test_the_command_reference_is_current() -> None:
    from cogapp import Cog

    status = Cog().main(["cog", "--check", str(ROOT / "README.md")])
    assert status == 0, "README.md's command reference is stale: run `cog -r README.md`"
