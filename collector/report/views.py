"""Views of a gap report document that several renderers share: what fails first, checks once, counts.

Everything here reads the JSON document only, so Markdown, CSV, HTML and PDF agree with each other.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..mapping import SEVERITY_ORDER

THEMES = (
    ("organizational", "Organizational (A.5)"),
    ("people", "People (A.6)"),
    ("physical", "Physical (A.7)"),
    ("technological", "Technological (A.8)"),
)
CONTROL_STATUSES = ("pass", "fail", "not_assessed", "manual", "excluded")
STATUS_RANK = {"fail": 0, "error": 1, "not_applicable": 2, "pass": 3}
# A check's own status in the vocabulary of control statuses (the filters speak that one).
CHECK_AS_CONTROL = {"pass": "pass", "fail": "fail", "error": "not_assessed", "not_applicable": "not_assessed"}
FALLBACK_EXPECTED = "documents and records showing the control operates"


def label(status: str) -> str:
    return status.replace("_", " ")


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def count_phrase(check: Mapping[str, Any]) -> str:
    """The counts beside a check's badge, naming every cause of its status (never "0 error" by an error)."""
    counts = check["counts"]
    parts = [f"{counts.get(s, 0)} {s}" for s in ("pass", "fail") if counts.get(s, 0)]
    if counts.get("error", 0):
        parts.append(plural(counts["error"], "item error"))
    collection = len(check.get("collection_errors") or [])
    if not collection and check["status"] == "error" and not counts.get("error", 0):
        collection = max(1, len(check.get("errors") or []))  # a document from before collection_errors
    if collection:
        parts.append(plural(collection, "collection error"))
    return ", ".join(parts) if parts else "nothing in scope"


def unique_checks(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every check once (a check backs several controls), failing first, then by severity and id."""
    seen: dict[str, dict[str, Any]] = {}
    for control in report["controls"]:
        for check in control["checks"]:
            seen.setdefault(check["id"], check)
    return sorted(
        seen.values(),
        key=lambda c: (STATUS_RANK.get(c["status"], 9), SEVERITY_ORDER.get(c["severity"], 9), c["id"]),
    )


def controls_of(report: Mapping[str, Any]) -> dict[str, list[str]]:
    """Check id -> the ids of the controls it backs (older documents lack the check's own list)."""
    out: dict[str, list[str]] = {}
    for control in report["controls"]:
        for check in control["checks"]:
            out.setdefault(check["id"], []).append(control["id"])
    return out


def theme_of(report: Mapping[str, Any]) -> dict[str, str]:
    return {c["id"]: c["theme"] for c in report["controls"]}


@dataclass(frozen=True)
class FailingControl:
    control: dict[str, Any]
    severity: str  # the worst severity among its failing checks
    checks: list[dict[str, Any]]  # its failing checks, worst first
    resources: int  # failing resources over those checks


def failing_index(report: Mapping[str, Any]) -> list[FailingControl]:
    """Failing controls, worst first: by the worst failing check's severity, then by failing resources."""
    out = []
    for control in report["controls"]:
        if control["status"] != "fail":
            continue
        failing = [c for c in control["checks"] if c["status"] == "fail"]
        failing.sort(key=lambda c: (SEVERITY_ORDER.get(c["severity"], 9), c["id"]))
        worst = failing[0]["severity"] if failing else "low"
        out.append(FailingControl(control, worst, failing, sum(len(c["failing"]) for c in failing)))
    order = {c["id"]: i for i, c in enumerate(report["controls"])}
    out.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), -f.resources, order[f.control["id"]]))
    return out


def failing_findings(report: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(check, failing item) pairs, each check once, by severity."""
    checks = [c for c in unique_checks(report) if c["status"] == "fail"]
    for check in checks:
        for item in check["failing"]:
            yield check, item


def population_of(check: Mapping[str, Any]) -> Sequence[dict[str, Any]]:
    """The check's population (a list, or rows read from the store); for a document from before
    `population`, its failing items."""
    if "population" in check:
        population: Sequence[dict[str, Any]] = check["population"]
        return population
    return [{"status": "fail", **f} for f in check["failing"]]


def short_hash(value: str | None) -> str:
    return value[:12] if value else ""
