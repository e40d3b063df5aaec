"""The evidence store: the only module that speaks SQL (sqlite-utils 4, WAL, migrations).

Layout, chosen so that daily snapshots of a stable estate cost almost nothing:

* ``blobs``: evidence bodies, content-addressed by the SHA-256 of their canonical JSON;
* ``evidence`` and ``findings``: validity intervals over published run sequence numbers. An item
  (or a finding) unchanged since the previous run keeps its open interval; only changes add rows;
* ``runs``, ``connector_runs``, ``check_runs``: one small row each per run;
* ``connector_state``: per-connector memory across runs (ETags, cursors), never secrets;
* ``seals``: one hash-chained seal per published run, written in the publishing transaction
  (collector/seal.py, docs/verify.md).

A run is written while ``status = 'running'`` and gets its sequence number, intervals and results in
one final transaction (:meth:`Store.publish`); readers only ever see published runs. One writer at a
time is enforced by an OS file lock beside the database, released by the OS if the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

from sqlite_utils import Database, Migrations

from .seal import CHECK_FIELDS, RunRecords, canonical_json, content_hash
from .seal import parts as seal_parts
from .seal import seal as compute_seal
from .timeutil import iso, utcnow

if TYPE_CHECKING:
    from .signing import Signer

BUSY_TIMEOUT_MS = 60_000
_BODY_BATCH = 500  # bodies read per query: far below SQLite's bound-parameter limit
_STAGED_EVIDENCE = ("staged_evidence", ("kind", "item_id", "connector", "hash", "collected_at", "unknown"))
_STAGED_FINDINGS = ("staged_findings", ("check_id", "resource", "status", "message", "hash"))


def _valid_at(alias: str = "") -> str:
    """The rows (of ``alias``) whose validity interval holds the run with sequence number ? (given twice)."""
    t = f"{alias}." if alias else ""
    return f"{t}valid_from <= ? and ({t}valid_to is null or {t}valid_to > ?)"


# A run's findings (f), each with the evidence item (e) of the check's kind (?) it judged: seq, seq, then
# the caller's conditions on f.
_JUDGED_FROM = f"from findings f left join evidence e on e.kind = ? and e.item_id = f.resource and {_valid_at('e')}"
_FINDINGS_AT = f"select check_id, resource, status, message, hash from findings where {_valid_at()}"
PUBLISHED = ("complete", "partial")
# The store's mark (PRAGMA application_id, "ANXA"): a file without it is another program's database.
APPLICATION_ID = 0x414E5841
_SQLITE_MAGIC = b"SQLite format 3\x00"
RECOVERY_HINT = (
    "restore the latest backup (`annexa backup`), or salvage it with `sqlite3 FILE .recover` "
    "(README: Recovering a damaged store)"
)

migrations = Migrations("annexa")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("runs").create(
        {
            "id": str,
            "seq": int,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "tool_version": str,
            "config_digest": str,
            "organization": str,
            "connectors": str,
            "pid": int,
            "error": str,
            "summary": str,
            "soa_excluded": str,
        },
        pk="id",
    )
    db.table("runs").create_index(["seq"], unique=True)
    db.table("connector_runs").create(
        {
            "run_id": str,
            "connector": str,
            "status": str,
            "errors": str,
            "kinds": str,
            "evidence_items": int,
            "api_calls": int,
            "duration_s": float,
        },
        pk=("run_id", "connector"),
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("blobs").create({"hash": str, "data": str}, pk="hash")
    db.table("evidence").create(
        {
            "kind": str,
            "item_id": str,
            "connector": str,
            "hash": str,
            "collected_at": str,
            "valid_from": int,
            "valid_to": int,
        }
    )
    db.table("evidence").create_index(["kind", "item_id"])
    db.table("evidence").create_index(["valid_to"])
    db.table("evidence").create_index(["valid_from"])
    db.table("check_runs").create(
        {
            "run_id": str,
            "check_id": str,
            "connector": str,
            "evidence": str,
            "title": str,
            "severity": str,
            "controls": str,
            "remediation": str,
            "status": str,
            "counts": str,
            "errors": str,
        },
        pk=("run_id", "check_id"),
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("findings").create(
        {
            "check_id": str,
            "resource": str,
            "status": str,
            "message": str,
            "hash": str,
            "valid_from": int,
            "valid_to": int,
        }
    )
    db.table("findings").create_index(["check_id", "resource"])
    db.table("findings").create_index(["valid_to"])
    db.table("findings").create_index(["valid_from"])
    db.table("connector_state").create({"connector": str, "key": str, "value": str}, pk=("connector", "key"))
    # Room for evidence no connector can collect (a policy PDF, a training record), kept per control.
    db.table("manual_evidence").create(
        {
            "id": str,
            "control_id": str,
            "title": str,
            "sha256": str,
            "valid_from": str,
            "valid_until": str,
            "added_at": str,
        },
        pk="id",
    )


@migrations()
def m002_unknown_facts(db: Database) -> None:
    # Which fields of an item could not be read (JSON object field -> reason); null when all were read.
    db.table("evidence").add_column("unknown", str)


@migrations()
def m003_manual_evidence_register(db: Database) -> None:
    # The placeholder table of m001 was never written to; the register replaces it.
    db.table("manual_evidence").drop(ignore=True)
    # File bytes, content-addressed: the same document registered twice is stored once.
    db.table("documents").create({"sha256": str, "size": int, "data": bytes}, pk="sha256")
    db.table("manual_evidence").create(
        {
            "id": str,
            "title": str,
            "source": str,  # cli | config
            "location": str,  # the file name as given, or the URL
            "sha256": str,  # null for a link
            "size": int,
            "controls": str,  # JSON lists
            "clauses": str,
            "owner": str,
            "date": str,  # the document's own date (YYYY-MM-DD)
            "valid_until": str,
            "review_every": str,  # e.g. 12m
            "added_at": str,
            "retired_at": str,
            "retire_reason": str,
        },
        pk="id",
    )
    db.table("manual_evidence_history").create(
        {"evidence_id": str, "at": str, "action": str, "sha256": str, "detail": str}
    )
    db.table("manual_evidence_history").create_index(["evidence_id"])


@migrations()
def m004_sealed_runs(db: Database) -> None:
    # One seal per published run, chained (docs/verify.md). Runs published before sealing existed are
    # sealed here, once, and marked so: their seal proves nothing changed after this moment, not before.
    db.table("seals").create(
        {
            "run_id": str,
            "seq": int,
            "seal": str,
            "previous": str,
            "parts": str,
            "sealed_at": str,
            "after_the_fact": int,
            "signature": str,
            "key_id": str,
        },
        pk="run_id",
    )
    db.table("seals").create_index(["seq"], unique=True)
    sealed_at = iso(utcnow())
    for row in db.query(f"select id, seq from runs where status in {PUBLISHED} and seq is not null order by seq"):
        _seal_run(db, row["id"], None, sealed_at=sealed_at, after_the_fact=True)


@migrations()
def m005_pushes(db: Database) -> None:
    # What was pushed where (`annexa export ciso-assistant`): not part of any run or seal, so a failed
    # push never touches the stored run; `annexa health` reads the latest outcome per target.
    db.table("pushes").create(
        {"target": str, "run_id": str, "at": str, "ok": int, "message": str, "detail": str}, pk=None
    )
    db.table("pushes").create_index(["target", "at"])


@migrations()
def m006_mapping_strength(db: Database) -> None:
    # Which of a check's controls it only supports (CONTRACT §4 `strength`); null for older runs (all primary).
    db.table("check_runs").add_column("supporting", str)


SCHEMA_VERSION = len(migrations._migrations)  # PRAGMA user_version of a store this release wrote


class StoreError(Exception):
    """The store cannot be used as asked (not a database, foreign, newer, damaged, vanished): one line."""


class StoreDamaged(StoreError):
    """The store's file is not a sound SQLite database (garbage, truncated, corrupt pages)."""


class StoreBusyError(Exception):
    """Another process holds the store's write lock and this one was asked not to wait."""


class NoRunError(LookupError):
    pass


@dataclass
class StagedItem:
    kind: str
    item_id: str
    connector: str
    hash: str
    collected_at: str
    unknown: dict[str, str] = field(default_factory=dict)  # fields that could not be read -> why


@dataclass
class StagedFinding:
    check_id: str
    resource: str
    status: str
    message: str
    hash: str | None


@dataclass
class ConnectorRunRecord:
    connector: str
    status: str
    errors: list[str]
    kinds: dict[str, dict[str, Any]]
    evidence_items: int
    api_calls: int
    duration_s: float


@dataclass
class CheckRunRecord:
    check_id: str
    connector: str
    evidence: str
    title: str
    severity: str
    controls: list[str]
    remediation: str
    status: str
    counts: dict[str, int]
    errors: list[str]
    supporting: list[str] = field(default_factory=list)  # the controls among `controls` it only supports


@dataclass
class Publication:
    """A run's results; its items and findings are the ones staged (``stage_items``, ``stage_findings``)."""

    status: str
    connector_runs: list[ConnectorRunRecord]
    check_runs: list[CheckRunRecord]
    summary: dict[str, Any]
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    finished_at: str | None = None  # default: now; a replayed run (the demo's backfill) gives its own


def _connect(path: Path, *, readonly: bool = False) -> Database:
    if readonly:
        # A WAL database in a read-only directory cannot create its -shm file: ``immutable`` reads it
        # without one, which is safe because nobody can write there either.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        try:
            conn.execute("select count(*) from sqlite_master").fetchone()
        except sqlite3.OperationalError:
            conn.close()
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return Database(conn)


def inspect_file(path: Path) -> bool:
    """Does a store exist at ``path``? Refuses, before SQLite touches it, what cannot be one: a
    directory, a file that is not SQLite (garbage in the header), a truncated file."""
    if path.is_dir():
        raise StoreError(f"the store path {path} is a directory: set `store:` to a file, e.g. {path / 'annexa.db'}")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"cannot read the evidence store {path}: {exc.strerror}") from None
    if size == 0:
        return False
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise StoreDamaged(
            f"{path} is not an Annexa evidence store: file is not a database (its header is damaged or it is "
            f"another kind of file); {RECOVERY_HINT}"
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    header_size_valid = header[92:96] == header[24:28]
    wal = path.with_name(path.name + "-wal")
    if header_size_valid and pages and size < pages * page_size and not wal.exists():
        raise StoreDamaged(
            f"the evidence store {path} is truncated ({size} of {pages * page_size} bytes); {RECOVERY_HINT}"
        )
    return True


def _check_mark(path: Path, db: Database) -> None:
    """Refuse a foreign database or one written by a newer Annexa; a store from before the mark passes.

    Read through SQLite's pragmas (reads only): in WAL mode the header on disk may be older than the
    committed database, so the file's bytes alone cannot tell.
    """
    application_id = int(db.execute("PRAGMA application_id").fetchone()[0])
    user_version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if application_id == APPLICATION_ID:
        if user_version > SCHEMA_VERSION:
            raise _newer(path, f"schema {user_version}; this release knows {SCHEMA_VERSION}")
    elif application_id != 0:
        raise _foreign(path)
    else:
        tables = {r[0] for r in db.execute("select name from sqlite_master where type = 'table'")}
        if tables and not _applied_migrations(db):
            raise _foreign(path)
    known = {m.name for m in migrations._migrations}
    unknown = sorted(set(_applied_migrations(db)) - known)
    if unknown:
        raise _newer(path, f"migration {unknown[0]} is unknown to this release")


def _applied_migrations(db: Database) -> list[str]:
    if not db.table(Migrations.migrations_table).exists():
        return []
    rows = db.execute(f"select name from {Migrations.migrations_table} where migration_set = ?", [migrations.name])
    return [r[0] for r in rows]


def _writable(path: Path) -> bool:
    """Can this process write the store (and the -wal/-shm files beside it)?"""
    directory = path.parent if path.parent != Path("") else Path(".")
    if path.exists() and not os.access(path, os.W_OK):
        return False
    return os.access(directory, os.W_OK) if directory.exists() else True


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def damaged(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    """One line for an SQLite failure on the store, saying what it means for the user's data."""
    text = str(exc)
    if "full" in text:
        return StoreError(
            f"the disk holding the evidence store {path} is full ({text}); this run was not published and "
            "earlier runs are unchanged: free some space and run again"
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the evidence store {path} is read-only ({text}): runs need write access")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreDamaged(f"the evidence store {path} is damaged ({text}); {RECOVERY_HINT}")
    return StoreError(f"the evidence store {path} could not be used ({text}); {RECOVERY_HINT}")


def _foreign(path: Path) -> StoreError:
    return StoreError(
        f"{path} is an SQLite database of another program, not an Annexa evidence store; it was not modified "
        "(point `store:` at a new file)"
    )


def _newer(path: Path, detail: str) -> StoreError:
    return StoreError(
        f"the evidence store {path} was written by a newer version of Annexa ({detail}); it was not modified: "
        "upgrade Annexa to read or write it"
    )


class Store:
    """Read access for everyone; write access (``begin_run`` … ``publish``) under the write lock."""

    last_path: ClassVar[Path | None] = None  # for one-line messages about SQLite errors met while reading

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        Store.last_path = path
        exists = inspect_file(path)
        if not create and not exists:
            raise NoRunError(f"no evidence store at {path} yet: run `annexa run` first")
        self.readonly = not create and not _writable(path)
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the directory of the evidence store {path}: {exc.strerror}") from None
            if not _writable(path):
                raise StoreError(f"the evidence store {path} is not writable (read-only file or file system)")
        self._lock_file: TextIO | None = None
        try:
            self.db = _connect(path, readonly=self.readonly)
            _check_mark(path, self.db)
        except sqlite3.DatabaseError as exc:
            raise damaged(path, exc) from None
        except StoreError:
            self.db.close()
            raise
        self._identity = _identity(path)
        if not create and not self.db.table("runs").exists():
            self.db.close()
            raise NoRunError(f"the evidence store at {path} has no runs yet: run `annexa run` first")
        self._has_unknown = "unknown" in self.db.table("evidence").columns_dict if not create else True

    def close(self) -> None:
        self.release_lock()
        self.db.close()

    @property
    def seq_of_latest(self) -> int:
        row = self.db.execute("select coalesce(max(seq), 0) from runs").fetchone()
        return int(row[0])

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the write lock -------------------------------------------------------------------------

    def acquire_lock(self, wait: bool = True) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        handle = open(lock_path, "a+")  # noqa: SIM115 - held open for the whole run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.close()
            raise StoreBusyError(f"another annexa run is writing to {self.path}; try again later") from None
        self._lock_file = handle
        try:
            # A damaged store is refused before this run writes into it (readers report what they hit).
            problem = self.db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if problem != "ok":
                raise StoreDamaged(f"the evidence store {self.path} is damaged ({problem}); {RECOVERY_HINT}")
            # Schema changes happen only under the write lock, so two new processes never race on them.
            if self.db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self.db.enable_wal()
            migrations.apply(self.db)
            self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._has_unknown = True
            self._fail_abandoned_runs()
        except sqlite3.DatabaseError as exc:
            self.release_lock()
            raise damaged(self.path, exc) from None
        except StoreError:
            self.release_lock()
            raise

    def release_lock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _fail_abandoned_runs(self) -> None:
        # Holding the lock proves no other process is writing: a run still marked running was abandoned.
        self.db.execute(
            "update runs set status = 'failed', finished_at = coalesce(finished_at, ?), "
            "error = coalesce(error, 'interrupted: the process ended before the run completed') "
            "where status = 'running'",
            [iso(utcnow())],
        )

    # -- writing a run ---------------------------------------------------------------------------

    def begin_run(
        self,
        run_id: str,
        started_at: str,
        version: str,
        digest: str,
        organization: str,
        connectors: Sequence[str],
        excluded: Mapping[str, str] | None = None,
    ) -> None:
        self._require_lock()
        self.db.table("runs").insert(
            {
                "id": run_id,
                "seq": None,
                "started_at": started_at,
                "finished_at": None,
                "status": "running",
                "tool_version": version,
                "config_digest": digest,
                "organization": organization,
                "connectors": json.dumps(list(connectors)),
                "pid": os.getpid(),
                "error": None,
                "summary": None,
                "soa_excluded": json.dumps(dict(excluded or {})),
            }
        )

    def put_blobs(self, bodies: Iterable[tuple[str, str]]) -> None:
        """Content-addressed bodies may be written before publishing: unreferenced ones are harmless."""
        self._require_lock()
        with self.db.atomic():
            self.db.conn.executemany("insert or ignore into blobs (hash, data) values (?, ?)", list(bodies))

    def bodies(self, hashes: Iterable[str]) -> Iterator[tuple[str, Any]]:
        """Stored evidence bodies by content hash, parsed, in batches: a run evaluates one evidence kind at
        a time from here instead of holding every item it collected."""
        wanted = list(dict.fromkeys(hashes))
        for start in range(0, len(wanted), _BODY_BATCH):
            batch = wanted[start : start + _BODY_BATCH]
            marks = ", ".join("?" * len(batch))
            for hash_, data in self.db.execute(f"select hash, data from blobs where hash in ({marks})", batch):
                yield hash_, json.loads(data)

    def fail_run(self, run_id: str, error: str) -> None:
        """Record the run failed; best effort, because the failure may be the store itself (disk full).
        A run left ``running`` is shown as interrupted and marked failed by the next writer."""
        with contextlib.suppress(sqlite3.DatabaseError):
            self.db.execute(
                "update runs set status = 'failed', finished_at = ?, error = ? where id = ? and status = 'running'",
                [iso(utcnow()), error, run_id],
            )

    def publish(self, run_id: str, pub: Publication, signer: Signer | None = None) -> int:
        """Make the run visible: sequence number, intervals, results, state and the run's seal (signed
        when a ``signer`` is given) in one transaction."""
        self._require_lock()
        with self.db.atomic():
            row = self.db.execute("select coalesce(max(seq), 0) + 1 from runs").fetchone()
            seq = int(row[0])
            self._advance_intervals("evidence", _STAGED_EVIDENCE, ("kind", "item_id"), ("hash", "unknown"), seq)
            self._advance_intervals(
                "findings", _STAGED_FINDINGS, ("check_id", "resource"), ("status", "message", "hash"), seq
            )
            self.db.table("connector_runs").insert_all(
                [{"run_id": run_id, **_encode(c.__dict__, ("errors", "kinds"))} for c in pub.connector_runs]
            )
            self.db.table("check_runs").insert_all(
                [
                    {"run_id": run_id, **_encode(c.__dict__, ("controls", "counts", "errors", "supporting"))}
                    for c in pub.check_runs
                ]
            )
            for connector, values in pub.state.items():
                for key, value in values.items():
                    self.db.execute(
                        "insert into connector_state (connector, key, value) values (?, ?, ?) "
                        "on conflict (connector, key) do update set value = excluded.value",
                        [connector, key, json.dumps(value)],
                    )
            self.db.execute(
                "update runs set seq = ?, status = ?, finished_at = ?, summary = ? where id = ?",
                [seq, pub.status, pub.finished_at or iso(utcnow()), json.dumps(pub.summary), run_id],
            )
            _seal_run(self.db, run_id, signer, sealed_at=iso(utcnow()), after_the_fact=False)
            # SQLite keeps writing to a file that was deleted or replaced under it; publishing there
            # would print `complete` with nothing saved where the next reader looks.
            if _identity(self.path) != self._identity:
                raise StoreError(f"the store at {self.path} disappeared during the run: nothing was published")
        return seq

    def _advance_intervals(
        self,
        table: str,
        staged: tuple[str, tuple[str, ...]],
        key_cols: tuple[str, str],
        value_cols: tuple[str, ...],
        seq: int,
    ) -> None:
        """Open an interval for every staged row that is new or whose values changed, and close the open
        ones no longer current. SQL compares the two sides, so neither is held in memory (a run may
        have millions of rows)."""
        name, columns = staged
        # NULL-safe equality (IS): an unknown-fields column or a finding's hash may be NULL on both sides.
        same = " and ".join(f"t.{c} = s.{c}" for c in key_cols) + "".join(f" and t.{c} is s.{c}" for c in value_cols)
        self.db.execute(
            f"update {table} as t set valid_to = ? where t.valid_to is null and t.valid_from < ? "
            f"and not exists (select 1 from temp.{name} s where {same})",
            [seq, seq],
        )
        listed = ", ".join(columns)
        self.db.execute(
            f"insert into {table} ({listed}, valid_from) select {listed}, ? from temp.{name} s "
            f"where not exists (select 1 from {table} t where t.valid_to is null and {same}) order by s.rowid",
            [seq],
        )

    # -- staging: a run's items and findings, written as they come, published in one transaction ---

    def start_staging(self) -> None:
        """Empty staging tables for a new run (temporary: they belong to this connection and vanish with it)."""
        self._require_lock()
        for name, columns in (_STAGED_EVIDENCE, _STAGED_FINDINGS):
            self.db.execute(f"drop table if exists temp.{name}")
            self.db.execute(f"create temp table {name} ({', '.join(columns)})")
            self.db.execute(f"create unique index temp.{name}_key on {name} ({', '.join(columns[:2])})")

    def stage_items(self, items: Iterable[StagedItem], bodies: Iterable[tuple[str, str]] = ()) -> None:
        """Items (and the bodies they name) of the running run; an item staged twice keeps its last version."""
        self._require_lock()
        rows = [
            (i.kind, i.item_id, i.connector, i.hash, i.collected_at, canonical_json(i.unknown) if i.unknown else None)
            for i in items
        ]
        with self.db.atomic():
            self.db.conn.executemany("insert or ignore into blobs (hash, data) values (?, ?)", list(bodies))
            self.db.conn.executemany(
                f"insert or replace into temp.{_STAGED_EVIDENCE[0]} values (?, ?, ?, ?, ?, ?)", rows
            )

    def stage_findings(self, findings: Iterable[StagedFinding]) -> None:
        self._require_lock()
        rows = [(f.check_id, f.resource, f.status, f.message, f.hash) for f in findings]
        with self.db.atomic():
            self.db.conn.executemany(f"insert or replace into temp.{_STAGED_FINDINGS[0]} values (?, ?, ?, ?, ?)", rows)

    def staged_items(self, kind: str) -> list[StagedItem]:
        """One kind's staged items in the order they were collected."""
        rows = self.db.execute(
            f"select kind, item_id, connector, hash, collected_at, unknown from temp.{_STAGED_EVIDENCE[0]} "
            "where kind = ? order by rowid",
            [kind],
        )
        return [StagedItem(k, i, c, h, at, json.loads(u) if u else {}) for k, i, c, h, at, u in rows]

    def _require_lock(self) -> None:
        if self._lock_file is None:
            raise RuntimeError("the store's write lock is not held")

    # -- reading -----------------------------------------------------------------------------------

    def connector_state(self, connector: str) -> dict[str, Any]:
        return {
            r["key"]: json.loads(r["value"])
            for r in self.db.query("select key, value from connector_state where connector = ?", [connector])
        }

    def runs(self, include_unpublished: bool = True) -> list[dict[str, Any]]:
        """Newest first by the order runs began (one writer at a time makes that the publish order too),
        never by their clocks, which may be skewed."""
        where = "" if include_unpublished else f"where status in {PUBLISHED}"
        rows = list(self.db.query(f"select * from runs {where} order by rowid desc"))
        abandoned = any(r["status"] == "running" for r in rows) and not self.writer_active()
        for row in rows:
            _decode_run(row)
            if abandoned and row["status"] == "running":
                row["status"] = "interrupted"
                row["error"] = row["error"] or "interrupted: no process holds the store's write lock"
            row["connector_runs"] = self.connector_runs(row["id"])
        return rows

    def writer_active(self) -> bool:
        """Does some process hold the write lock now? (A `running` run without one was abandoned.)"""
        if self._lock_file is not None:
            return True
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            handle = open(lock_path)  # noqa: SIM115 - closed below
        except OSError:
            return False
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        else:
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False
        finally:
            handle.close()

    def integrity_problems(self, limit: int = 100) -> list[str]:
        """The full ``PRAGMA integrity_check``: an empty list means every page and index is sound."""
        try:
            rows = [r[0] for r in self.db.execute(f"PRAGMA integrity_check({int(limit)})")]
        except sqlite3.DatabaseError as exc:  # damage bad enough to stop the check itself
            return [str(exc)]
        return [] if rows == ["ok"] else rows

    def backup(self, destination: Path) -> None:
        """A consistent copy through SQLite's online backup API, safe while a run writes."""
        target = sqlite3.connect(str(destination))
        try:
            self.db.conn.backup(target, pages=1024)
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            target.close()

    def resolve_run(self, ref: str | None) -> dict[str, Any]:
        """A published run by id, ``latest`` or ``previous`` (None means latest)."""
        published = list(self.db.query(f"select * from runs where status in {PUBLISHED} order by seq desc limit 2"))
        if ref in (None, "latest"):
            if not published:
                raise NoRunError("no complete or partial run in the store yet: run `annexa run` first")
            row = published[0]
        elif ref == "previous":
            if len(published) < 2:
                raise NoRunError("there is no previous run: the store holds fewer than two published runs")
            row = published[1]
        else:
            found = list(self.db.query("select * from runs where id = ? or id like ?", [ref, f"{ref}%"]))
            if not found:
                raise NoRunError(f"no run with id {ref!r} (see `annexa runs`)")
            if len(found) > 1:
                raise NoRunError(f"run id prefix {ref!r} is ambiguous")
            row = found[0]
            if row["status"] not in PUBLISHED:
                raise NoRunError(f"run {row['id']} is {row['status']}: it has no snapshot to read")
        return _decode_run(row)

    def previous_run_with(self, connector: str) -> dict[str, Any] | None:
        rows = list(
            self.db.query(
                f"select r.id, r.seq, r.started_at, c.status from runs r join connector_runs c on c.run_id = r.id "
                f"where r.status in {PUBLISHED} and c.connector = ? order by r.seq desc limit 1",
                [connector],
            )
        )
        return rows[0] if rows else None

    def connector_runs(self, run_id: str) -> list[dict[str, Any]]:
        rows = list(self.db.query("select * from connector_runs where run_id = ? order by connector", [run_id]))
        for row in rows:
            row["errors"] = json.loads(row["errors"])
            row["kinds"] = json.loads(row["kinds"])
        return rows

    def check_runs(self, run_id: str) -> list[dict[str, Any]]:
        rows = list(self.db.query("select * from check_runs where run_id = ? order by check_id", [run_id]))
        for row in rows:
            for key in ("controls", "counts", "errors"):
                row[key] = json.loads(row[key])
            row["supporting"] = json.loads(row.get("supporting") or "[]")
        return rows

    def findings(self, seq: int, statuses: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        sql = _FINDINGS_AT
        params: list[Any] = [seq, seq]
        if statuses:
            sql += f" and status in ({', '.join('?' for _ in statuses)})"
            params.extend(statuses)
        yield from self.db.query(sql + " order by check_id, resource", params)

    def evidence(self, seq: int, kind: str | None = None, with_data: bool = False) -> Iterator[dict[str, Any]]:
        unknown = "e.unknown" if self._has_unknown else "null as unknown"
        columns = f"e.kind, e.item_id, e.connector, e.hash, e.collected_at, {unknown}" + (
            ", b.data" if with_data else ""
        )
        join = " join blobs b on b.hash = e.hash" if with_data else ""
        sql = f"select {columns} from evidence e{join} where {_valid_at('e')}"
        params: list[Any] = [seq, seq]
        if kind:
            sql += " and e.kind = ?"
            params.append(kind)
        for row in self.db.query(sql + " order by e.kind, e.item_id", params):
            row["unknown"] = json.loads(row["unknown"]) if row["unknown"] else {}
            if with_data:
                row["data"] = json.loads(row["data"])
            yield row

    # -- the manual evidence register ----------------------------------------------------------------

    def put_document(self, sha256: str, data: bytes) -> bool:
        """Store a document's bytes under their SHA-256; False when they were stored already."""
        self._require_lock()
        with self.db.atomic():
            cursor = self.db.execute(
                "insert or ignore into documents (sha256, size, data) values (?, ?, ?)", [sha256, len(data), data]
            )
        return cursor.rowcount == 1

    def document(self, sha256: str) -> bytes | None:
        row = self.db.execute("select data from documents where sha256 = ?", [sha256]).fetchone()
        return bytes(row[0]) if row else None

    def has_document(self, sha256: str) -> bool:
        return self.db.execute("select 1 from documents where sha256 = ?", [sha256]).fetchone() is not None

    def next_manual_id(self) -> str:
        row = self.db.execute("select count(*) from manual_evidence where source = 'cli'").fetchone()
        return f"ev-{int(row[0]) + 1:04d}"

    def save_manual_evidence(self, record: Mapping[str, Any], action: str, detail: str = "") -> None:
        """Insert or replace one register entry and append to its history, in one transaction."""
        self._require_lock()
        row = _encode(record, ("controls", "clauses"))
        with self.db.atomic():
            self.db.table("manual_evidence").upsert(row, pk="id")
            self.db.table("manual_evidence_history").insert(
                {
                    "evidence_id": record["id"],
                    "at": record.get("retired_at") if action == "retired" else iso(utcnow()),
                    "action": action,
                    "sha256": record.get("sha256"),
                    "detail": detail,
                }
            )

    def manual_evidence(self) -> list[dict[str, Any]]:
        table = self.db.table("manual_evidence")
        if not table.exists() or "source" not in table.columns_dict:
            return []  # a store from before the register, opened read-only
        rows = list(self.db.query("select * from manual_evidence order by id"))
        for row in rows:
            row["controls"] = json.loads(row["controls"] or "[]")
            row["clauses"] = json.loads(row["clauses"] or "[]")
        return rows

    def manual_history(self, evidence_id: str) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "select at, action, sha256, detail from manual_evidence_history where evidence_id = ? order by rowid",
                [evidence_id],
            )
        )

    # -- seals ---------------------------------------------------------------------------------------

    def has_seals(self) -> bool:
        return bool(self.db.table("seals").exists())

    def seals(self) -> list[dict[str, Any]]:
        """Every stored seal in sequence order, with ``parts`` decoded (a damaged one stays text)."""
        rows = list(self.db.query("select * from seals order by seq"))
        for row in rows:
            try:
                row["parts"] = json.loads(row["parts"])
            except (TypeError, ValueError):
                row["parts"] = {}
        return rows

    def record_push(self, target: str, run_id: str, ok: bool, message: str, detail: Mapping[str, Any]) -> None:
        """Under the write lock (migrations run there): the outcome of one push of a run to ``target``."""
        with self.db.conn:
            self.db.table("pushes").insert(
                {
                    "target": target,
                    "run_id": run_id,
                    "at": iso(utcnow()),
                    "ok": int(ok),
                    "message": message,
                    "detail": json.dumps(detail, sort_keys=True),
                }
            )

    def last_push(self, target: str) -> dict[str, Any] | None:
        if not self.db.table("pushes").exists():
            return None
        rows = list(
            self.db.query("select * from pushes where target = ? order by at desc, rowid desc limit 1", [target])
        )
        return rows[0] if rows else None

    def published_runs(self) -> list[dict[str, Any]]:
        """Published runs (id, seq, started_at) in sequence order."""
        return list(
            self.db.query(f"select id, seq, started_at, status from runs where status in {PUBLISHED} order by seq")
        )

    def reread(self, run_id: str) -> tuple[RunRecords, list[str]]:
        """A run's records with every evidence body and manual evidence file hashed again."""
        return run_records(self.db, run_id, rehash=True)

    def judged(self, seq: int, check_id: str, kind: str) -> Iterator[dict[str, Any]]:
        """Every finding of a check in a run with the evidence item it judged (body as stored text),
        streamed in resource order: what the auditor pack writes, without holding the run in memory."""
        unknown = "e.unknown" if self._has_unknown else "null"
        sql = (
            f"select f.resource, f.status, f.message, f.hash, e.item_id, e.connector, e.collected_at, {unknown} "
            f"as unknown, b.data {_JUDGED_FROM} left join blobs b on b.hash = e.hash "
            f"where f.check_id = ? and {_valid_at('f')} order by f.resource"
        )
        columns = ("resource", "status", "message", "hash", "item_id", "connector", "collected_at", "unknown", "data")
        for row in self.db.execute(sql, [kind, seq, seq, check_id, seq, seq]):
            yield dict(zip(columns, row, strict=True))

    def population(
        self, seq: int, check_id: str, kind: str, status: str | None = None, limit: int | None = None, offset: int = 0
    ) -> Iterator[dict[str, Any]]:
        """A check's judged resources in a run (resource order), each with the hash its verdict was
        computed on and when that evidence was collected: the gap report's population, streamed."""
        sql = (
            f"select f.resource, f.status, f.message, f.hash, e.hash, e.collected_at {_JUDGED_FROM} "
            f"where f.check_id = ? and {_valid_at('f')}"
        )
        params: list[Any] = [kind, seq, seq, check_id, seq, seq]
        if status is not None:
            sql += " and f.status = ?"
            params.append(status)
        sql += " order by f.resource"
        if limit is not None or offset:
            sql += " limit ? offset ?"
            params += [-1 if limit is None else limit, offset]
        for resource, state, message, finding_hash, item_hash, collected_at in self.db.execute(sql, params):
            yield {
                "resource": resource,
                "status": state,
                "message": message or "",
                "evidence_hash": finding_hash or item_hash,
                "collected_at": collected_at,
            }

    def population_statuses(self, seq: int, check_id: str) -> dict[str, int]:
        """Status -> how many of a check's findings in a run have it."""
        sql = f"select status, count(*) from findings where check_id = ? and {_valid_at()} group by status"
        return {status: int(n) for status, n in self.db.execute(sql, [check_id, seq, seq])}

    def blob(self, hash_: str) -> Any:
        rows = list(self.db.query("select data from blobs where hash = ?", [hash_]))
        return json.loads(rows[0]["data"]) if rows else None


def _decode_run(row: dict[str, Any]) -> dict[str, Any]:
    row["summary"] = json.loads(row["summary"]) if row["summary"] else None
    row["soa_excluded"] = json.loads(row["soa_excluded"] or "{}")
    return row


def _encode(record: Mapping[str, Any], json_keys: Sequence[str]) -> dict[str, Any]:
    return {k: (json.dumps(v) if k in json_keys else v) for k, v in record.items()}


# -- seals ---------------------------------------------------------------------------------------------


def run_records(db: Database, run_id: str, *, rehash: bool) -> tuple[RunRecords, list[str]]:
    """What a published run claims, read back for sealing; with ``rehash`` every evidence body and
    manual evidence file is hashed again (what ``verify`` does), and each mismatch is reported.

    Evidence and findings are read lazily, once, in the order ``seal.parts`` needs: the problems of
    evidence bodies are complete only after ``records.evidence`` was consumed."""
    problems: list[str] = []
    run = _decode_run(dict(next(db.query("select * from runs where id = ?", [run_id]))))
    seq = run["seq"]
    records = RunRecords(run=run)
    has_unknown = "unknown" in db.table("evidence").columns_dict
    unknown = "e.unknown" if has_unknown else "null"
    interval = _valid_at("e")
    # Publishing trusts the hashes it has just computed; only verify reads every body again.
    body, join = ("b.data", " left join blobs b on b.hash = e.hash") if rehash else ("null", "")

    def evidence() -> Iterator[tuple[str, str, str, Mapping[str, Any]]]:
        rows = db.execute(
            f"select e.kind, e.item_id, e.hash, {unknown}, {body} from evidence e{join} where {interval} "
            "order by e.kind, e.item_id",
            [seq, seq],
        )
        for kind, item_id, stored_hash, unknown_text, text in rows:
            sha = stored_hash
            if rehash:
                sha = content_hash(text) if text is not None else "(missing)"
                if sha != stored_hash:
                    what = "is missing" if text is None else "does not match the hash it was stored under"
                    problems.append(f"evidence {kind} {item_id}: the stored body {what}")
            yield kind, item_id, sha, json.loads(unknown_text) if unknown_text else {}

    records.evidence = evidence()
    manual = db.execute(
        f"select e.item_id, b.data from evidence e join blobs b on b.hash = e.hash "
        f"where e.kind = 'annexa.manual_evidence' and {interval} order by e.item_id",
        [seq, seq],
    )
    for item_id, manual_text in manual:
        declared = json.loads(manual_text).get("sha256")
        if declared:
            records.documents.append((item_id, _document_sha(db, item_id, declared, rehash, problems)))
    columns = list(CHECK_FIELDS)
    if "supporting" in db.table("check_runs").columns_dict:  # a read-only store from before m006 lacks it
        columns.append("supporting")
    checks = list(db.query(f"select {', '.join(columns)} from check_runs where run_id = ? order by check_id", [run_id]))
    for check in checks:
        for key in ("controls", "counts", "errors", "supporting"):
            if key in check:
                check[key] = json.loads(check[key]) if check[key] is not None else None
    records.checks = checks
    records.findings = db.query(_FINDINGS_AT + " order by check_id, resource", [seq, seq])
    return records, problems


def _document_sha(db: Database, item_id: str, declared: str, rehash: bool, problems: list[str]) -> str:
    if not rehash:
        return declared
    row = db.execute("select data from documents where sha256 = ?", [declared]).fetchone()
    if row is None:
        problems.append(f"manual evidence {item_id}: its file ({declared[:12]}…) is missing from the store")
        return "(missing)"
    actual = hashlib.sha256(bytes(row[0])).hexdigest()
    if actual != declared:
        problems.append(f"manual evidence {item_id}: the stored file was replaced (SHA-256 {actual[:12]}…)")
    return actual


def _seal_run(db: Database, run_id: str, signer: Signer | None, *, sealed_at: str, after_the_fact: bool) -> None:
    row = db.execute(
        "select seal from seals where seq = (select max(seq) from seals where seq < "
        "(select seq from runs where id = ?))",
        [run_id],
    ).fetchone()
    previous = row[0] if row else None
    records, _ = run_records(db, run_id, rehash=False)
    run_parts = seal_parts(records)
    value = compute_seal(run_parts, previous)
    signature, key_id = signer(value) if signer else (None, None)
    db.table("seals").insert(
        {
            "run_id": run_id,
            "seq": records.run["seq"],
            "seal": value,
            "previous": previous,
            "parts": canonical_json(run_parts),
            "sealed_at": sealed_at,
            "after_the_fact": int(after_the_fact),
            "signature": signature,
            "key_id": key_id,
        }
    )
