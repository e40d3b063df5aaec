"""Seals: one SHA-256 per published run over everything it claims, chained to the run before it.

Pure: the store hands over a run's records and keeps the result. The serialisation is documented in
docs/verify.md and must never change for format ``annexa-seal/1`` (a new format gets a new name),
because a seal written today is recomputed years later by ``annexa verify``.

A seal is computed in two steps so that a mismatch can be located, not only detected:

* ``parts``: a digest of the run's metadata, one per evidence kind (over the sorted
  ``[item id, body SHA-256, unknown fields]`` of its items), one per check (its result and its sorted
  findings) and one over the manual evidence files (``[item id, file SHA-256]``);
* ``seal = sha256(canonical({"format", "parts", "previous"}))``, ``previous`` being the seal of the
  run published just before (``null`` for the first).

Every digest is the SHA-256 of the value's canonical JSON: keys sorted, no whitespace, UTF-8.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FORMAT = "annexa-seal/1"
# The run metadata a seal covers (the process id and an error text of a published run are not claims).
RUN_FIELDS = (
    "id",
    "seq",
    "started_at",
    "finished_at",
    "status",
    "tool_version",
    "config_digest",
    "organization",
    "connectors",
    "summary",
    "soa_excluded",
)
# The stored columns of one check result that a seal covers (run_id is implied by the run).
CHECK_FIELDS = (
    "check_id",
    "connector",
    "evidence",
    "title",
    "severity",
    "controls",
    "remediation",
    "status",
    "counts",
    "errors",
)
FINDING_FIELDS = ("resource", "status", "message", "hash")


def canonical_json(data: Any) -> str:
    """The one canonical serialisation: evidence bodies are stored and hashed in it, seals digest it."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest(value: Any) -> str:
    return content_hash(canonical_json(value))


@dataclass
class RunRecords:
    """What one published run claims, as the store holds it (JSON columns decoded). ``evidence`` and
    ``findings`` may be lazy: they are read once, in the store's order (see ``parts``)."""

    run: Mapping[str, Any]
    evidence: Iterable[tuple[str, str, str, Mapping[str, Any]]] = field(default_factory=list)  # kind, id, sha, unknown
    checks: list[dict[str, Any]] = field(default_factory=list)
    findings: Iterable[Mapping[str, Any]] = field(default_factory=list)  # with check_id
    documents: list[tuple[str, str]] = field(default_factory=list)  # manual evidence item id, file SHA-256


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_CHUNK = 2_000


class _SortedListDigest:
    """``digest(sorted(rows))`` fed one row at a time, for rows that arrive sorted by their first
    element: the same bytes are hashed, so a run's items and findings are never all held to seal it."""

    def __init__(self, prefix: bytes = b"") -> None:
        self._sha = hashlib.sha256(prefix + b"[")
        self._last: Any = None
        self._pending: list[list[Any]] = []
        self._empty = True

    def add(self, row: list[Any]) -> None:
        if self._last is not None and not self._last < row[0]:
            # The store's order must be sorted()'s, or the seal would differ from the documented one.
            raise ValueError(f"seal rows out of order: {row[0]!r} after {self._last!r}")
        self._last = row[0]
        self._pending.append(row)
        if len(self._pending) >= _CHUNK:
            self._drain()

    def _drain(self) -> None:
        if self._pending:
            # A chunk encoded as one list is its rows' canonical JSON joined by commas, brackets aside.
            text = _ENCODER.encode(self._pending)[1:-1]
            self._sha.update((text if self._empty else "," + text).encode("utf-8"))
            self._pending, self._empty = [], False

    def hexdigest(self, suffix: bytes = b"") -> str:
        self._drain()
        done = self._sha.copy()
        done.update(b"]" + suffix)
        return done.hexdigest()


def parts(records: RunRecords) -> dict[str, Any]:
    """``records.evidence`` sorted by (kind, item id) and ``records.findings`` by (check id, resource), as
    the store reads them; other orders raise ValueError rather than give a different seal."""
    kinds: dict[str, _SortedListDigest] = {}
    for kind, item_id, sha, unknown in records.evidence:
        kinds.setdefault(kind, _SortedListDigest()).add([item_id, sha, dict(unknown)])
    # A check's digest is digest({"findings": sorted rows, "result": ...}): canonical JSON sorts the
    # keys, so the findings list comes first and the result closes it.
    findings: dict[str, _SortedListDigest] = {}
    for finding in records.findings:
        findings.setdefault(str(finding["check_id"]), _SortedListDigest(b'{"findings":')).add(
            [finding[f] for f in FINDING_FIELDS]
        )

    def check_digest(check: Mapping[str, Any]) -> str:
        # Supporting links (CONTRACT §4 `strength`) join the result only where there are any, so the
        # seals of runs from before strengths existed stay as they were computed.
        result = [check.get(f) for f in CHECK_FIELDS] + ([check["supporting"]] if check.get("supporting") else [])
        rows = findings.get(str(check["check_id"])) or _SortedListDigest(b'{"findings":')
        return rows.hexdigest(b',"result":' + canonical_json(result).encode("utf-8") + b"}")

    return {
        "run": digest([records.run.get(f) for f in RUN_FIELDS]),
        "evidence": {kind: rows.hexdigest() for kind, rows in sorted(kinds.items())},
        "checks": {
            check["check_id"]: check_digest(check) for check in sorted(records.checks, key=lambda c: str(c["check_id"]))
        },
        "documents": digest(sorted([item_id, sha] for item_id, sha in records.documents)),
    }


def seal(run_parts: Mapping[str, Any], previous: str | None) -> str:
    return digest({"format": FORMAT, "parts": run_parts, "previous": previous})


def first_difference(stored: Mapping[str, Any], recomputed: Mapping[str, Any]) -> str | None:
    """Which part of a run no longer matches its seal, in words (None: all match)."""
    if stored.get("run") != recomputed.get("run"):
        return "the run's metadata (times, status, summary, configuration digest) was changed"
    for section, label in (("evidence", "evidence kind"), ("checks", "check")):
        before, after = stored.get(section) or {}, recomputed.get(section) or {}
        for name in sorted(set(before) | set(after)):
            if name not in after:
                return f"{label} {name} was removed"
            if name not in before:
                return f"{label} {name} was added"
            if before[name] != after[name]:
                what = "its items or their hashes" if section == "evidence" else "its result or findings"
                return f"{label} {name}: {what} changed"
    if stored.get("documents") != recomputed.get("documents"):
        return "the manual evidence files changed"
    return None


def fingerprint(public_key_raw: bytes) -> str:
    """A short id of a signing key: the first 16 hex digits of its raw public key's SHA-256."""
    return hashlib.sha256(public_key_raw).hexdigest()[:16]
