"""Check definitions: load control_mappings/*.yaml (and user files), validate, compile CEL once.

Validation is complete before anything runs: a CEL syntax error, an undefined variable, an unknown
parameter, an unknown control id, a duplicate check id or an evidence kind no connector declares is
an :class:`InputError` naming the file, the line, the key and the check id.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import cel
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator

from control_mappings import CATALOGUES, MAPPINGS_DIR

from .catalog import control_ids
from .pydantic_errors import plain_message
from .registry import KindOwners, load_failures
from .yamlload import InputError, LoadedYaml, load_yaml

Severity = Literal["low", "medium", "high", "critical"]
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
CEL_VARIABLES = frozenset({"resource", "params", "now"})
_CHECK_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+){2,}$")
# Names a comprehension macro binds (`x` in `list.all(x, ...)`) are reported by cel as variables.
_MACRO_BINDING = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")
_PARAM_REF = re.compile(r"\bparams\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_RESOURCE_TOKEN = re.compile(r"(?<![\w.])resource\b(\s*\.\s*([A-Za-z_][A-Za-z0-9_]*))?")
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")  # {resource.x} in a check's message
_CALL = re.compile(r"(?<![\w$])([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_STRING_LITERAL = re.compile(
    r"(?:[rRbB]{0,2})"
    r"(\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*')"
)
# The functions, methods and macros of the CEL runtime Annexa evaluates with (the standard definitions
# it implements); a call to anything else would only fail when the run evaluates it.
CEL_FUNCTIONS = frozenset(
    {
        "size", "int", "uint", "double", "string", "bytes", "type", "dyn", "timestamp", "duration",
        "matches", "contains", "startsWith", "endsWith", "has", "all", "exists", "exists_one", "map", "filter",
        "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear", "getFullYear", "getHours",
        "getMilliseconds", "getMinutes", "getMonth", "getSeconds",
    }
)  # fmt: skip
# Annexa's own: identity(x) is x as the identity provider knows it (annexa.yaml `identities:` maps
# account names whose names differ; a GCP member's `user:` prefix dropped), lower-cased and trimmed.
ANNEXA_FUNCTIONS = frozenset({"identity"})
MAX_EXPRESSION_CHARS = 4000
MAX_COMPREHENSION_NESTING = 3  # .all/.exists/.map/.filter inside one another: cost grows as the product of the lists
_COMPREHENSION = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(")
_CEL_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")


Strength = Literal["primary", "supporting"]


class ControlLink(BaseModel):
    """A `controls:` entry written as a mapping: ``{id: A.5.17, strength: supporting}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    strength: Strength = "primary"


class LookupSpec(BaseModel):
    """`lookup: {NAME: {evidence: KIND, key: CEL}}`: NAME is a map from each KIND item's key to the item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    evidence: str
    key: str  # CEL over each item of `evidence` (`resource` is that item)
    # none: the key expression's value as it is (CONTRACT §4); lower: lower-cased and trimmed, to meet
    # identity(), which gives account names that way (e-mails, logins)
    normalise: Literal["lower", "none"] = "none"


class CheckDefinition(BaseModel):
    """One check as written in a mapping file (CONTRACT §4)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    id: str
    title: str
    evidence: str
    when: str | None = None
    assert_: str = Field(alias="assert")
    params: dict[str, Any] = Field(default_factory=dict)
    severity: Severity
    # A control id (a primary link) or {id, strength}: supporting evidence never carries a control alone.
    controls: list[
        Annotated[
            Annotated[str, Tag("control-id")] | Annotated[ControlLink, Tag("control-link")],
            Discriminator(lambda v: "control-id" if isinstance(v, str) else "control-link"),
        ]
    ] = Field(min_length=1)
    remediation: str
    message: str | None = None
    description: str | None = None
    enabled: bool = True
    lookup: dict[str, LookupSpec] = Field(default_factory=dict)

    @property
    def control_ids(self) -> list[str]:
        return [c if isinstance(c, str) else c.id for c in self.controls]

    @property
    def supporting(self) -> list[str]:
        """The controls this check only supports (in the order written)."""
        return [c.id for c in self.controls if isinstance(c, ControlLink) and c.strength == "supporting"]

    def strength_of(self, control_id: str) -> Strength:
        return "supporting" if control_id in self.supporting else "primary"

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _CHECK_ID.match(value):
            raise ValueError("check ids look like <connector>.<service>.<what_should_be_true> (lowercase)")
        return value


@dataclass(frozen=True)
class CheckSource:
    file: Path
    line: int | None
    index: int


@dataclass(frozen=True)
class CompiledLookup:
    name: str
    evidence: str
    connector: str
    key: Any  # the compiled key expression
    normalise: str
    expression: str = ""  # the key as written: lookups alike share one map


@dataclass
class CompiledCheck:
    definition: CheckDefinition
    source: CheckSource
    connector: str
    when: Any | None
    assertion: Any
    params: dict[str, Any]
    enabled: bool
    # Top-level fields of `resource` the expressions read; None when an expression uses `resource`
    # whole. Handing CEL only these fields makes evaluation several times faster on wide items.
    resource_fields: tuple[str, ...] | None = None
    message_template: str | None = field(default=None)
    when_fields: tuple[str, ...] | None = ()  # the fields `when` alone reads (None: `resource` whole)
    lookups: tuple[CompiledLookup, ...] = ()

    @property
    def id(self) -> str:
        return self.definition.id


@dataclass
class CheckSet:
    checks: dict[str, CompiledCheck]
    identities: dict[str, str] = field(default_factory=dict)  # annexa.yaml `identities:` (account -> IdP identity)

    def for_connectors(self, connectors: Iterable[str]) -> list[CompiledCheck]:
        names = set(connectors)
        # A cross-source check runs when every connector it reads is configured, its lookups' too.
        return [
            c
            for c in self.checks.values()
            if c.connector in names and c.enabled and all(lk.connector in names for lk in c.lookups)
        ]

    def by_kind(self, connectors: Iterable[str]) -> dict[str, list[CompiledCheck]]:
        out: dict[str, list[CompiledCheck]] = {}
        for check in self.for_connectors(connectors):
            out.setdefault(check.definition.evidence, []).append(check)
        return out


def builtin_mapping_files() -> list[Path]:
    return sorted(p for p in MAPPINGS_DIR.glob("*.yaml") if p not in CATALOGUES)


def load_checks(
    kinds: Mapping[str, str],
    extra_files: Iterable[Path] = (),
    overrides: Mapping[str, Any] | None = None,
    override_source: LoadedYaml | None = None,
    builtin_files: Iterable[Path] | None = None,
) -> CheckSet:
    """Load and validate every check file.

    ``kinds`` maps each evidence kind any installed connector declares to that connector's name.
    ``overrides`` is annexa.yaml's ``checks:`` section; ``override_source`` locates its errors.
    """
    files = list(builtin_mapping_files() if builtin_files is None else builtin_files) + list(extra_files)
    checks: dict[str, CompiledCheck] = {}
    known_controls = control_ids()
    for file in files:
        loaded = load_yaml(file)
        for check in _checks_in(loaded, kinds, known_controls):
            if check.id in checks:
                first = checks[check.id].source
                raise InputError(
                    file,
                    check.source.line,
                    f"checks[{check.source.index}].id",
                    f"duplicate check id {check.id!r} (first defined in {first.file}:{first.line})",
                )
            checks[check.id] = check
    if overrides:
        _apply_overrides(checks, overrides, override_source)
    return CheckSet(checks)


def _checks_in(loaded: LoadedYaml, kinds: Mapping[str, str], known_controls: frozenset[str]) -> list[CompiledCheck]:
    data = loaded.data
    if not isinstance(data, dict):
        raise loaded.error((), "a check file is a mapping with a `checks:` list")
    unknown = set(data) - {"version", "checks"}
    if unknown:
        key = sorted(unknown)[0]
        raise loaded.error((key,), "unknown key (a check file has `version` and `checks`)")
    if data.get("version", 1) != 1:
        raise loaded.error(("version",), "unsupported version (expected 1)")
    raw_checks = data.get("checks") or []
    if not isinstance(raw_checks, list):
        raise loaded.error(("checks",), "must be a list of checks")
    out = []
    for i, raw in enumerate(raw_checks):
        path: tuple[str | int, ...] = ("checks", i)
        if not isinstance(raw, dict):
            raise loaded.error(path, "each check is a mapping")
        try:
            definition = CheckDefinition.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            # The union's tags (a control entry is an id or a link) are not keys of the file.
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("control-")))
            key_path = (*path, *loc)
            label = raw.get("id", f"#{i}")
            raise loaded.error(key_path, f"check {label}: {plain_message(err)}") from None
        source = CheckSource(loaded.file, loaded.line_of(path), i)
        out.append(_compile(definition, source, loaded, kinds, known_controls))
    return out


def _compile(
    definition: CheckDefinition,
    source: CheckSource,
    loaded: LoadedYaml,
    kinds: Mapping[str, str],
    known_controls: frozenset[str],
) -> CompiledCheck:
    path: tuple[str | int, ...] = ("checks", source.index)
    for j, control in enumerate(definition.control_ids):
        if control in definition.control_ids[:j]:
            raise loaded.error((*path, "controls", j), f"check {definition.id}: control {control} is listed twice")
        if control not in known_controls:
            hint = _did_you_mean(control, known_controls)
            raise loaded.error((*path, "controls", j), f"check {definition.id}: unknown control id {control!r}{hint}")
    if definition.evidence not in kinds:
        owner = definition.evidence.split(".")[0]
        if owner in load_failures:
            raise loaded.error(
                (*path, "evidence"),
                f"check {definition.id}: the {owner} connector failed to load ({load_failures[owner]})",
            )
        hint = _did_you_mean(definition.evidence, kinds)
        raise loaded.error(
            (*path, "evidence"),
            f"check {definition.id}: no connector declares evidence kind {definition.evidence!r}{hint}",
        )
    lookups = _compile_lookups(definition, path, loaded, kinds)
    names = frozenset(lk.name for lk in lookups)
    when = _compile_cel(definition.when, (*path, "when"), definition, loaded, names) if definition.when else None
    assertion = _compile_cel(definition.assert_, (*path, "assert"), definition, loaded, names)
    if definition.message:
        for placeholder in PLACEHOLDER.findall(definition.message):
            parts = [p.strip() for p in placeholder.strip().split(".")]
            root = parts[0]
            if root not in ("resource", "params", "id"):
                raise loaded.error(
                    (*path, "message"),
                    f"check {definition.id}: placeholder {{{placeholder}}} must start with resource., params. or id",
                )
            if root == "params" and len(parts) > 1 and parts[1] not in definition.params:
                raise loaded.error(
                    (*path, "message"),
                    f"check {definition.id}: placeholder {{{placeholder}}} names a parameter the check does not define",
                )
            kind = kinds.declared.get(definition.evidence) if isinstance(kinds, KindOwners) else None
            if root == "resource" and len(parts) > 1 and kind is not None and kind.may_have(parts[1]) is False:
                # What the kind declares is what a message can show; any other field renders "?".
                raise loaded.error(
                    (*path, "message"),
                    f"check {definition.id}: placeholder {{{placeholder}}} names a field {definition.evidence} "
                    f"does not declare{_did_you_mean(parts[1], kind.documented())}",
                )
    return CompiledCheck(
        definition=definition,
        source=source,
        connector=kinds[definition.evidence],
        when=when,
        assertion=assertion,
        params=dict(definition.params),
        enabled=definition.enabled,
        resource_fields=_resource_fields([definition.when or "", definition.assert_]),
        message_template=definition.message,
        when_fields=_resource_fields([definition.when or ""]),
        lookups=lookups,
    )


def _compile_lookups(
    definition: CheckDefinition, path: tuple[str | int, ...], loaded: LoadedYaml, kinds: Mapping[str, str]
) -> tuple[CompiledLookup, ...]:
    out = []
    for name, spec in definition.lookup.items():
        where = (*path, "lookup", name)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in CEL_VARIABLES or name in CEL_FUNCTIONS:
            raise loaded.error(
                where, f"check {definition.id}: lookup name {name!r} must be a new identifier (not resource/params/now)"
            )
        if spec.evidence not in kinds:
            hint = _did_you_mean(spec.evidence, kinds)
            raise loaded.error(
                (*where, "evidence"),
                f"check {definition.id}: lookup {name}: no connector declares evidence kind {spec.evidence!r}{hint}",
            )
        key = _compile_cel(spec.key, (*where, "key"), definition, loaded, frozenset(), key_only=True)
        out.append(CompiledLookup(name, spec.evidence, kinds[spec.evidence], key, spec.normalise, spec.key))
    return tuple(out)


def _compile_cel(
    expression: str,
    path: tuple[str | int, ...],
    definition: CheckDefinition,
    loaded: LoadedYaml,
    lookups: frozenset[str] = frozenset(),
    *,
    key_only: bool = False,  # a lookup's key expression: only `resource` (the looked-up item)
) -> Any:
    key = str(path[-1])
    try:
        program = cel.compile(expression)
    except Exception as exc:  # the cel extension raises ValueError; anything it raises is a mapping error
        raise loaded.error(path, f"check {definition.id}: CEL syntax error{_cel_position(str(exc))}") from None
    code = _STRING_LITERAL.sub('""', expression)  # calls and parentheses inside strings are not code
    _bound_cost(expression, code, path, definition, loaded)
    for name in _CALL.findall(code):
        if name not in CEL_FUNCTIONS and name not in ANNEXA_FUNCTIONS:
            hint = _did_you_mean(name, CEL_FUNCTIONS)
            raise loaded.error(path, f"check {definition.id}: {key} calls unknown CEL function {name!r}{hint}")
    bound = set(_MACRO_BINDING.findall(expression))
    available = frozenset({"resource"}) if key_only else CEL_VARIABLES | lookups
    undefined = sorted(set(program.variables()) - available - bound - ANNEXA_FUNCTIONS)
    if undefined:
        names = ", ".join(sorted(available, key=lambda n: (n not in CEL_VARIABLES, n)))
        raise loaded.error(
            path, f"check {definition.id}: {key} uses undefined variable {undefined[0]!r} (available: {names})"
        )
    for name in _PARAM_REF.findall(expression):
        if name not in definition.params:
            raise loaded.error(path, f"check {definition.id}: {key} uses params.{name}, which `params` does not define")
    return program


def _bound_cost(
    expression: str, code: str, path: tuple[str | int, ...], definition: CheckDefinition, loaded: LoadedYaml
) -> None:
    """Refuse expressions whose evaluation cost could run away: very long, or comprehensions nested deep.
    ``code`` is the expression with its string literals emptied."""
    key = str(path[-1])
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise loaded.error(
            path, f"check {definition.id}: {key} is {len(expression)} characters; the limit is {MAX_EXPRESSION_CHARS}"
        )
    opened: list[int] = []  # parenthesis depth at which each open comprehension started
    depth = deepest = 0
    position = 0
    while position < len(code):
        match = _COMPREHENSION.match(code, position)
        if match:
            depth += 1
            opened.append(depth)
            deepest = max(deepest, len(opened))
            position = match.end()
            continue
        char = code[position]
        if char == "(":
            depth += 1
        elif char == ")":
            if opened and opened[-1] == depth:
                opened.pop()
            depth -= 1
        position += 1
    if deepest > MAX_COMPREHENSION_NESTING:
        raise loaded.error(
            path,
            f"check {definition.id}: {key} nests {deepest} comprehensions (all/exists/map/filter) inside one "
            f"another; the limit is {MAX_COMPREHENSION_NESTING}: use a lookup or split the check",
        )


def _cel_position(message: str) -> str:
    match = _CEL_POSITION.search(message)
    if not match:
        return f": {message.splitlines()[0]}"
    line, column, text = match.groups()
    text = text.removeprefix("Syntax error: ")
    return f" at line {line}, column {column} of the expression: {text}"


def _resource_fields(expressions: list[str]) -> tuple[str, ...] | None:
    fields: set[str] = set()
    for expression in expressions:
        for match in _RESOURCE_TOKEN.finditer(expression):
            if match.group(2) is None:
                return None
            fields.add(match.group(2))
    return tuple(sorted(fields))


def _did_you_mean(value: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _apply_overrides(checks: dict[str, CompiledCheck], overrides: Mapping[str, Any], source: LoadedYaml | None) -> None:
    def error(path: tuple[str | int, ...], message: str) -> InputError:
        if source is not None:
            return source.error(("checks", *path), message)
        return InputError("annexa.yaml", None, ".".join(map(str, ("checks", *path))), message)

    for check_id, override in overrides.items():
        if check_id not in checks:
            raise error((check_id,), f"no check has this id{_did_you_mean(check_id, checks)}")
        check = checks[check_id]
        for name, value in (override.get("params") or {}).items():
            if name not in check.params:
                known = ", ".join(sorted(check.params)) or "none"
                raise error((check_id, "params", name), f"unknown parameter (this check has: {known})")
            default = check.params[name]
            if not _same_type(default, value):
                raise error(
                    (check_id, "params", name),
                    f"expected {type(default).__name__} like the default {default!r}, got {value!r}",
                )
            check.params[name] = value
        if override.get("enabled") is not None:
            check.enabled = bool(override["enabled"])
        if override.get("severity") is not None:
            check.definition = check.definition.model_copy(update={"severity": override["severity"]})


def _same_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float) and isinstance(value, int | float):
        # CEL never coerces int and double, so an int default must stay an int.
        return isinstance(default, float) or isinstance(value, int)
    return type(default) is type(value)
