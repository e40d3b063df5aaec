"""Generate docs/screenshots/*.png: the gap report as docs/report.md shows it.

Builds a store of eight weekly runs of the built-in simulated estate (the demo's connectors, their
clock set to each run's day; the first two runs carry `annexa demo --drift`'s regressions, and from
the third run on a growing share of the first run's failing resources is gone, so the history chart
has a trend to show), writes the reports of the last run, then photographs the HTML report in headless
Chromium at 1280 and 390 CSS pixels wide and renders the first PDF pages with pdftoppm.

Needs: /usr/bin/chromium (or $CHROMIUM), WeasyPrint (`pip install -e '.[all,dev]'`) and poppler-utils.
Run from the repository root: ``python docs/make_screenshots.py [--out docs/screenshots] [--keep DIR]``.
Nothing is fetched: the page is a local file and Chromium runs with its background networking off.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageChops

from collector.demo import EXCLUDED, ORGANIZATION, STORE_NAME, demo_plan, estate_clock, write_demo_config
from collector.mapping import load_checks
from collector.operations import write_reports
from collector.progress import make_progress
from collector.registry import available_connectors, evidence_kinds
from collector.report import build_gap_report
from collector.report.pdf import render_pdf
from collector.runner import CollectorPlan, execute_run
from collector.store import Store
from collector.timeutil import utcnow
from connectors.base import CollectContext, CollectionError, Connector, EvidenceItem

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
RUNS = 8

# name, width, height, URL fragment, elements kept (None: the whole page from its top), details opened
SHOTS: list[tuple[str, int, int, str, list[str] | None, list[str]]] = [
    ("report-summary", 1280, 1900, "", None, []),
    ("report-failing", 1280, 1300, "", ["form#filters", 'section[data-group="failing"]'], []),
    ("report-findings", 1280, 1100, "", ['section[data-group="findings"]'], []),
    (
        "report-filtered",
        1280,
        1000,
        "#connector=aws&severity=critical",
        ["form#filters", 'section[data-group="controls"]'],
        [],
    ),
    (
        "report-not-assessed",
        1280,
        1000,
        "",
        ['section[data-group="not-assessed"]', '[id="check-aws.accessanalyzer.enabled"]'],
        [],
    ),
    (
        "report-check-population",
        1280,
        1200,
        "",
        ['[id="check-aws.iam.user_mfa_enabled"]'],
        ['[id="check-aws.iam.user_mfa_enabled"] details'],
    ),
    ("report-mobile", 390, 1500, "", None, []),
    ("report-mobile-check", 390, 1500, "", ['[id="check-aws.iam.user_mfa_enabled"]'], []),
]

# Run in the page after the report's own script: keep only the chosen elements (and the path to them).
STAGE = """<script>(function () {
  var keep = %s, open = %s;
  open.forEach(function (s) { document.querySelectorAll(s).forEach(function (d) { d.open = true; }); });
  if (!keep) return;
  var kept = [], path = new Set();
  keep.forEach(function (s) { document.querySelectorAll(s).forEach(function (e) { kept.push(e); }); });
  kept.forEach(function (e) { for (var n = e; n && n !== document.body; n = n.parentElement) path.add(n); });
  (function prune(node) {
    Array.prototype.forEach.call(node.children, function (c) {
      if (kept.indexOf(c) >= 0) return;
      if (path.has(c)) prune(c); else c.style.display = "none";
    });
  })(document.body);
  window.scrollTo(0, 0);
})();</script>"""


def _plan(cls: type[Connector], day: datetime, drift: bool, gone: frozenset[tuple[str, str]]) -> CollectorPlan:
    base = demo_plan(cls, day, drift)

    def collect(context: CollectContext) -> Iterator[EvidenceItem | CollectionError]:
        for record in base.collect(context):
            if isinstance(record, EvidenceItem) and (record.kind, record.id) in gone:
                continue
            yield record

    return CollectorPlan(base.name, base.label, base.kinds, collect)


def build_store(directory: Path) -> str:
    """Eight weekly runs ending today; returns the last run's id."""
    connectors = available_connectors()
    checks = load_checks(evidence_kinds(connectors))
    today = estate_clock(utcnow())
    failing: list[tuple[str, str]] = []
    run_id = ""
    with Store(directory / STORE_NAME, create=True) as store:
        store.acquire_lock()
        for n in range(RUNS):
            day = today - timedelta(days=7 * (RUNS - 1 - n))
            gone = frozenset(failing[: len(failing) * max(0, n - 1) // (RUNS + 4)])
            plans = [_plan(cls, day, n < 2, gone) for _, cls in sorted(connectors.items())]
            result = execute_run(
                store,
                plans,
                checks,
                organization=ORGANIZATION,
                config_digest="screenshots",
                excluded=EXCLUDED,
                progress=make_progress(True),
                started_at=day + timedelta(hours=6),
            )
            if n == 0:
                failing = sorted(
                    {
                        (r.check.definition.evidence, f.resource)
                        for r in result.checks.values()
                        for f in r.findings
                        if f.status == "fail"
                    }
                )
            run_id = result.run_id
    write_demo_config(directory, today)
    return run_id


def _trim(path: Path) -> None:
    """Cut the empty space below the content (a shot's window is taller than most sections)."""
    image = Image.open(path).convert("RGB")
    background = Image.new("RGB", image.size, (255, 255, 255))
    box = ImageChops.difference(image, background).getbbox()
    if box:
        image.crop((0, 0, image.width, min(image.height, box[3] + 24))).save(path, optimize=True)


def shoot(chromium: str, page: Path, out: Path, work: Path) -> list[Path]:
    written = []
    html = page.read_text(encoding="utf-8")
    for name, width, height, fragment, keep, opened in SHOTS:
        staged = work / f"{name}.html"
        staged.write_text(html.replace("</body>", STAGE % (json.dumps(keep), json.dumps(opened)) + "</body>"))
        target = out / f"{name}.png"
        subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={work / 'profile'}",
                f"--window-size={width},{height}",
                f"--screenshot={target}",
                staged.as_uri() + fragment,
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
        _trim(target)
        written.append(target)
    return written


def pdf_pages(pdf: Path, out: Path, work: Path, pages: int = 3) -> Path:
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", str(pages), str(pdf), str(work / "page")], check=True
    )
    images = [Image.open(p).convert("RGB") for p in sorted(work.glob("page-*.png"))]
    gap = 16
    sheet = Image.new(
        "RGB",
        (sum(i.width for i in images) + gap * (len(images) + 1), max(i.height for i in images) + 2 * gap),
        "#d8dee4",
    )
    x = gap
    for image in images:
        sheet.paste(image, (x, gap))
        x += image.width + gap
    target = out / "report-pdf-pages.png"
    sheet.save(target, optimize=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--keep", type=Path, help="keep the store and reports in this directory")
    args = parser.parse_args()
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("make_screenshots: chromium is not installed (apt-get install chromium)")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        estate = args.keep or work / "estate"
        if estate.exists():
            shutil.rmtree(estate)
        estate.mkdir(parents=True)
        run_id = build_store(estate)
        with Store(estate / STORE_NAME) as store:
            write_reports(store, run_id, estate)
            report = build_gap_report(store, store.resolve_run(run_id))
        written = shoot(chromium, estate / "gap-report.html", args.out, work)
        pdf = estate / "gap-report.pdf"
        pdf.write_bytes(render_pdf(report))
        written.append(pdf_pages(pdf, args.out, work))
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
