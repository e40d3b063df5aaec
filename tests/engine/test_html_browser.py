"""The HTML report opened in a real headless Chromium: the summary and a failing control render."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.support import Project

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return found


def _report_page(project: Project, cli) -> Path:
    """The HTML report of one run in which bob has no MFA (A.8.5 fails) and the bucket is private."""
    project.config("{users: [{name: alice, mfa: true}, {name: bob, mfa: false}], buckets: [{name: b, public: false}]}")
    assert cli("run").code == 0
    assert cli("report", "--format", "html", "-o", "report.html").code == 0
    return (project.root / "report.html").resolve()


def _dump_dom(chromium: str, profile: Path, uri: str, *flags: str) -> str:
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *flags, "--dump-dom", uri],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip


@pytest.mark.browser
def test_html_report_renders_in_chromium(project: Project, cli, tmp_path: Path) -> None:
    chromium = _chromium()
    page = _report_page(project, cli)
    assert "http://" not in page.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")
    profile = tmp_path / "chromium-profile"
    dom = _dump_dom(chromium, profile, page.as_uri())
    assert 'id="summary-fail" href="#status=fail"><b>1</b>fail' in dom
    assert 'id="control-A.8.5" class="control" open=""' in dom  # failing controls are expanded
    assert "user bob has no MFA device" in dom
    assert 'id="theme-chart"' in dom and "<rect" in dom
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank image


PROBE = """<!doctype html><html><body><div id="out">pending</div>
<iframe id="f" src="{src}" style="width:{width}px;height:900px;border:0"></iframe>
<script>
const f = document.getElementById('f');
f.onload = () => {{
  const d = f.contentDocument, root = d.documentElement;
  const shown = [...d.querySelectorAll('details.control')].filter(e => e.offsetParent !== null);
  document.getElementById('out').textContent = JSON.stringify({{
    scroll: root.scrollWidth, client: root.clientWidth,
    shown: shown.map(e => e.dataset.status),
  }});
}};
</script></body></html>"""


def _probe(chromium: str, page: Path, tmp_path: Path, width: int, fragment: str = "") -> dict:
    import json
    import re

    probe = tmp_path / f"probe-{width}.html"
    probe.write_text(PROBE.format(src=page.as_uri() + fragment, width=width))
    dom = _dump_dom(
        chromium,
        tmp_path / "probe-profile",
        probe.as_uri(),
        "--allow-file-access-from-files",
        "--virtual-time-budget=10000",
    )
    found = re.search(r'<div id="out">([^<]*)</div>', dom)
    assert found and found.group(1) != "pending", dom[:500]
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.mark.browser
def test_the_report_fits_a_phone_and_a_desktop_and_its_filter_works(project: Project, cli, tmp_path: Path) -> None:
    chromium = _chromium()
    page = _report_page(project, cli)
    for width in (390, 1280):
        seen = _probe(chromium, page, tmp_path, width)
        assert seen["scroll"] <= seen["client"], f"horizontal overflow at {width}px: {seen}"
        assert "manual" in seen["shown"] and "fail" in seen["shown"]
    filtered = _probe(chromium, page, tmp_path, 1280, "#status=fail")
    assert filtered["shown"] and set(filtered["shown"]) == {"fail"}  # the URL fragment filters by status
