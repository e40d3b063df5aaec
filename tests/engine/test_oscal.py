"""`annexa export oscal`: the demo's latest run as OSCAL 1.1.3 Assessment Results, validated against NIST's
published JSON schema (vendored in tests/data/oscal) and loaded with compliance-trestle's models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import regex
from jsonschema import validators

SCHEMA = Path(__file__).resolve().parent.parent / "data" / "oscal" / "oscal_assessment-results_schema.json"


def _validator() -> Any:
    # NIST's patterns use Unicode classes (\p{L}) that Python's `re` lacks; `regex` reads them.
    def pattern(validator: Any, expected: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not regex.search(expected, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {expected!r}")

    return validators.extend(jsonschema.Draft7Validator, {"pattern": pattern})(json.loads(SCHEMA.read_text()))


@pytest.fixture
def exported(cli: Any, demo: Path, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "assessment-results.json"
    result = cli("export", "oscal", "-c", str(demo / "annexa.yaml"), "-o", str(out))
    assert result.code == 0, result.err
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def test_the_document_is_valid_oscal(exported: dict[str, Any]) -> None:
    errors = [f"{list(e.path)}: {e.message}" for e in _validator().iter_errors(exported)]
    assert errors == []
    from trestle.oscal.assessment_results import AssessmentResults

    model = AssessmentResults.parse_obj(exported["assessment-results"])
    assert model.metadata.oscal_version.root.root == "1.1.3"
    assert len(model.results) == 1 and len(model.results[0].findings or []) == 92


def test_a_schema_violation_would_be_caught() -> None:
    broken = {"assessment-results": {"uuid": "not-a-uuid", "metadata": {}, "import-ap": {}, "results": []}}
    assert list(_validator().iter_errors(broken))


def test_findings_observations_and_manual_evidence_trace_to_hashes(exported: dict[str, Any], demo: Path) -> None:
    document = exported["assessment-results"]
    result = document["results"][0]
    selection = result["reviewed-controls"]["control-selections"][0]
    assert {"control-id": "A.7.4"} in selection["exclude-controls"]  # the demo's SoA exclusion
    assert len(selection["include-controls"]) == 92
    findings = {f["target"]["target-id"]: f for f in result["findings"]}
    assert "A.7.4" not in findings
    observations = {o["uuid"]: o for o in result["observations"]}
    gap = json.loads((demo / "gap-report.json").read_text())
    failing = next(c for c in gap["controls"] if c["status"] == "fail" and c["checks"])
    finding = findings[failing["id"]]
    assert finding["target"]["status"] == {"state": "not-satisfied", "reason": "fail"}
    hashes = {
        p["value"]
        for ref in finding["related-observations"]
        for p in observations[ref["observation-uuid"]].get("props", [])
        if p["name"] == "evidence-sha256"
    }
    judged = {f["evidence_hash"] for c in failing["checks"] for f in c.get("failing", [])}
    assert judged and judged <= hashes
    resources = {r["uuid"]: r for r in document["back-matter"]["resources"]}
    policy = next(c for c in gap["controls"] if c["id"] == "A.5.1")["manual_evidence"][0]
    examined = next(o for o in result["observations"] if o["methods"] == ["EXAMINE"] and o["title"] == policy["title"])
    resource = resources[examined["relevant-evidence"][0]["href"].removeprefix("#")]
    assert resource["rlinks"][0]["hashes"] == [{"algorithm": "SHA-256", "value": policy["sha256"]}]
    manual_only = findings["A.5.1"]["target"]["status"]
    assert manual_only["state"] == "not-satisfied" and manual_only["reason"] == "other"


def test_the_same_run_exports_the_same_document(cli: Any, demo: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        assert cli("export", "oscal", "-c", str(demo / "annexa.yaml"), "-o", str(out)).code == 0
    assert first.read_bytes() == second.read_bytes()
