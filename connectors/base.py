"""The connector interface: what every provider package implements and what the engine relies on.

A connector *collects facts*; it never judges. It declares, as class attributes, its name, the
evidence kinds it yields (each with the field that holds the item's stable id), the least privilege
it needs, and a pydantic settings model. ``collect()`` is a generator of :class:`EvidenceItem` and
:class:`CollectionError` records. Importing a connector module must not import its SDK, touch the
network or read the environment: the SDK is imported inside ``collect()`` via :func:`require`.

Errors:

* a failure that affects one evidence kind (a permission denial, a throttled region) is *yielded*
  as a ``CollectionError(kind, message)``; the engine marks that kind ``error`` and every check over
  it becomes ``error`` (unless an item fails), never ``pass``;
* an exception escaping ``collect()`` marks every kind of that connector as failed.

Never return an empty list for something that could not be read.
"""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict


class ConnectorSettings(BaseModel):
    """Base for every connector's settings: unknown keys are errors, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def scope(self) -> str:
        """A short, secret-free name of what these settings collect (an org, a tenant) for messages."""
        return ""


SettingsT = TypeVar("SettingsT", bound=ConnectorSettings)


@dataclass(frozen=True)
class EvidenceKind:
    """One kind of evidence a connector yields, e.g. ``aws.iam.user``.

    ``id_field`` names the field of ``data`` that holds the item's stable provider id (an ARN,
    ``org/repo``, a login). ``fields`` documents the fields checks may rely on (name -> meaning);
    it feeds ``annexa checks`` and the docs.

    ``raw`` names the provider object whose other fields the items keep as well (``"the REST API's
    repository object"``); empty when ``fields`` is the whole item. ``raw_members``, when the SDK can
    list that object's fields offline (botocore's service models), returns them; validation uses it
    only for a field ``fields`` does not document, so it costs nothing otherwise.
    """

    name: str
    id_field: str
    description: str
    fields: Mapping[str, str] = field(default_factory=dict)
    raw: str = ""
    raw_members: Callable[[], Iterable[str]] | None = field(default=None, compare=False)

    def may_have(self, top_level_field: str) -> bool | None:
        """Whether an item of this kind can carry ``top_level_field``: True, False, or None (the raw
        provider object's fields cannot be listed offline, so nobody can tell)."""
        declared = {f.split(".", 1)[0] for f in self.fields}
        if top_level_field in declared:
            return True
        if not self.raw:
            return False
        if self.raw_members is None:
            return None
        return top_level_field in set(self.raw_members())

    def documented(self) -> list[str]:
        """Top-level field names, for suggestions."""
        return sorted({f.split(".", 1)[0] for f in self.fields})


@dataclass
class EvidenceItem:
    """One resource's facts, as the provider returned them (raw fields kept), plus where it came from.

    ``unknown`` maps each top-level field that could not be read to the reason (a detail call that
    answered 500, a permission denial). Such a field is left out of ``data``: ``null`` is a fact in
    many kinds ("no protection", "no password policy") and must never stand for "could not read". The
    evaluator turns every check that reads an unknown field into ``error`` for this item before any
    expression runs, whatever the expression would have said.
    """

    kind: str
    id: str
    data: dict[str, Any]
    collected_at: datetime | None = None  # set by the engine when the connector leaves it empty
    unknown: dict[str, str] = field(default_factory=dict)

    def mark_unknown(self, name: str, reason: str) -> None:
        """Record that top-level field ``name`` could not be read, and drop any value it had."""
        self.data.pop(name, None)
        self.unknown[name] = reason


@dataclass(frozen=True)
class CollectionError:
    """Something one evidence kind could not collect; ``kind`` must be one the connector declares.

    ``fields`` names the top-level fields of that kind's items the failure left unknown (a detail call
    joined onto its parent) and ``items`` the ids of the items concerned; those items also carry the
    fields in :attr:`EvidenceItem.unknown`. Only checks that read one of those fields become ``error``;
    ``fields=None`` means the whole kind is in doubt (a list that could not be read).
    """

    kind: str
    message: str
    fields: tuple[str, ...] | None = None
    items: tuple[str, ...] = ()


class ConnectorError(Exception):
    """Raised for a failure that stops the whole connector (bad credentials, unreachable endpoint)."""


class MissingSDKError(ConnectorError):
    """The provider SDK is not installed; the message names the extra to install."""


def require(module: str, extra: str) -> ModuleType:
    """Import an SDK module lazily, or fail with one line naming the pip extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingSDKError(
            f"the {extra} connector needs {module!r}, which is not installed: pip install 'annexa[{extra}]'"
        ) from exc


class ConnectorState:
    """Small persistent key/value memory of one connector across runs (ETags, cursors).

    Reads see what the last *published* run left; writes are kept in memory and persisted only when
    this run is published, so an interrupted run never leaves half-updated state behind.
    """

    def __init__(self, initial: Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = dict(initial or {})
        self._changed: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self._changed.get(key, self._values.get(key, default))

    def put(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under key (never a secret)."""
        self._changed[key] = value

    @property
    def changed(self) -> dict[str, Any]:
        return dict(self._changed)


@dataclass(frozen=True)
class PreviousRun:
    """The last published run that included this connector, for incremental collection."""

    run_id: str
    started_at: datetime
    connector_status: str  # ok | partial | error
    items: Callable[[str], Iterator[EvidenceItem]]  # kind -> that run's items of the kind


@dataclass
class CollectContext:
    """What the engine hands a connector for one run."""

    run_id: str
    started_at: datetime
    state: ConnectorState = field(default_factory=ConnectorState)
    previous: PreviousRun | None = None
    progress: Callable[[str], None] = lambda message: None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("annexa.connector"))
    api_calls: int = 0

    def count_call(self, n: int = 1) -> None:
        """Connectors report API calls made, so runs record their cost."""
        self.api_calls += n


class Connector(ABC, Generic[SettingsT]):
    """Base class of every connector: ``class XConnector(Connector[XSettings])`` fills in the ClassVars
    and ``collect``; ``self.settings`` is then typed as the connector's own settings model."""

    name: ClassVar[str]
    extra: ClassVar[str]  # the pip extra that installs the SDK, e.g. "aws"
    settings_model: ClassVar[type[ConnectorSettings]]
    evidence_kinds: ClassVar[tuple[EvidenceKind, ...]]
    permissions: ClassVar[tuple[str, ...]]  # least privilege, human readable; docs/<name>.md has details
    # Environment variables the SDK's credential chain reads whose *values* are secrets, and those that
    # name files holding secrets (a key file, a certificate). Their values are masked in everything
    # Annexa prints or stores, SDK exception text included.
    secret_env: ClassVar[tuple[str, ...]] = ()
    secret_file_env: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: SettingsT, context: CollectContext) -> None:
        self.settings: SettingsT = settings
        self.context = context

    @abstractmethod
    def collect(self) -> Iterator[EvidenceItem | CollectionError]:
        """Yield every evidence item (all pages) and a CollectionError for each kind that failed."""

    @classmethod
    def label(cls, settings: ConnectorSettings) -> str:
        """``name:scope`` of one configured entry, for progress lines and error messages."""
        scope = settings.scope()
        return f"{cls.name}:{scope}" if scope else cls.name

    @classmethod
    def simulated_estate(cls, now: datetime) -> Iterator[EvidenceItem | CollectionError]:
        """The built-in demo estate: the same kinds and shapes ``collect`` yields, with no network."""
        return iter(())

    @classmethod
    def kind_names(cls) -> frozenset[str]:
        return frozenset(kind.name for kind in cls.evidence_kinds)
