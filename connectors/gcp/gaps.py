"""Facts that could not be read: marked unknown on their items and reported as grouped errors.

A detail call that fails (a bucket's getIamPolicy, an account's keys.list, an ancestor's policy) leaves
its field unknown on the item (``EvidenceItem.mark_unknown``), never ``null``: ``null`` is a fact in
these kinds ("no encryption", "no policy"). The run still needs a ``CollectionError`` so it is
``partial``; one per kind, fields and reason, naming the first few items, so a failing endpoint
gives one line, not one per bucket.
"""

from __future__ import annotations

import threading

from connectors.base import CollectionError, EvidenceItem

NAMED = 3  # items named in an error message; every id is in CollectionError.items


class Gaps:
    """Thread-safe: projects are collected concurrently and all report here."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[tuple[str, tuple[str, ...] | None, str], list[str]] = {}

    def unknown(self, item: EvidenceItem, fields: tuple[str, ...], reason: str) -> None:
        """Mark ``fields`` of ``item`` unknown for ``reason`` (an operation and its error)."""
        for name in fields:
            item.mark_unknown(name, reason)
        self.missing(item.kind, fields, reason, item.id)

    def missing(self, kind: str, fields: tuple[str, ...] | None, reason: str, name: str) -> None:
        """Record a gap; ``fields=None``: items of ``kind`` under ``name`` are missing altogether."""
        with self._lock:
            names = self._groups.setdefault((kind, fields, reason), [])
            if name not in names:
                names.append(name)

    def errors(self) -> list[CollectionError]:
        with self._lock:
            groups = list(self._groups.items())
        out = []
        for (kind, fields, reason), names in groups:
            shown = ", ".join(names[:NAMED]) + (f" and {len(names) - NAMED} more" if len(names) > NAMED else "")
            # Whole-kind gaps are named by their parent (an account whose keys are missing): no item ids.
            items = tuple(names) if fields is not None else ()
            out.append(CollectionError(kind, f"{shown}: {reason}", fields, items))
        return out
