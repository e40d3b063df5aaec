"""YAML loading that keeps line numbers, rejects duplicate keys and interpolates ``${ENV}``.

Every error a user can make in a YAML file is reported as one line, ``file:line:col: key: message``,
so the loader records the position of every key and list item while it builds plain Python values.

Plain scalars resolve by YAML 1.2's core schema, not PyYAML's YAML 1.1 one: only ``true``/``false``
are booleans, so ``on:``, ``off``, ``yes`` and ``no`` stay strings (``notify: {on: always}`` means
what it says), ``012`` is twelve and ``1:20`` is a string. Inputs are bounded (size, nesting) and
aliases refused, so a hostile or broken file costs one error line, never the machine.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64


class _Core12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema resolution of plain scalars (dates stay dates)."""


_YAML11_ONLY = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_Core12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML11_ONLY]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Core12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Core12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Core12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)


def _core12_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _core12_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


_Core12Loader.add_constructor("tag:yaml.org,2002:int", _core12_int)
_Core12Loader.add_constructor("tag:yaml.org,2002:bool", _core12_bool)


class InputError(Exception):
    """A user error in an input file: one line naming the file, the line and the key."""

    def __init__(self, file: str | Path, line: int | None, key: str, message: str) -> None:
        self.file, self.line, self.key, self.message = str(file), line, key, message
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


@dataclass
class LoadedYaml:
    """Plain Python data plus the position (1-based line, column) of every key and list item."""

    file: Path
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of the deepest recorded element along ``path``."""
        for depth in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:depth]))
            if pos:
                return pos[0]
        return None

    def error(self, path: Path_, message: str) -> InputError:
        return InputError(self.file, self.line_of(path), dotted(path), message)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_yaml(file: Path, *, interpolate_env: bool = False, env: Mapping[str, str] | None = None) -> LoadedYaml:
    return parse_yaml(read_text_input(file), file, interpolate_env=interpolate_env, env=env)


def read_text_input(file: Path) -> str:
    """The text of an input file (YAML or CSV), refused with one clear line when it cannot be one."""
    try:
        if file.is_dir():
            raise InputError(file, None, "", "is a directory, not a file")
        if file.stat().st_size > MAX_BYTES:
            raise InputError(file, None, "", f"larger than {MAX_BYTES // (1024 * 1024)} MB; not read")
        raw = file.read_bytes()
    except FileNotFoundError:
        raise InputError(file, None, "", "file not found") from None
    except OSError as exc:
        raise InputError(file, None, "", f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(file, line, "", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    if "\x00" in text:
        raise InputError(
            file, text[: text.index("\x00")].count("\n") + 1, "", "contains a NUL byte; is this a binary file?"
        )
    return text


def parse_yaml(
    text: str, file: Path, *, interpolate_env: bool = False, env: Mapping[str, str] | None = None
) -> LoadedYaml:
    if len(text) > MAX_BYTES:
        raise InputError(file, None, "", f"larger than {MAX_BYTES // (1024 * 1024)} MB; not read")
    if "\x00" in text:
        nul_line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(file, nul_line, "", "contains a NUL byte; is this a binary file?")
    try:
        node = yaml.compose(text, Loader=_Core12Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(file, line, "", f"malformed YAML: {exc.problem or exc.context}") from None
    except yaml.reader.ReaderError as exc:
        where = text[: exc.position].count("\n") + 1
        raise InputError(file, where, "", f"unprintable character #x{exc.character:04x}") from None
    except RecursionError:
        raise InputError(file, None, "", f"nested more than {MAX_DEPTH} levels deep") from None
    loaded = LoadedYaml(file=file, data=None)
    if node is None:
        loaded.data = {}
        return loaded
    builder = _Builder(loaded, os.environ if env is None else env, interpolate_env)
    loaded.data = builder.build(node, ())
    return loaded


class _Builder:
    def __init__(self, loaded: LoadedYaml, env: Mapping[str, str], interpolate: bool) -> None:
        self.loaded, self.env, self.interpolate = loaded, env, interpolate
        self.constructor = _Core12Loader("")
        self.seen: set[int] = set()

    def build(self, node: yaml.Node, path: Path_) -> Any:
        if len(path) > MAX_DEPTH:
            where, line = dotted(path[:4]) + "...", node.start_mark.line + 1
            raise InputError(self.loaded.file, line, where, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.CollectionNode):
            # The composer hands an alias back as the anchored node itself: a node met twice is an
            # alias, refused so that a few lines cannot expand into gigabytes (a "billion laughs").
            if id(node) in self.seen:
                raise self.loaded.error(path, "YAML aliases (*name) are not supported; repeat the value")
            self.seen.add(id(node))
        self.loaded.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode):
            try:
                value = self.constructor.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                raise self.loaded.error(path, f"invalid value: {exc}") from None
            except ValueError as exc:  # a date-shaped value that is no date, e.g. 2026-13-01
                raise self.loaded.error(path, f"{node.value!r} is not a valid date ({exc})") from None
            if self.interpolate and isinstance(value, str):
                value = self._interpolate(value, path)
            return value
        raise self.loaded.error(path, "aliases and tags are not supported here")

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError(self.loaded.file, key_node.start_mark.line + 1, dotted(path), "keys must be plain")
            key = str(self.constructor.construct_object(key_node))
            line = key_node.start_mark.line + 1
            if key == "<<":
                raise InputError(self.loaded.file, line, dotted(path), "YAML merge keys are not supported")
            if key in out:
                raise InputError(
                    self.loaded.file,
                    line,
                    dotted((*path, key)),
                    f"duplicate key (first defined at line {first_line[key]})",
                )
            first_line[key] = line
            self.loaded.positions[(*path, key)] = (line, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _interpolate(self, value: str, path: Path_) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.env:
                raise self.loaded.error(path, f"environment variable {name} is not set")
            return self.env[name]

        return _ENV.sub(replace, value)
