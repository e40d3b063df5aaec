"""`annexa report --format pdf`: the HTML report's print layout, paginated by WeasyPrint.

WeasyPrint is optional (`pip install 'annexa[pdf]'`) and needs Pango from the system (README:
command reference). The PDF is the printable page: every section open, no script, no filter form,
page numbers in the footer. A PDF is bytes: it goes to ``-o FILE``, or to standard output only when
that is not a terminal (a PDF would garble it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..outputs import OutputError, check_destination, emit_bytes, refuse_terminal
from .html import render_html

INSTALL_HINT = (
    "pip install 'annexa[pdf]'; on Debian or Ubuntu also: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
    "libharfbuzz-subset0 fonts-dejavu-core"
)


def _weasyprint() -> Any:
    try:
        import weasyprint
    except ImportError:
        raise OutputError(f"--format pdf needs WeasyPrint, which is not installed: {INSTALL_HINT}") from None
    except OSError as exc:  # WeasyPrint loads Pango with dlopen at import time
        raise OutputError(f"WeasyPrint could not load its system libraries ({exc}): {INSTALL_HINT}") from None
    return weasyprint


def render_pdf(report: Mapping[str, Any], history: Sequence[Mapping[str, Any]] | None = None) -> bytes:
    weasyprint = _weasyprint()
    html = render_html(report, history, printable=True)
    # The page refers to nothing outside itself, so no base URL: nothing is fetched.
    data: bytes = weasyprint.HTML(string=html).write_pdf()
    return data


def emit_pdf(config: str | None, run_ref: str | None, output: Path | None, follow_symlinks: bool) -> None:
    """The `report --format pdf` command: checks the destination before reading the store."""
    from ..operations import open_store_for_reading
    from .gap import build_gap_report

    _weasyprint()  # a missing extra is reported before anything is read
    refuse_terminal(output, "a PDF")
    if output is not None:
        check_destination(output, follow_symlinks=follow_symlinks)
    with open_store_for_reading(config) as store:
        report = build_gap_report(store, store.resolve_run(run_ref))
    emit_bytes(render_pdf(report), output, follow_symlinks=follow_symlinks)
