"""Progress of a run: a live table per connector on a terminal, plain lines when piped or NO_COLOR."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, TextIO


class Progress:
    """Silent progress; the base for the two visible kinds."""

    def message(self, text: str) -> None:
        pass

    def connector(self, label: str, text: str) -> None:
        pass

    def connector_done(self, label: str, status: str, items: int, errors: int) -> None:
        pass

    def close(self) -> None:
        pass


class PlainProgress(Progress):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self.lock:
            print(text, file=self.stream, flush=True)

    def message(self, text: str) -> None:
        self._line(f"annexa: {text}")

    def connector(self, label: str, text: str) -> None:
        self._line(f"annexa: [{label}] {text}")

    def connector_done(self, label: str, status: str, items: int, errors: int) -> None:
        self._line(f"annexa: [{label}] done: {status}, {items} items, {errors} errors")


class RichProgress(Progress):
    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.rows: dict[str, list[str]] = {}
        self.lock = threading.Lock()
        self.live = Live(self._table(), console=self.console, refresh_per_second=8, transient=False)
        self.live.start()

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title="annexa run", expand=False)
        for column in ("connector", "status", "items", "errors", "last"):
            table.add_column(column)
        for label, row in self.rows.items():
            table.add_row(label, *row)
        return table

    def _update(self, label: str, **changes: str) -> None:
        with self.lock:
            row = self.rows.setdefault(label, ["collecting", "0", "0", ""])
            for index, key in enumerate(("status", "items", "errors", "last")):
                if key in changes:
                    row[index] = changes[key]
            self.live.update(self._table())

    def message(self, text: str) -> None:
        self.console.print(f"[bold]annexa[/bold]: {text}")

    def connector(self, label: str, text: str) -> None:
        if text.endswith(" items") and text.split()[0].isdigit():
            self._update(label, items=text.split()[0])
        elif text.startswith("error: "):
            with self.lock:
                row = self.rows.setdefault(label, ["collecting", "0", "0", ""])
                row[2] = str(int(row[2]) + 1)
            self._update(label, last=text[:60])
        else:
            self._update(label, last=text[:60])

    def connector_done(self, label: str, status: str, items: int, errors: int) -> None:
        colour = {"ok": "green", "partial": "yellow"}.get(status, "red")
        self._update(label, status=f"[{colour}]{status}[/{colour}]", items=str(items), errors=str(errors), last="")

    def close(self) -> None:
        self.live.stop()


def make_progress(quiet: bool = False, stream: TextIO | None = None) -> Progress:
    if quiet:
        return Progress()
    target = stream or sys.stderr
    if target.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb":
        return RichProgress()
    return PlainProgress(target)
