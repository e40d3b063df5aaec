"""The property every fault must keep: an unreadable fact is never a verdict.

A connector is collected twice over the same imitation: once unfaulted (the baseline), once with one
API operation answering 500 or timing out. Against the baseline, the faulted run must not

* turn any check to ``pass`` that was not ``pass``,
* fail any resource that did not fail,
* lose an item of a kind without a collection error for that kind,

and it must record at least one collection error (so ``annexa run`` exits 1, not 0).
Cases are generated from the imitation's route table, so a new endpoint is covered automatically.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from collector.evaluate import FAIL, PASS, CheckResult
from collector.testing import collect_items, evaluate_connector_checks
from connectors.base import CollectContext, CollectionError, Connector, ConnectorError, EvidenceItem

Collected = list[EvidenceItem | CollectionError]
NO_ERROR = "no collection error recorded: `annexa run` would exit 0"


@dataclass(frozen=True)
class Outcome:
    collected: Collected
    results: Mapping[str, CheckResult]

    @property
    def errors(self) -> list[CollectionError]:
        return [r for r in self.collected if isinstance(r, CollectionError)]

    def item_counts(self) -> Counter[str]:
        return Counter(r.kind for r in self.collected if isinstance(r, EvidenceItem))

    def failing(self) -> set[tuple[str, str]]:
        return {(f.check, f.resource) for r in self.results.values() for f in r.findings if f.status == FAIL}


def violations(baseline: Outcome, faulted: Outcome, crashed: str | None = None) -> list[str]:
    """Everything the faulted run got wrong compared with the baseline (empty: the property holds)."""
    problems: list[str] = []
    for check_id, result in faulted.results.items():
        before = baseline.results[check_id].status
        if result.status == PASS and before != PASS:
            problems.append(f"{check_id}: {before} -> pass")
    for check_id, resource in sorted(faulted.failing() - baseline.failing()):
        message = next(
            f.message for f in faulted.results[check_id].findings if f.resource == resource and f.status == FAIL
        )
        problems.append(f"{check_id}: {resource} fails only under the fault ({message})")
    errored_kinds = {e.kind for e in faulted.errors}
    for kind, count in baseline.item_counts().items():
        if faulted.item_counts()[kind] < count and kind not in errored_kinds and crashed is None:
            problems.append(f"{kind}: {count - faulted.item_counts()[kind]} item(s) disappeared without an error")
    if not faulted.errors and crashed is None:
        problems.append(NO_ERROR)
    return problems


def route_cases(routes: Iterable[tuple[str, Any, Any]], exclude: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(method, pattern) of every route of an imitation, as pytest ids and fault targets."""
    skip = set(exclude)
    out = []
    for method, rx, _ in routes:
        pattern = rx.pattern.removesuffix("$")
        if pattern not in skip and (method, pattern) not in out:
            out.append((method, pattern))
    return out


def collect_outcome(
    connector: type[Connector], settings: Mapping[str, Any], now: Any, context: CollectContext | None = None
) -> tuple[Outcome, str | None]:
    """Collect and evaluate; a connector that stops (ConnectorError) fails every kind, as a run records it.

    Returns the outcome and, when the connector stopped, its one-line reason."""
    crashed = None
    try:
        collected = collect_items(connector, settings, context)
    except ConnectorError as exc:
        crashed = str(exc)
        collected = [CollectionError(kind, crashed) for kind in sorted(connector.kind_names())]
    return Outcome(collected, evaluate_connector_checks(connector, collected, now=now)), crashed


def reset(*stubs: Any) -> None:
    """Clear the faults and the request log of each stub, for the next case."""
    for stub in stubs:
        with stub.lock:
            stub.faults.clear()
            stub.log.clear()
