"""Answers remembered across runs for endpoints whose answers carry no ETag.

GitHub sends its meaningful 404s ("Branch not protected", "no analysis found", no CODEOWNERS file)
without an ETag, so a conditional request cannot make them free: each one is charged again on every
run. Such an answer is therefore remembered with the repository's ``pushed_at`` and default branch (and
any facts the caller adds), and reused until one of them changes, the caller has seen a change itself,
or it is due again: after between half and all of ``max_age``, spread by repository (a stable hash) so
that the re-asks of an organization fall on several runs rather than one. Only negative facts are
remembered this way (a positive answer has an ETag and is confirmed by a 304), so a stale memory can
delay a pass by at most ``max_age`` but never produce one. The exceptions are facts that only a push can
change, remembered whole until the next push (CODEOWNERS, the SECURITY.md search), and the dependency
graph's SBOM, which GitHub regenerates on every request (its ETag never repeats): it is remembered until a
push or ``max_age``, so a dependency submitted without a push shows at most ``max_age`` late.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import ConnectorState

STATE_PREFIX = "recall "


@dataclass
class Recall:
    state: ConnectorState
    max_age_seconds: float
    clock: Callable[[], float] = time.time
    reused: int = 0

    def remembered_marker(self, fact: str, repo: Mapping[str, Any]) -> dict[str, Any] | None:
        """The marker stored with a remembered answer (None when nothing is remembered)."""
        stored = self.state.get(self._key(fact, repo))
        return dict(stored["marker"]) if stored else None

    def answer(
        self,
        fact: str,
        repo: Mapping[str, Any],
        ask: Callable[[], Any],
        keep: Callable[[Any], bool] = lambda answer: answer is None,
        max_age_seconds: float | None = None,
        still_valid: bool = True,
        marker: Mapping[str, Any] | None = None,
    ) -> Any:
        """``ask()``'s answer, or the remembered one while the repository is unchanged and the memory is
        young enough; ``keep(answer)`` says whether an answer is worth remembering (one without an ETag: by
        default only a negative answer, None).
        ``max_age_seconds=inf`` remembers until the next push; ``still_valid=False`` (the caller has seen a
        change) asks again; ``marker`` adds facts that must be the same as when the answer was given."""
        key = self._key(fact, repo)
        marker = {"pushed_at": repo.get("pushed_at"), "default_branch": repo.get("default_branch"), **(marker or {})}
        limit = (self.max_age_seconds if max_age_seconds is None else max_age_seconds) * _spread(key)
        now = self.clock()
        stored = self.state.get(key)
        fresh = stored and now - float(stored.get("observed_at", 0)) < limit
        if fresh and still_valid and stored.get("marker") == marker:
            self.state.put(key, stored)  # the next run sees only what this run stored
            self.reused += 1
            return stored["value"]
        value = ask()
        if keep(value):
            self.state.put(key, {"marker": marker, "observed_at": now, "value": value})
        return value

    @staticmethod
    def _key(fact: str, repo: Mapping[str, Any]) -> str:
        return f"{STATE_PREFIX}{fact} {repo['full_name']}"


def _spread(key: str) -> float:
    """A stable factor in [0.5, 1) per remembered answer."""
    return 0.5 + (zlib.crc32(key.encode()) % 1000) / 2000
