"""Gap reports: the JSON document (CONTRACT §6) is the source; Markdown, CSV and HTML render from it."""

from .gap import build_gap_report
from .render import FORMATS, render_report

__all__ = ["FORMATS", "build_gap_report", "render_report"]
