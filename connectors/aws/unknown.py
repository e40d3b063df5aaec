"""Detail facts that could not be read: left out of their items and reported as field-scoped errors.

A detail call joined onto an item (a bucket's logging, a user's MFA devices, a trail's status) that
fails leaves the item in place with that field *omitted* — never null, because null is a fact here
("no password policy", "no encryption configuration", "never used") that a check would judge. A
check reading an omitted field errors on that item, and the ``CollectionError`` carries
``fields=(...)`` so the engine makes exactly the checks reading those fields ``error`` while the
others keep their verdicts. When only a nested value is unknown (one access key's last use, one
recorder's status), the nested key is omitted and ``fields`` is empty: checks reading that value
error on that item only, and the top-level field stays usable for checks that need the rest of it.

Errors are grouped per (scope, call, fields, reason) so an endpoint missing for every resource is
one error naming the first resources, not one error per resource.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from connectors.base import CollectionError

from .session import aws_exceptions, error_text

T = TypeVar("T")
_NAMED = 5  # resources named in one message; the rest are counted


class Unknowns:
    """Collects unreadable detail facts of one evidence kind (thread-safe: detail calls run in pools)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._lock = threading.Lock()
        self._groups: dict[tuple[str, str, tuple[str, ...], str], list[str]] = {}

    def add(self, scope: str, call: str, fields: tuple[str, ...], subject: str, exc: BaseException) -> None:
        key = (scope, call, fields, error_text(exc))
        with self._lock:
            self._groups.setdefault(key, []).append(subject)

    def read(
        self,
        data: dict[str, Any],
        field: str,
        read: Callable[[], Any],
        *,
        scope: str,
        call: str,
        subject: str = "",
    ) -> None:
        """``data[field] = read()``, or leave ``field`` out and record why."""
        try:
            data[field] = read()
        except aws_exceptions() as exc:
            self.add(scope, call, (field,), subject, exc)

    def errors(self) -> list[CollectionError]:
        out = []
        with self._lock:
            groups = sorted(self._groups.items())
        for (scope, call, fields, reason), subjects in groups:
            unknown = ", ".join(fields) if fields else "nested values"
            message = f"{scope}: {call} ({unknown} unknown){_for(subjects)}: {reason}"
            out.append(CollectionError(self.kind, message, fields))
        return out


def _for(subjects: list[str]) -> str:
    named = [s for s in subjects if s]
    if not named:
        return ""
    more = f" and {len(named) - _NAMED} more" if len(named) > _NAMED else ""
    return " for " + ", ".join(named[:_NAMED]) + more


def attempt(read: Callable[[], T]) -> tuple[T | None, BaseException | None]:
    """(value, None) or (None, the AWS error) — for detail calls whose failure is handled field by field."""
    try:
        return read(), None
    except aws_exceptions() as exc:
        return None, exc
