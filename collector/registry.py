"""Connector discovery through the ``annexa.connectors`` entry-point group.

Only names are read at start-up; a connector class is imported when a configuration or a mapping
needs it. Connector modules import their SDKs lazily, so loading a class stays cheap.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib.metadata import EntryPoint, entry_points

from connectors.base import Connector, EvidenceKind

GROUP = "annexa.connectors"
_registered: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> None:
    """Register a connector class directly (tests, embedding); entry points stay the normal way."""
    _registered[cls.name] = cls
    load_connector.cache_clear()


def unregister(name: str) -> None:
    _registered.pop(name, None)
    load_connector.cache_clear()


class UnknownConnectorError(LookupError):
    pass


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def connector_names() -> list[str]:
    return sorted(set(_entry_points()) | set(_registered))


@cache
def load_connector(name: str) -> type[Connector]:
    if name in _registered:
        return _registered[name]
    try:
        ep = _entry_points()[name]
    except KeyError:
        raise UnknownConnectorError(name) from None
    cls = ep.load()
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise TypeError(f"entry point {name} = {ep.value} is not a Connector subclass")
    return cls


load_failures: dict[str, str] = {}


def available_connectors() -> dict[str, type[Connector]]:
    """Every installed connector whose module imports; a broken plugin does not hide the others.

    Why one failed is kept in ``load_failures``, so that errors about its evidence kinds can say so.
    """
    out = {}
    for name in connector_names():
        try:
            out[name] = load_connector(name)
        except (ImportError, AttributeError, TypeError) as exc:
            load_failures[name] = f"{type(exc).__name__}: {exc}"
    return out


class KindOwners(dict[str, str]):
    """Evidence kind -> the connector that declares it; ``declared`` holds each kind's declaration
    (its documented fields, and whether items keep raw provider fields beyond them)."""

    def __init__(self) -> None:
        super().__init__()
        self.declared: dict[str, EvidenceKind] = {}


def evidence_kinds(connectors: dict[str, type[Connector]] | None = None) -> KindOwners:
    """Evidence kind -> the connector that declares it, with each kind's declaration."""
    out = KindOwners()
    for name, cls in (connectors or available_connectors()).items():
        for kind in cls.evidence_kinds:
            out[kind.name] = name
            out.declared[kind.name] = kind
    return out
