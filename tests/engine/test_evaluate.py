"""Status rules of CONTRACT §5, table-driven, and CEL evaluation details."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.evaluate import SnapshotItem, check_status, control_status, evaluate_check
from collector.mapping import load_checks

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("counts", "kind_failed", "expected"),
    [
        ({"pass": 3, "fail": 1, "error": 0}, False, "fail"),
        ({"pass": 3, "fail": 1, "error": 2}, True, "fail"),  # a failing item wins over errors
        ({"pass": 3, "fail": 0, "error": 1}, False, "error"),
        ({"pass": 3, "fail": 0, "error": 0}, True, "error"),  # the kind failed to collect: never pass
        ({"pass": 0, "fail": 0, "error": 0}, True, "error"),
        ({"pass": 0, "fail": 0, "error": 0}, False, "not_applicable"),
        ({"pass": 2, "fail": 0, "error": 0}, False, "pass"),
    ],
)
def test_check_status(counts: dict[str, int], kind_failed: bool, expected: str) -> None:
    assert check_status(counts, kind_failed) == expected


@pytest.mark.parametrize(
    ("statuses", "excluded", "expected"),
    [
        (["fail"], True, "excluded"),
        ([], False, "manual"),
        (["pass", "fail", "error"], False, "fail"),
        (["pass", "error"], False, "not_assessed"),
        (["not_applicable", "not_applicable"], False, "not_assessed"),
        (["pass", "not_applicable"], False, "pass"),
        (["pass"], False, "pass"),
    ],
)
def test_control_status(statuses: list[str], excluded: bool, expected: str) -> None:
    assert control_status(statuses, excluded) == expected


def _check(tmp_path: Path, assertion: str, when: str | None = None, params: str = "{}", message: str | None = None):
    lines = [
        "checks:",
        "  - id: fake.iam.rule_under_test",
        "    title: Rule under test",
        "    evidence: fake.iam.user",
        f"    assert: {assertion!r}",
        f"    params: {params}",
        "    severity: low",
        "    controls: [A.8.5]",
        "    remediation: fix it",
    ]
    if when:
        lines.append(f"    when: {when!r}")
    if message:
        lines.append(f"    message: {message!r}")
    path = tmp_path / "rules.yaml"
    path.write_text("\n".join(lines) + "\n")
    return load_checks({"fake.iam.user": "fake"}, builtin_files=[path]).checks["fake.iam.rule_under_test"]


@pytest.mark.parametrize(
    ("assertion", "data", "status"),
    [
        ("size(resource.keys) > 0", {"keys": [1]}, "pass"),
        ("size(resource.keys) > 0", {"keys": []}, "fail"),
        (
            "resource.keys.all(k, k.active == false || k.age < params.max)",
            {"keys": [{"active": True, "age": 3}]},
            "pass",
        ),
        (
            "resource.keys.all(k, k.active == false || k.age < params.max)",
            {"keys": [{"active": True, "age": 99}]},
            "fail",
        ),
        ("timestamp(resource.created) > now - duration('2160h')", {"created": "2026-11-01T00:00:00Z"}, "pass"),
        ("timestamp(resource.created) > now - duration('2160h')", {"created": "2025-01-01T00:00:00Z"}, "fail"),
        ("resource.policy == null", {"policy": None}, "pass"),
        ("resource.missing", {}, "error"),
        ("resource.name + 1 == 2", {"name": "x"}, "error"),
        ("resource.name", {"name": "not a bool"}, "error"),  # a non-boolean result never counts as compliant
        ("resource['name'] == 'x'", {"name": "x", "other": 1}, "pass"),  # whole-resource access still works
    ],
)
def test_assertions(tmp_path: Path, assertion: str, data: dict, status: str) -> None:
    check = _check(tmp_path, assertion, params="{max: 90}")
    result = evaluate_check(check, [SnapshotItem("item-1", data)], {}, NOW)
    assert result.findings[0].status == status
    assert result.status == status


def test_when_selects_scope_and_message_renders(tmp_path: Path) -> None:
    check = _check(
        tmp_path, "resource.mfa", when="resource.console", message="{id}: console user {resource.name} lacks MFA"
    )
    items = [
        SnapshotItem("u1", {"name": "ann", "console": True, "mfa": False}),
        SnapshotItem("u2", {"name": "ben", "console": False, "mfa": False}),
    ]
    result = evaluate_check(check, items, {}, NOW)
    assert result.counts == {"pass": 0, "fail": 1, "error": 0}
    assert result.findings[0].message == "u1: console user ann lacks MFA"


def test_kind_error_is_reported_with_items(tmp_path: Path) -> None:
    check = _check(tmp_path, "resource.mfa")
    result = evaluate_check(
        check, [SnapshotItem("u1", {"mfa": True})], {"fake.iam.user": ["eu-west-1: AccessDenied"]}, NOW
    )
    assert result.status == "error" and result.errors == ["eu-west-1: AccessDenied"]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.fixed_dictionaries({"mfa": st.booleans(), "n": st.integers(0, 5)}, optional={"extra": st.text(max_size=3)}),
        max_size=20,
    )
)
def test_field_pruning_gives_the_same_verdicts(tmp_path_factory, rows: list[dict]) -> None:
    tmp = tmp_path_factory.mktemp("prune")
    pruned = _check(tmp, "resource.mfa && resource.n < 3")
    whole = _check(tmp, "resource['mfa'] && resource.n < 3")
    assert pruned.resource_fields == ("mfa", "n") and whole.resource_fields is None
    items = [SnapshotItem(str(i), row) for i, row in enumerate(rows)]
    a, b = evaluate_check(pruned, items, {}, NOW), evaluate_check(whole, items, {}, NOW)
    assert [f.status for f in a.findings] == [f.status for f in b.findings]


def test_field_scoped_collection_errors_only_touch_checks_reading_those_fields(tmp_path: Path) -> None:
    from connectors.base import CollectionError

    check = _check(tmp_path, "resource.mfa")
    items = [SnapshotItem("u1", {"mfa": True, "roles": None})]
    about_roles = {"fake.iam.user": [CollectionError("fake.iam.user", "roles: 403", ("roles",))]}
    about_mfa = {"fake.iam.user": [CollectionError("fake.iam.user", "mfa: 403", ("mfa",))]}
    whole_kind = {"fake.iam.user": [CollectionError("fake.iam.user", "list: 403")]}
    assert evaluate_check(check, items, about_roles, NOW).status == "pass"
    assert evaluate_check(check, items, about_mfa, NOW).errors == ["mfa: 403"]
    assert evaluate_check(check, items, whole_kind, NOW).status == "error"
    whole_resource = _check(tmp_path, "resource['mfa']")
    assert evaluate_check(whole_resource, items, about_roles, NOW).status == "error"
