"""The manual evidence register: documents and links no connector can collect, per control or clause.

A file is copied into the store content-addressed by SHA-256 (table ``documents``: the store stays
one file), so registering the same bytes twice stores them once. An entry is never deleted: `retire`
takes it out of current evidence and keeps its history. Validity: an entry with ``valid_until`` (or
its date plus ``review_every``) in the past is *expired* and never counts as current; one that expires
within the warning window (30 days unless configured) is *expiring*.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .catalog import clause_ids, control_ids
from .store import Store
from .timeutil import iso, parse_iso, utcnow
from .yamlload import InputError

DEFAULT_MAX_SIZE = 50 * 1024 * 1024
DEFAULT_WARN_DAYS = 30
_PERIOD = re.compile(r"^(\d+)\s*([dwmy])$")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3}
CURRENT, EXPIRING, EXPIRED, RETIRED, MISSING = "current", "expiring", "expired", "retired", "missing"
MANUAL_KIND = "annexa.manual_evidence"  # the evidence kind a run records `manual_evidence:` entries as


def parse_period(text: str, where: str = "--review-every") -> tuple[int, str]:
    """``12m`` -> (12, "m"): days, weeks, months or years."""
    match = _PERIOD.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise InputError(where, None, "", f"{text!r} is not a review period (e.g. 30d, 6w, 12m, 1y)")
    return int(match.group(1)), match.group(2)


def add_period(start: date, period: tuple[int, str]) -> date:
    count, unit = period
    if unit == "d":
        return start + timedelta(days=count)
    if unit == "w":
        return start + timedelta(weeks=count)
    months = count * (12 if unit == "y" else 1)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def parse_day(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(where, None, "", f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_size(text: str, where: str = "--max-size") -> int:
    match = _SIZE.match(text.strip())
    if not match:
        raise InputError(where, None, "", f"{text!r} is not a size (e.g. 50MB, 200KB)")
    return int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])


def human_size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


@dataclass(frozen=True)
class Entry:
    """One register entry, as stored (``source`` cli) or declared in annexa.yaml (``source`` config)."""

    id: str
    title: str
    source: str
    location: str
    sha256: str | None
    size: int | None
    controls: tuple[str, ...]
    clauses: tuple[str, ...]
    owner: str | None = None
    date: str | None = None
    valid_until: str | None = None
    review_every: str | None = None
    added_at: str | None = None
    retired_at: str | None = None
    retire_reason: str | None = None
    problem: str | None = None  # a declared file that could not be read this run

    @property
    def is_link(self) -> bool:
        return self.sha256 is None and self.location.startswith(("http://", "https://"))

    def expires_on(self) -> dt.date | None:
        if self.valid_until:
            return date.fromisoformat(self.valid_until)
        if self.review_every:
            start = date.fromisoformat(self.date) if self.date else parse_iso(self.added_at or iso(utcnow())).date()
            return add_period(start, parse_period(self.review_every))
        return None

    def state(self, today: dt.date, warn_days: int = DEFAULT_WARN_DAYS) -> str:
        if self.problem:
            return MISSING
        if self.retired_at and parse_iso(self.retired_at).date() <= today:
            return RETIRED
        expires = self.expires_on()
        if expires is not None and expires < today:
            return EXPIRED
        if expires is not None and expires <= today + timedelta(days=warn_days):
            return EXPIRING
        return CURRENT

    def present_at(self, moment: datetime) -> bool:
        """Was the entry in the register (added, not yet retired) at ``moment``?"""
        if self.added_at and parse_iso(self.added_at) > moment:
            return False
        return not (self.retired_at and parse_iso(self.retired_at) <= moment)

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "location": self.location,
            "sha256": self.sha256,
            "size": self.size,
            "controls": list(self.controls),
            "clauses": list(self.clauses),
            "owner": self.owner,
            "date": self.date,
            "valid_until": self.valid_until,
            "review_every": self.review_every,
            "added_at": self.added_at,
            "retired_at": self.retired_at,
            "retire_reason": self.retire_reason,
        }

    def summary(self, today: dt.date, warn_days: int = DEFAULT_WARN_DAYS) -> dict[str, Any]:
        """The shape reports and listings show (issue #13: id, title, sha256, state, valid_until, owner)."""
        expires = self.expires_on()
        return {
            "id": self.id,
            "title": self.title,
            "sha256": self.sha256,
            "state": self.state(today, warn_days),
            "valid_until": expires.isoformat() if expires else None,
            "owner": self.owner,
            "location": self.location,
            "source": self.source,
            "controls": list(self.controls),
            "clauses": list(self.clauses),
        }


def entry_from_row(row: Mapping[str, Any]) -> Entry:
    return Entry(
        id=row["id"],
        title=row["title"],
        source=row["source"],
        location=row["location"],
        sha256=row["sha256"],
        size=row["size"],
        controls=tuple(row["controls"]),
        clauses=tuple(row["clauses"]),
        owner=row["owner"],
        date=row["date"],
        valid_until=row["valid_until"],
        review_every=row["review_every"],
        added_at=row["added_at"],
        retired_at=row["retired_at"],
        retire_reason=row["retire_reason"],
    )


def check_targets(controls: Sequence[str], clauses: Sequence[str], where: str = "--control") -> None:
    if not controls and not clauses:
        raise InputError(where, None, "", "name at least one --control (e.g. A.5.1) or --clause (e.g. 9.2)")
    if problem := unknown_control(controls):
        raise InputError("--control", None, "", problem)
    if problem := unknown_clause(clauses):
        raise InputError("--clause", None, "", problem)


def unknown_control(controls: Iterable[str]) -> str | None:
    known = control_ids()
    for control in controls:
        if control not in known:
            return f"{control!r} is not an Annex A control id (A.5.1 … A.8.34)"
    return None


def unknown_clause(clauses: Iterable[str]) -> str | None:
    known = clause_ids()
    for clause in clauses:
        if clause not in known:
            listed = ", ".join(sorted(known, key=lambda c: tuple(int(p) for p in c.split("."))))
            return f"{clause!r} is not an ISMS clause item (one of {listed})"
    return None


def read_document(path: Path, max_size: int) -> tuple[bytes, str]:
    """The file's bytes and SHA-256, refusing directories, unreadable files and files over ``max_size``."""
    if path.is_dir():
        raise InputError(path, None, "", "is a directory; register files one by one")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(path, None, "", "file not found") from None
    except OSError as exc:
        raise InputError(path, None, "", f"cannot read ({exc.strerror})") from None
    if not path.is_file():
        raise InputError(path, None, "", "is not a regular file")
    if size > max_size:
        raise InputError(
            path, None, "", f"is {human_size(size)}, over the limit of {human_size(max_size)} (--max-size)"
        )
    digest = hashlib.sha256()
    chunks = []
    read = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                read += len(chunk)
                if read > max_size:  # it grew while we read it
                    raise InputError(path, None, "", f"is over the limit of {human_size(max_size)} (--max-size)")
                chunks.append(chunk)
                digest.update(chunk)
    except OSError as exc:
        raise InputError(path, None, "", f"cannot read ({exc.strerror})") from None
    return b"".join(chunks), digest.hexdigest()


@dataclass
class Added:
    entry: Entry
    stored_new_bytes: bool
    shared_with: list[str] = field(default_factory=list)


@dataclass
class Pending:
    """A validated entry and its file's bytes, read before the store is opened (bad input writes nothing)."""

    entry: Entry
    data: bytes | None


def prepare_entry(
    *,
    path: Path | None,
    url: str | None,
    controls: Sequence[str],
    clauses: Sequence[str],
    title: str,
    owner: str | None = None,
    day: str | None = None,
    valid_until: str | None = None,
    review_every: str | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
) -> Pending:
    if (path is None) == (url is None):
        raise InputError("PATH", None, "", "give either a file PATH or --url URL")
    if valid_until and review_every:
        raise InputError("--valid-until", None, "", "give either --valid-until or --review-every, not both")
    check_targets(controls, clauses)
    if day:
        parse_day(day, "--date")
    if valid_until:
        parse_day(valid_until, "--valid-until")
    if review_every:
        parse_period(review_every)
    if not title.strip():
        raise InputError("--title", None, "", "must not be empty")
    data: bytes | None = None
    sha256: str | None = None
    if path is not None:
        data, sha256 = read_document(path, max_size)
        location = path.name
    else:
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError("--url", None, "", f"{url!r} is not an http(s) URL")
        location = url or ""
    entry = Entry(
        id="",
        title=title.strip(),
        source="cli",
        location=location,
        sha256=sha256,
        size=len(data) if data is not None else None,
        controls=tuple(dict.fromkeys(controls)),
        clauses=tuple(dict.fromkeys(clauses)),
        owner=owner,
        date=day,
        valid_until=valid_until,
        review_every=review_every,
    )
    return Pending(entry, data)


def add_entry(store: Store, pending: Pending) -> Added:
    """Register a prepared entry (the caller holds the store's write lock)."""
    stored = False
    shared: list[str] = []
    if pending.data is not None and pending.entry.sha256 is not None:
        shared = [row["id"] for row in store.manual_evidence() if row["sha256"] == pending.entry.sha256]
        stored = store.put_document(pending.entry.sha256, pending.data)
    entry = replace(pending.entry, id=store.next_manual_id(), added_at=iso(utcnow()))
    note = "new bytes" if stored else "bytes already stored" if entry.sha256 else "link"
    store.save_manual_evidence(entry.record(), "added", f"{entry.location} ({note})")
    return Added(entry, stored, shared)


def entries(store: Store) -> list[Entry]:
    return [entry_from_row(row) for row in store.manual_evidence()]


def find(store: Store, evidence_id: str) -> Entry:
    for entry in current_entries(store):
        if entry.id == evidence_id:
            return entry
    raise InputError("ID", None, "", f"no manual evidence with id {evidence_id!r} (see `annexa evidence list`)")


def retire(store: Store, evidence_id: str, reason: str) -> Entry:
    entry = find(store, evidence_id)
    if entry.source == "config":
        raise InputError(
            "ID", None, "", f"{evidence_id} is declared under manual_evidence: in annexa.yaml; remove it there"
        )
    if entry.retired_at:
        raise InputError("ID", None, "", f"{evidence_id} was already retired at {entry.retired_at}")
    if not reason.strip():
        raise InputError("--reason", None, "", "say why the evidence is retired")
    record = {**entry.record(), "retired_at": iso(utcnow()), "retire_reason": reason.strip()}
    store.save_manual_evidence(record, "retired", reason.strip())
    return entry_from_row(record)


def export(store: Store, evidence_id: str) -> tuple[Entry, bytes]:
    """The exact bytes of a file entry, verified against its SHA-256 on the way out."""
    entry = find(store, evidence_id)
    if entry.sha256 is None:
        raise InputError("ID", None, "", f"{evidence_id} is a link ({entry.location}), not a stored file")
    data = store.document(entry.sha256)
    if data is None or hashlib.sha256(data).hexdigest() != entry.sha256:
        raise InputError("ID", None, "", f"the stored bytes of {evidence_id} do not match its SHA-256 {entry.sha256}")
    return entry, data


def select(
    items: Iterable[Entry],
    *,
    control: str | None = None,
    clause: str | None = None,
    expiring_within: int | None = None,
    today: date,
) -> list[Entry]:
    out = []
    for entry in items:
        if control and control not in entry.controls:
            continue
        if clause and clause not in entry.clauses:
            continue
        if expiring_within is not None:
            expires = entry.expires_on()
            if entry.retired_at or expires is None or expires > today + timedelta(days=expiring_within):
                continue
        out.append(entry)
    return out


def declared_from_item(item_id: str, data: Mapping[str, Any], unknown: Mapping[str, str] | None) -> Entry:
    """A ``manual_evidence:`` entry as the run recorded it (an evidence item of kind annexa.manual_evidence)."""
    problem = (unknown or {}).get("sha256")
    return Entry(
        id=item_id,
        title=data.get("title") or item_id,
        source="config",
        location=data.get("location") or "",
        sha256=data.get("sha256"),
        size=data.get("size"),
        controls=tuple(data.get("controls") or ()),
        clauses=tuple(data.get("clauses") or ()),
        owner=data.get("owner"),
        date=data.get("date"),
        valid_until=data.get("valid_until"),
        review_every=data.get("review_every"),
        problem=problem,
    )


def entries_for_run(store: Store, run: Mapping[str, Any]) -> list[Entry]:
    """The register as it stood when ``run`` ran: ``evidence add`` entries present at its start (not retired
    before it) and the ``manual_evidence:`` entries the run itself read."""
    moment = parse_iso(run["started_at"])
    listed = [e for e in entries(store) if e.present_at(moment)]
    declared = [
        declared_from_item(row["item_id"], row["data"], row.get("unknown"))
        for row in store.evidence(int(run["seq"]), kind=MANUAL_KIND, with_data=True)
    ]
    return sorted(listed + declared, key=lambda e: (e.source, e.id))


def run_day(run: Mapping[str, Any]) -> date:
    """The day validity is judged on: the run's own clock, so a report of an old run says what it said then."""
    return parse_iso(run["started_at"]).date()


def by_target(
    items: Iterable[Entry], today: date, warn_days: int = DEFAULT_WARN_DAYS, *, clauses: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Control (or clause) id -> the summaries of the evidence registered for it, newest expiry first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in items:
        for target in entry.clauses if clauses else entry.controls:
            out.setdefault(target, []).append(entry.summary(today, warn_days))
    for listed in out.values():
        listed.sort(key=lambda s: (STATE_ORDER.index(s["state"]), s["id"]))
    return out


STATE_ORDER = (CURRENT, EXPIRING, EXPIRED, MISSING, RETIRED)
REPORTED_KEYS = ("id", "title", "sha256", "state", "valid_until", "owner")  # per item, in reports


def reported(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The keys a report shows of one evidence summary (``by_target``'s items)."""
    return {key: summary.get(key) for key in REPORTED_KEYS}


def evidence_state(summaries: Sequence[Mapping[str, Any]]) -> str:
    """One state for a control or clause: the best of its evidence (``current`` beats ``expiring`` beats
    ``expired``); ``missing`` when it has none that is current, expiring or expired."""
    states = {s["state"] for s in summaries}
    for state in (CURRENT, EXPIRING, EXPIRED):
        if state in states:
            return state
    return MISSING


def current_entries(store: Store) -> list[Entry]:
    """The register now: every ``evidence add`` entry, and the ``manual_evidence:`` entries as the latest
    published run read them (they are only read by runs)."""
    listed = entries(store)
    try:
        latest = store.resolve_run("latest")
    except LookupError:
        return listed
    declared = [e for e in entries_for_run(store, latest) if e.source == "config"]
    return sorted(listed + declared, key=lambda e: (e.source, e.id))
