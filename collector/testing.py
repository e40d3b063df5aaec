"""Helpers for connector tests: collect through the real connector, judge through the real checks.

These run the same validation and evaluation code as ``annexa run``; only the store is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import CollectContext, CollectionError, Connector, ConnectorState, EvidenceItem
from control_mappings import MAPPINGS_DIR

from .evaluate import CheckResult, SnapshotItem, evaluate_checks
from .mapping import load_checks
from .registry import evidence_kinds


def collect_items(
    connector: type[Connector],
    settings: Mapping[str, Any],
    context: CollectContext | None = None,
) -> list[EvidenceItem | CollectionError]:
    """Run one connector's collect() to the end with validated settings."""
    model = connector.settings_model.model_validate(dict(settings))
    ctx = context or CollectContext(run_id="test-run", started_at=datetime.now(UTC), state=ConnectorState())
    return list(connector(model, ctx).collect())


def evaluate_connector_checks(
    connector: type[Connector],
    collected: Iterable[EvidenceItem | CollectionError],
    params: Mapping[str, Mapping[str, Any]] | None = None,
    now: datetime | None = None,
    enabled: Mapping[str, bool] | None = None,
) -> dict[str, CheckResult]:
    """Evaluate the shipped checks of ``connector`` over collected items, as a run would."""
    overrides: dict[str, dict[str, Any]] = {}
    for check_id, values in (params or {}).items():
        overrides.setdefault(check_id, {})["params"] = dict(values)
    for check_id, flag in (enabled or {}).items():
        overrides.setdefault(check_id, {})["enabled"] = flag
    own_file = MAPPINGS_DIR / f"{connector.name}.yaml"
    checks = load_checks(evidence_kinds({connector.name: connector}), overrides=overrides, builtin_files=[own_file])
    items: dict[str, list[SnapshotItem]] = {}
    errors: dict[str, list[CollectionError]] = {}
    for record in collected:
        if isinstance(record, CollectionError):
            errors.setdefault(record.kind, []).append(record)
        else:
            items.setdefault(record.kind, []).append(SnapshotItem(record.id, record.data, unknown=record.unknown))
    return evaluate_checks(checks.for_connectors([connector.name]), items, errors, now or datetime.now(UTC))
