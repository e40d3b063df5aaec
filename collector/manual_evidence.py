"""The declarative register: ``manual_evidence:`` in annexa.yaml, for ISMS documents kept in git.

Each run re-reads and re-hashes every declared file and records it as an evidence item of the built-in
kind ``annexa.manual_evidence`` (so a changed policy shows in ``annexa diff`` like any other change);
the file's bytes go into the store content-addressed, beside those ``annexa evidence add`` registers.
A declared file that cannot be read is an error for that entry, with the entry kept and marked, never
dropped: the run is partial and the control shows the evidence as missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from connectors.base import CollectContext, CollectionError, EvidenceItem

from .pydantic_errors import plain_message
from .register import DEFAULT_MAX_SIZE, MANUAL_KIND, human_size, parse_period, unknown_clause, unknown_control
from .runner import CollectorPlan
from .store import Store
from .yamlload import InputError, LoadedYaml, load_yaml

KIND = MANUAL_KIND
PLAN_NAME = "manual"


class DeclaredEvidence(BaseModel):
    """One ``manual_evidence:`` entry: a file (relative to the file declaring it) or a link."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    path: str | None = None
    url: str | None = None
    title: str
    controls: list[str] = []
    clauses: list[str] = []
    owner: str | None = None
    date: dt.date | None = None
    valid_until: dt.date | None = None
    review_every: str | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("review_every")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_period(value)
            except InputError:
                raise ValueError(f"{value!r} is not a review period (e.g. 30d, 6w, 12m, 1y)") from None
        return value

    @field_validator("controls", "clauses", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("controls")
    @classmethod
    def _controls(cls, value: list[str]) -> list[str]:
        if problem := unknown_control(value):
            raise ValueError(problem)
        return value

    @field_validator("clauses")
    @classmethod
    def _clauses(cls, value: list[str]) -> list[str]:
        if problem := unknown_clause(value):
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DeclaredEvidence:
        if (self.path is None) == (self.url is None):
            raise ValueError("give either path: or url:")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url {self.url!r} is not an http(s) URL")
        if self.valid_until and self.review_every:
            raise ValueError("give either valid_until: or review_every:, not both")
        if not self.controls and not self.clauses:
            raise ValueError("name at least one of controls: (e.g. [A.5.1]) or clauses: (e.g. ['9.2'])")
        return self

    @property
    def entry_id(self) -> str:
        return self.id or self.path or self.url or ""


@dataclass
class Declared:
    entry: DeclaredEvidence
    base: Path  # the directory of the file that declared it

    @property
    def file(self) -> Path | None:
        return (self.base / self.entry.path) if self.entry.path else None


def declared_entries(source: LoadedYaml, raw: Any, base: Path) -> list[Declared]:
    """Validate ``manual_evidence:`` (a list, or the name of a YAML file holding one), naming file and line."""
    path: tuple[str | int, ...] = ("manual_evidence",)
    if isinstance(raw, str):
        file = base / raw
        source = load_yaml(file)
        base, path = file.resolve().parent, ()
        raw = source.data.get("manual_evidence") if isinstance(source.data, dict) else source.data
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise source.error(path, "must be a list of entries (path: or url:, title:, controls:), or a file name")
    out: list[Declared] = []
    seen: dict[str, int] = {}
    for i, one in enumerate(raw):
        try:
            entry = DeclaredEvidence.model_validate(one)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            raise source.error((*path, i, *loc), plain_message(err)) from None
        if entry.entry_id in seen:
            raise source.error((*path, i), f"duplicate entry {entry.entry_id!r} (first at item {seen[entry.entry_id]})")
        seen[entry.entry_id] = i
        out.append(Declared(entry, base))
    return out


@dataclass
class ManualCollector:
    """The built-in "manual" collector of a run: hashes declared files, keeps their paths for the store."""

    declared: list[Declared]
    max_size: int = DEFAULT_MAX_SIZE
    documents: dict[str, Path] = field(default_factory=dict)  # sha256 -> file, stored after collection

    def collect(self, context: CollectContext) -> Iterator[EvidenceItem | CollectionError]:
        for one in self.declared:
            entry = one.entry
            data: dict[str, Any] = {
                "title": entry.title,
                "location": entry.path or entry.url,
                "controls": list(dict.fromkeys(entry.controls)),
                "clauses": list(dict.fromkeys(entry.clauses)),
                "owner": entry.owner,
                "date": entry.date.isoformat() if entry.date else None,
                "valid_until": entry.valid_until.isoformat() if entry.valid_until else None,
                "review_every": entry.review_every,
                "sha256": None,
                "size": None,
            }
            item = EvidenceItem(KIND, entry.entry_id, data)
            file = one.file
            if file is not None:
                try:
                    data["sha256"], data["size"] = _hash_file(file, self.max_size)
                    self.documents[data["sha256"]] = file
                except OSError as exc:
                    reason = f"{file}: {exc.strerror or exc}"
                    item.mark_unknown("sha256", reason)
                    yield CollectionError(KIND, f"{entry.entry_id}: {reason}", fields=("sha256",), items=(item.id,))
            yield item

    def store_documents(self, store: Store) -> None:
        """Copy the bytes of declared files the store does not hold yet (unchanged files cost nothing)."""
        for sha256, file in self.documents.items():
            if store.has_document(sha256):
                continue
            try:
                data = file.read_bytes()
            except OSError:
                continue  # it vanished after hashing: the item keeps its hash, `evidence export` will say so
            if hashlib.sha256(data).hexdigest() == sha256:  # not rewritten since it was hashed
                store.put_document(sha256, data)


class _TooLarge(OSError):
    pass


def _hash_file(file: Path, max_size: int) -> tuple[str, int]:
    if file.is_dir():
        raise IsADirectoryError(21, "is a directory, not a file")
    digest, size = hashlib.sha256(), 0
    with file.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            size += len(chunk)
            if size > max_size:
                raise _TooLarge(27, f"over the size limit of {human_size(max_size)}")
            digest.update(chunk)
    return digest.hexdigest(), size


def manual_plan(declared: list[Declared]) -> CollectorPlan | None:
    if not declared:
        return None
    collector = ManualCollector(declared)
    return CollectorPlan(
        PLAN_NAME,
        PLAN_NAME,
        frozenset({KIND}),
        collector.collect,
        after_collect=collector.store_documents,
        counts_as_connector=False,
    )
