"""What an auditor reads: every failing finding names its resource and the fix, and every control with
automated checks says what that evidence proves and which part stays attestation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from collector.catalog import load_catalogue
from collector.mapping import load_checks
from collector.registry import available_connectors, evidence_kinds

# A placeholder that resolves to the judged resource: its id or one of its fields.
_NAMES_RESOURCE = re.compile(r"\{(id|resource\.[A-Za-z0-9_.\[\]\"']+)\}")


def _shipped() -> dict[str, Any]:
    return load_checks(evidence_kinds(available_connectors())).checks


def test_every_shipped_check_says_what_is_wrong_with_which_resource_and_how_to_fix_it() -> None:
    vague = {
        check.id: check.definition.message
        for check in _shipped().values()
        if not check.definition.message or not _NAMES_RESOURCE.search(check.definition.message)
    }
    assert vague == {}
    short = {c.id: c.definition.remediation for c in _shipped().values() if len(c.definition.remediation) < 30}
    assert short == {}


def test_every_control_with_an_automated_check_says_what_that_evidence_proves() -> None:
    mapped = {control for check in _shipped().values() for control in check.definition.control_ids}
    scope = {c.id: c.automated for c in load_catalogue()}
    missing = sorted(c for c in mapped if not scope.get(c))
    assert missing == []
    for control_id in mapped:
        sentence = scope[control_id] or ""
        # One sentence, naming both halves: what the checks show and what stays attestation.
        assert sentence.count(". ") == 0 and sentence.endswith("."), control_id
        assert "attestation" in sentence, control_id


def test_the_html_report_shows_the_sentence_in_each_judged_controls_section(demo_dir: Path, cli: Any) -> None:
    config = str(demo_dir / "annexa.yaml")
    assert cli("report", "-c", config, "--format", "json", "-o", str(demo_dir.parent / "gap.json")).code == 0
    report = json.loads((demo_dir.parent / "gap.json").read_text())
    controls = {c["id"]: c for c in report["controls"]}
    assert controls["A.8.5"]["automated_scope"].startswith("The checks show that sign-in needs strong")
    assert controls["A.5.1"]["automated_scope"] is None  # no check: the auditor's list says what to bring
    html_out = demo_dir.parent / "gap.html"
    assert cli("report", "-c", config, "--format", "html", "-o", str(html_out)).code == 0
    page = html_out.read_text()
    section = page[page.index('id="control-A.8.5"') :]
    section = section[: section.index("</details>")]
    assert "<b>What this evidence proves:</b> The checks show that sign-in needs strong" in section
    manual = page[page.index('id="control-A.5.1"') :]
    assert "What this evidence proves" not in manual[: manual.index("</details>")]
