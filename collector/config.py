"""annexa.yaml: typed models (unknown keys are errors), ${ENV} interpolation, line-aware errors.

Loading validates everything a run needs (each connector's own settings model, the cron schedule,
SoA control ids, check overrides against the loaded checks) before any file is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.base import ConnectorSettings
from connectors.http import RetrySettings

from . import redact
from .catalog import control_ids
from .cron import CronError, parse_crontab
from .export.push_url import check_push_url
from .manual_evidence import Declared, declared_entries
from .mapping import CheckSet, Severity, load_checks
from .pydantic_errors import plain_message
from .registry import UnknownConnectorError, connector_names, evidence_kinds, load_connector
from .risks import Register, load_register
from .signing import Signer, SigningError, load_signer
from .yamlload import InputError, LoadedYaml, load_yaml

DEFAULT_CONFIG = "annexa.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleConfig(_Strict):
    cron: str
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            parse_crontab(value)
        except CronError as exc:
            raise ValueError(f"malformed cron expression: {exc}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as UTC or Europe/Berlin)") from None
        return value


class SoaConfig(_Strict):
    excluded: dict[str, str] = Field(default_factory=dict)
    # Reasons for including a control beyond the risks it treats (legal, contractual, business).
    justifications: dict[str, str] = Field(default_factory=dict)


class ReadinessConfig(_Strict):
    expiring_within_days: int = Field(default=30, ge=0, le=365)  # manual evidence "expiring" window
    audit_date: dt.date | None = None  # default for `annexa readiness --audit-date`


class SealConfig(_Strict):
    # Ed25519 private key, PEM text (`${ANNEXA_SIGNING_KEY}`) or the path of a PEM file; never stored.
    signing_key: str | None = None


class CisoAssistantConfig(_Strict):
    """Where `annexa export ciso-assistant` pushes a run (docs/ciso-assistant.md)."""

    url: str  # the instance's base URL, e.g. https://ciso.example.com (the API is under /api/)
    token: str  # a personal access token (`${CISO_ASSISTANT_TOKEN}`): sent as `Authorization: Token …`
    folder: str = "Annexa"  # the domain the perimeter, the assessment and the evidence live in
    perimeter: str = "ISMS scope"
    assessment: str = "ISO/IEC 27001:2022 Annex A (Annexa)"
    verify_tls: bool = True
    ca_bundle: str | None = None  # a PEM file of CAs to trust (a private CA), relative to annexa.yaml
    on: Literal["manual", "schedule"] = "manual"  # schedule: the agent pushes after each run
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    retry: RetrySettings = Field(default_factory=RetrySettings)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_push_url(value)

    @field_validator("token")
    @classmethod
    def _token(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty: give a personal access token, e.g. token: ${CISO_ASSISTANT_TOKEN}")
        return value


class ExportsConfig(_Strict):
    ciso_assistant: CisoAssistantConfig | None = None


class CheckOverride(_Strict):
    params: dict[str, Any] = Field(default_factory=dict)
    enabled: bool | None = None
    severity: Severity | None = None


class NotifyConfig(_Strict):
    webhook_url: str
    format: Literal["json", "slack"] = "json"
    on: Literal["regression", "always"] = "regression"
    timeout_seconds: float = 10.0


class AnnexaConfig(_Strict):
    organization: str = ""
    store: str = "./annexa.db"
    schedule: ScheduleConfig | None = None
    soa: SoaConfig = Field(default_factory=SoaConfig)
    mappings: list[str] = Field(default_factory=list)
    checks: dict[str, CheckOverride] = Field(default_factory=dict)
    connectors: dict[str, Any] = Field(default_factory=dict)
    notify: NotifyConfig | None = None
    manual_evidence: list[Any] | str | None = None  # entries, or a YAML file listing them
    risks: str | None = None  # the risk register: a YAML or CSV file
    readiness: ReadinessConfig = Field(default_factory=ReadinessConfig)
    seal: SealConfig = Field(default_factory=SealConfig)
    # Account names whose identity-provider identity differs (a GitHub login -> the person's e-mail), for
    # the cross-source checks: e.g. octocat: alice@example.com
    identities: dict[str, str] = Field(default_factory=dict)
    exports: ExportsConfig = Field(default_factory=ExportsConfig)


@dataclass
class ConnectorEntry:
    name: str
    settings: ConnectorSettings
    index: int | None = None  # position when several entries of one connector are configured


@dataclass
class Settings:
    """A validated configuration, ready for a run."""

    file: Path
    model: AnnexaConfig
    store_path: Path
    connectors: list[ConnectorEntry]
    checks: CheckSet
    digest: str
    source: LoadedYaml = field(repr=False)
    manual: list[Declared] = field(default_factory=list)
    risks: Register | None = None
    signer: Signer | None = field(default=None, repr=False)

    @property
    def connector_names(self) -> list[str]:
        return sorted({entry.name for entry in self.connectors})

    @property
    def excluded(self) -> dict[str, str]:
        return dict(self.model.soa.excluded)


def config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("ANNEXA_CONFIG") or DEFAULT_CONFIG)


def load_settings(path: Path) -> Settings:
    source = load_yaml(path, interpolate_env=True)
    if not isinstance(source.data, dict):
        raise source.error((), "the configuration must be a mapping of keys (see README: Configuration)")
    try:
        model = AnnexaConfig.model_validate(source.data)
    except ValidationError as exc:
        raise _pydantic_error(source, exc, ()) from None

    if model.notify is not None:  # a webhook URL is a credential (Slack's carries its token)
        redact.add([model.notify.webhook_url])
    if model.exports.ciso_assistant is not None:
        redact.add([model.exports.ciso_assistant.token])
        bundle = model.exports.ciso_assistant.ca_bundle
        if bundle and not (path.resolve().parent / bundle).is_file():
            raise source.error(("exports", "ciso_assistant", "ca_bundle"), f"CA bundle {bundle} not found")
    signer = None
    if model.seal.signing_key:
        redact.add([model.seal.signing_key])
        try:
            signer = load_signer(model.seal.signing_key, "seal.signing_key", base=path.resolve().parent)
        except SigningError as exc:
            raise source.error(("seal", "signing_key"), str(exc).removeprefix("seal.signing_key: ")) from None
    known = control_ids()
    for control_id in model.soa.excluded:
        if control_id not in known:
            raise source.error(("soa", "excluded", control_id), "unknown Annex A control id")
        if not str(model.soa.excluded[control_id] or "").strip():
            raise source.error(("soa", "excluded", control_id), "an exclusion needs its reason (the SoA states it)")
    for control_id, reason in model.soa.justifications.items():
        if control_id not in known:
            raise source.error(("soa", "justifications", control_id), "unknown Annex A control id")
        if not str(reason or "").strip():
            raise source.error(("soa", "justifications", control_id), "the justification is empty")
        if control_id in model.soa.excluded:
            raise source.error(
                ("soa", "justifications", control_id), "this control is also excluded: give one or the other"
            )

    entries = _connector_entries(source, model)
    base = path.resolve().parent
    extra = [(base / p) for p in model.mappings]
    for i, file in enumerate(extra):
        if not file.is_file():
            raise source.error(("mappings", i), f"mapping file {file} not found")
    overrides = {k: v.model_dump(exclude_none=True) for k, v in model.checks.items()}
    checks = load_checks(evidence_kinds(), extra_files=extra, overrides=overrides, override_source=source)
    for account, person in model.identities.items():
        if not str(person or "").strip():
            raise source.error(("identities", account), "maps to nothing: give the identity-provider identity")
    checks.identities = dict(model.identities)
    manual = declared_entries(source, model.manual_evidence, base)
    risks = _risk_register(source, model.risks, base)
    raw = path.read_bytes()
    return Settings(
        file=path,
        model=model,
        store_path=(base / model.store),
        connectors=entries,
        checks=checks,
        digest=hashlib.sha256(raw).hexdigest(),  # of the file as written: ${VAR} secrets stay out
        source=source,
        manual=manual,
        risks=risks,
        signer=signer,
    )


def _risk_register(source: LoadedYaml, name: str | None, base: Path) -> Register | None:
    if name is None:
        return None
    file = base / name
    if not file.exists():
        raise source.error(("risks",), f"risk register {file} not found")
    return load_register(file)


def _connector_entries(source: LoadedYaml, model: AnnexaConfig) -> list[ConnectorEntry]:
    entries = []
    for name, raw in model.connectors.items():
        try:
            cls = load_connector(name)
        except UnknownConnectorError:
            available = ", ".join(connector_names()) or "none installed"
            raise source.error(("connectors", name), f"unknown connector (available: {available})") from None
        listed = raw if isinstance(raw, list) else [raw]
        for i, one in enumerate(listed):
            index = i if isinstance(raw, list) else None
            path: tuple[str | int, ...] = ("connectors", name) if index is None else ("connectors", name, index)
            try:
                settings = cls.settings_model.model_validate(one if one is not None else {})
            except ValidationError as exc:
                raise _pydantic_error(source, exc, path) from None
            _require_env(source, settings, path)
            entries.append(ConnectorEntry(name, settings, index))
    return entries


def _require_env(source: LoadedYaml, settings: ConnectorSettings, path: tuple[str | int, ...]) -> None:
    """A setting naming an environment variable (``*_env``) is checked like ``${VAR}``: unset is an error now,
    not at the run's first API call."""
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if name.endswith("_env") and isinstance(value, str) and value and not os.environ.get(value):
            raise source.error((*path, name), f"names the environment variable {value}, which is not set (or empty)")


def _pydantic_error(source: LoadedYaml, exc: ValidationError, prefix: tuple[str | int, ...]) -> InputError:
    err = exc.errors()[0]
    loc = tuple(part for part in err["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    return source.error((*prefix, *loc), plain_message(err))
