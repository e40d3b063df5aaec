"""The risk register (`risks:`, `annexa risks`), exposure in the gap report, and `annexa soa` in every format."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from engine.support import Project

ESTATE = "{users: [{name: alice, mfa: true}, {name: bob, mfa: false}], buckets: [{name: logs, public: false}]}"
FIXED = "{users: [{name: alice, mfa: true}, {name: bob, mfa: true}], buckets: [{name: logs, public: false}]}"
RISKS = """\
risks:
  - id: R-1
    title: Account takeover
    owner: CISO
    likelihood: 4
    impact: 5
    treatment: mitigate
    controls: [A.8.5]
  - id: R-2
    title: Public bucket
    owner: CTO
    likelihood: 2
    impact: 5
    treatment: mitigate
    controls: [A.8.3]
  - id: R-3
    title: Laptop theft
    owner: COO
    likelihood: 2
    impact: 2
    treatment: accept
    accepted_by: CEO
    accepted_on: 2026-11-01
  - id: R-4
    title: Supplier breach
    owner: COO
    likelihood: 3
    impact: 3
    treatment: transfer
    controls: [A.5.20]
"""
EXTRA = """\
risks: ./risks.yaml
soa:
  excluded: {A.7.4: "no premises of our own: fully remote"}
  justifications: {A.5.31: "contractual: customer DPAs"}
"""


@pytest.fixture
def registered(cli: Any, project: Project) -> Path:
    (project.root / "risks.yaml").write_text(RISKS)
    config = project.config(ESTATE, extra=EXTRA)
    assert cli("run", "-c", str(config)).code == 0
    return config


def test_risks_are_exposed_when_their_controls_fail_or_lack_evidence(cli: Any, registered: Path) -> None:
    result = cli("risks", "-c", str(registered), "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["schema"] == "annexa/risks@1"
    assert [r["id"] for r in doc["risks"]] == ["R-1", "R-2", "R-4", "R-3"]  # highest score first
    by_id = {r["id"]: r for r in doc["risks"]}
    assert by_id["R-1"]["score"] == 20 and by_id["R-1"]["exposed"] is True
    assert by_id["R-1"]["reasons"] == ["A.8.5 fails (fake.iam.user_mfa_enabled)"]
    assert [(f["check"], f["resource"]) for f in by_id["R-1"]["failing"]] == [("fake.iam.user_mfa_enabled", "bob")]
    assert by_id["R-2"]["exposed"] is False and by_id["R-2"]["controls"] == [
        {"id": "A.8.3", "status": "pass", "evidence_state": "missing"}
    ]
    assert by_id["R-4"]["reasons"] == ["A.5.20 has no current evidence (missing)"]  # a manual control, no document
    assert by_id["R-3"]["exposed"] is False and by_id["R-3"]["accepted_by"] == "CEO"
    assert doc["summary"] == {"risks": 4, "exposed": 2, "accepted": 1}
    table = cli("risks", "-c", str(registered))
    assert "R-1   20     mitigate   EXPOSED" in table.out and "4 risks, 2 exposed, 1 accepted" in table.out


def test_the_gap_report_leads_with_exposed_risks(cli: Any, registered: Path, project: Project) -> None:
    doc = json.loads(cli("report", "-c", str(registered), "--format", "json").out)
    assert [r["id"] for r in doc["exposed_risks"]] == ["R-1", "R-4"]
    markdown = cli("report", "-c", str(registered), "--format", "md").out
    assert markdown.index("## Exposed risks (2)") < markdown.index("## Failing controls")
    assert "| R-1 | 20 | Account takeover | CISO | A.8.5 fails (fake.iam.user_mfa_enabled) |" in markdown


def test_manual_evidence_shows_per_control_in_the_gap_report(cli: Any, registered: Path, project: Project) -> None:
    policy = project.root / "supplier-policy.pdf"
    policy.write_bytes(b"%PDF-1.4 supplier policy\n")
    meta = ["--title", "Supplier policy", "--owner", "COO", "--date", "2026-01-10", "--review-every", "12m"]
    added = cli("evidence", "add", str(policy), "-c", str(registered), "--control", "A.5.20", *meta)
    assert added.code == 0, added.err
    assert cli("run", "-c", str(registered)).code == 0
    doc = json.loads(cli("report", "-c", str(registered), "--format", "json").out)
    control = next(c for c in doc["controls"] if c["id"] == "A.5.20")
    assert control["status"] == "manual" and control["evidence_state"] in ("current", "expiring")
    assert [(e["title"], e["owner"], e["valid_until"]) for e in control["manual_evidence"]] == [
        ("Supplier policy", "COO", "2027-01-10")
    ]
    assert len(control["manual_evidence"][0]["sha256"]) == 64
    assert control["guidance"]  # what the auditor asks for moved to its own key
    assert doc["summary"]["manual_evidenced"] == 1
    assert doc["summary"]["manual_missing"] == doc["summary"]["manual"] - 1
    a85 = next(c for c in doc["controls"] if c["id"] == "A.8.5")
    assert a85["manual_evidence"] == [] and a85["evidence_state"] == "missing"
    risks = json.loads(cli("risks", "-c", str(registered), "--format", "json").out)
    assert next(r for r in risks["risks"] if r["id"] == "R-4")["exposed"] is False  # now evidenced


def test_the_soa_lists_every_control_with_justification_status_and_evidence(cli: Any, registered: Path) -> None:
    doc = json.loads(cli("soa", "-c", str(registered), "--format", "json").out)
    assert doc["schema"] == "annexa/soa@1" and len(doc["controls"]) == 93
    rows = {r["id"]: r for r in doc["controls"]}
    assert rows["A.8.5"]["status"] == "not implemented" and rows["A.8.5"]["justification"] == "treats R-1"
    assert rows["A.8.3"]["status"] == "implemented" and rows["A.8.3"]["justification"] == "treats R-2"
    assert rows["A.7.4"]["applicable"] is False and rows["A.7.4"]["status"] == "not applicable"
    assert rows["A.7.4"]["exclusion_reason"] == "no premises of our own: fully remote"
    assert rows["A.5.31"]["justification"] == "contractual: customer DPAs"
    assert rows["A.5.1"]["status"] == "not implemented" and rows["A.5.1"]["justification"] == ""
    assert rows["A.8.5"]["checks"][0]["counts"] == {"pass": 1, "fail": 1, "error": 0}
    assert doc["summary"]["applicable"] == 92 and doc["summary"]["excluded"] == 1
    text = cli("soa", "-c", str(registered), "--format", "csv").out
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 93 and parsed[0]["id"] == "A.5.1"
    a74 = next(r for r in parsed if r["id"] == "A.7.4")
    assert a74["applicable"] == "no" and a74["justification"] == "excluded: no premises of our own: fully remote"
    assert (
        "| A.8.5 | Secure authentication | yes | treats R-1 | not implemented |"
        in cli("soa", "-c", str(registered)).out
    )


def test_the_soa_xlsx_is_a_reproducible_spreadsheet(cli: Any, registered: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    first, second = tmp_path / "soa.xlsx", tmp_path / "again.xlsx"
    assert cli("soa", "-c", str(registered), "-o", str(first)).code == 0  # the format follows the suffix
    assert cli("soa", "-c", str(registered), "--run", "latest", "-o", str(second)).code == 0
    assert first.read_bytes() == second.read_bytes()  # same run, same bytes
    book = load_workbook(first)
    sheet = book["Statement of Applicability"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:I94"
    assert [c.value for c in sheet[1]][:6] == [
        "Control", "Title", "Theme", "Applicable", "Justification for inclusion or exclusion", "Implementation status"
    ]  # fmt: skip
    a85 = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "A.8.5")
    assert a85[3:6] == ("yes", "treats R-1", "not implemented")
    assert sheet.column_dimensions["B"].width >= 40
    about = {row[0]: row[1] for row in book["Document"].iter_rows(values_only=True)}
    runs = json.loads(cli("runs", "-c", str(registered), "--format", "json").out)["runs"]
    assert about["Run id"] == runs[0]["id"] and about["Organization"] == "Test GmbH"


def test_libreoffice_opens_the_soa_xlsx(cli: Any, registered: Path, tmp_path: Path) -> None:
    if shutil.which("soffice") is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is required in CI (apt-get install libreoffice-calc)")
        pytest.skip("LibreOffice (libreoffice-calc) is not installed")
    sheet = tmp_path / "soa.xlsx"
    assert cli("soa", "-c", str(registered), "-o", str(sheet)).code == 0
    out = tmp_path / "converted"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless", "--convert-to", "csv",
         "--outdir", str(out), str(sheet)],
        capture_output=True, timeout=180, check=True,
    )  # fmt: skip
    rows = list(csv.reader((out / "soa.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0][0] == "Control" and len(rows) == 94
    assert next(r for r in rows if r[0] == "A.8.5")[5] == "not implemented"


def test_diff_shows_soa_changes(cli: Any, registered: Path, project: Project) -> None:
    (project.root / "annexa.yaml").write_text(registered.read_text().replace(ESTATE, FIXED))
    assert cli("run", "-c", str(registered)).code == 0
    drift = json.loads(cli("diff", "-c", str(registered), "--format", "json").out)
    assert {"id": "A.8.5", "from": {"applicable": True, "status": "not implemented"},
            "to": {"applicable": True, "status": "implemented"}} in drift["soa"]  # fmt: skip
    assert "- A.8.5: not implemented → implemented" in cli("diff", "-c", str(registered)).out


def test_the_readiness_report_names_exposed_risks(cli: Any, registered: Path) -> None:
    doc = json.loads(cli("readiness", "-c", str(registered), "--format", "json").out)
    risks = next(s for s in doc["sections"] if s["id"] == "risks")
    assert risks["verdict"] == "gaps" and risks["risks"] == 4
    assert [r["id"] for r in risks["exposed"]] == ["R-1", "R-4"]
    soa = next(s for s in doc["sections"] if s["id"] == "soa")
    assert soa["applicable"] == 92 and "A.8.5" not in soa["unjustified"] and "A.5.1" in soa["unjustified"]


def test_a_csv_register_works_like_yaml(cli: Any, project: Project) -> None:
    (project.root / "risks.csv").write_text(
        "id,title,owner,likelihood,impact,treatment,controls\nR-1,Account takeover,CISO,4,5,mitigate,A.8.5;A.5.17\n"
    )
    config = project.config(ESTATE, extra="risks: ./risks.csv\n")
    assert cli("run", "-c", str(config)).code == 0
    doc = json.loads(cli("risks", "-c", str(config), "--format", "json").out)
    assert [(c["id"], c["status"]) for c in doc["risks"][0]["controls"]] == [("A.8.5", "fail"), ("A.5.17", "manual")]


def test_risks_without_a_register_says_how_to_add_one(cli: Any, project: Project) -> None:
    config = project.config(ESTATE)
    assert cli("run", "-c", str(config)).code == 0
    result = cli("risks", "-c", str(config))
    assert result.code == 2 and "recorded no risk register: set risks: in annexa.yaml" in result.err


BAD_YAML = [
    ("duplicate", "  - {id: R-1, title: a, owner: o, likelihood: 1, impact: 1, treatment: avoid}\n" * 2,
     "risks.yaml:3: risks[1].id: duplicate risk id 'R-1' (first at item 0)"),
    ("range", "  - {id: R-1, title: a, owner: o, likelihood: 6, impact: 1, treatment: avoid}\n",
     "risks.yaml:2: risks[0].likelihood: 6 is outside the scale 1-5"),
    ("control", "  - {id: R-1, title: a, owner: o, likelihood: 1, impact: 1, treatment: mitigate, controls: [A.9.9]}\n",
     "risks.yaml:2: risks[0].controls: 'A.9.9' is not an Annex A control id"),
    ("acceptor", "  - {id: R-1, title: a, owner: o, likelihood: 1, impact: 1, treatment: accept}\n",
     "risks.yaml:2: risks[0]: an accepted risk names who accepted it"),
    ("treatment", "  - {id: R-1, title: a, owner: o, likelihood: 1, impact: 1, treatment: ignore}\n",
     "risks.yaml:2: risks[0].treatment: must be 'mitigate', 'accept', 'transfer' or 'avoid'"),
    ("date", "  - {id: R-1, title: a, owner: o, likelihood: 1, impact: 1, treatment: accept, accepted_by: x,"
     " accepted_on: 2026-02-30}\n", "risks.yaml:2: risks[0].accepted_on:"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "message"), BAD_YAML, ids=[c[0] for c in BAD_YAML])
def test_a_bad_risk_register_is_one_line_exit_2_and_nothing_written(
    cli: Any, project: Project, case: str, body: str, message: str
) -> None:
    (project.root / "risks.yaml").write_text("risks:\n" + body)
    config = project.config(ESTATE, extra="risks: ./risks.yaml\n")
    result = cli("run", "-c", str(config))
    assert result.code == 2, result.err
    assert len(result.err.strip().splitlines()) == 1 and message in result.err, result.err
    assert not project.store.exists()


def test_a_scale_is_configurable(cli: Any, project: Project) -> None:
    (project.root / "risks.yaml").write_text(
        "scale: {likelihood: 3, impact: 3}\nrisks:\n"
        "  - {id: R-1, title: a, owner: o, likelihood: 4, impact: 1, treatment: avoid}\n"
    )
    config = project.config(ESTATE, extra="risks: ./risks.yaml\n")
    result = cli("validate", "-c", str(config))
    assert result.code == 2 and "risks[0].likelihood: 4 is outside the scale 1-3" in result.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,title,owner,likelihood,impact,treatment\nR-1,a,o,1,9,avoid\n", "risks.csv:2: impact: 9 is outside"),
        ("id,title,owner,likelihood,impact,treatment\nR-1,a,o,1,1,avoid\nR-1,b,o,1,1,avoid\n",
         "risks.csv:3: id: duplicate risk id 'R-1' (first on line 2)"),
        ("id,title,colour\nR-1,a,red\n", "risks.csv:1: colour: unknown column"),
        ("id,title,owner,likelihood,impact,treatment\nR-1,a,o,x,1,avoid\n", "risks.csv:2: likelihood:"),
        ("id,title,owner,likelihood,impact,treatment\nR-1,a,o,1,1,accept\n", "risks.csv:2: an accepted risk"),
    ],
)  # fmt: skip
def test_a_bad_csv_register_names_the_line_and_column(cli: Any, project: Project, content: str, message: str) -> None:
    (project.root / "risks.csv").write_text(content)
    config = project.config(ESTATE, extra="risks: ./risks.csv\n")
    result = cli("validate", "-c", str(config))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1 and message in result.err, result.err


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "risks: risk register"),
        ("directory", "risks.yaml: is a directory, not a file"),
    ],
)
def test_a_missing_or_directory_register_is_refused(cli: Any, project: Project, setup: str, message: str) -> None:
    if setup == "directory":
        (project.root / "risks.yaml").mkdir()
    config = project.config(ESTATE, extra="risks: ./risks.yaml\n")
    result = cli("validate", "-c", str(config))
    assert result.code == 2 and message in result.err, result.err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("soa: {justifications: {A.9.9: legal}}\n", "soa.justifications.A.9.9: unknown Annex A control id"),
        ("soa: {justifications: {A.5.31: ''}}\n", "soa.justifications.A.5.31: the justification is empty"),
        ("soa: {excluded: {A.7.4: ''}}\n", "soa.excluded.A.7.4: an exclusion needs its reason"),
        ("soa: {excluded: {A.7.4: remote}, justifications: {A.7.4: legal}}\n", "also excluded"),
    ],
)
def test_bad_soa_settings_are_refused(cli: Any, project: Project, extra: str, message: str) -> None:
    config = project.config(ESTATE, extra=extra)
    result = cli("validate", "-c", str(config))
    assert result.code == 2 and message in result.err, result.err


def test_xlsx_is_not_written_to_a_terminal_and_a_bad_format_is_refused(cli: Any, registered: Path) -> None:
    result = cli("soa", "-c", str(registered), "--format", "pdf")
    assert result.code == 2 and "pdf" in result.err


def test_validate_warns_when_an_excluded_control_is_covered_by_checks(cli: Any, project: Project) -> None:
    config = project.config(ESTATE, extra='soa:\n  excluded: {A.8.5: "handled by the parent company"}\n')
    result = cli("validate", "-c", str(config))
    assert result.code == 0 and "valid" in result.out
    assert "soa.excluded.A.8.5: excluded, yet 1 enabled checks cover it (fake.iam.user_mfa_enabled)" in result.err
    assert f"{config}:7:" in result.err  # the line of the exclusion
