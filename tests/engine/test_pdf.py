"""`annexa report --format pdf`: a real PDF (WeasyPrint) whose text holds the verdicts, never to a terminal."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.support import Project


def _weasyprint() -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        if os.environ.get("CI"):
            pytest.fail(f"WeasyPrint is required in CI: {exc}")
        pytest.skip(f"WeasyPrint is not usable here: {exc}")


def test_the_pdf_report_carries_the_summary_and_the_failing_resource(project: Project, cli, tmp_path: Path) -> None:
    _weasyprint()
    project.config("{users: [{name: alice, mfa: true}, {name: bob, mfa: false}], buckets: [{name: b, public: false}]}")
    assert cli("run").code == 0
    out = tmp_path / "report.pdf"
    result = cli("report", "--format", "pdf", "-o", str(out))
    assert result.code == 0, result.err
    assert out.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed to read the text back")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "ISO/IEC 27001:2022 gap report" in text and "Test GmbH" in text
    assert "user bob has no MFA device" in text
