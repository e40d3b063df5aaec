"""A lazily built gap report (populations read from the store as they are written, what the auditor
pack uses to stay within bounded memory) renders exactly like the eager one, in every format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.report import build_gap_report
from collector.report.gap import StoredRows
from collector.report.render import iter_csv, iter_json, render_report
from collector.store import Store


@pytest.mark.parametrize("fmt", ["json", "csv", "md", "html"])
def test_the_lazy_report_renders_byte_for_byte_like_the_eager_one(demo_dir: Path, fmt: str) -> None:
    with Store(demo_dir / "annexa-demo.db") as store:
        run = store.resolve_run(None)
        eager = build_gap_report(store, dict(run))
        lazy = build_gap_report(store, dict(run), lazy=True)
        lazy["generated_at"] = eager["generated_at"]
        history = store.runs(include_unpublished=False)
        assert render_report(lazy, fmt, history) == render_report(eager, fmt, history)
        if fmt == "json":
            assert "".join(iter_json(lazy)) == render_report(eager, "json")
        if fmt == "csv":
            assert "".join(iter_csv(lazy)) == render_report(eager, "csv")


def test_stored_rows_count_slice_and_iterate_from_the_store(demo_dir: Path) -> None:
    with Store(demo_dir / "annexa-demo.db") as store:
        run = store.resolve_run(None)
        eager = build_gap_report(store, dict(run))
        lazy = build_gap_report(store, dict(run), lazy=True)
        checks = [c for control in eager["controls"] for c in control["checks"]]
        lazy_checks = {c["id"]: c for control in lazy["controls"] for c in control["checks"]}
        big = max(checks, key=lambda c: len(c["population"]))
        rows = lazy_checks[big["id"]]["population"]
        assert isinstance(rows, StoredRows)
        assert len(rows) == len(big["population"]) > 3
        assert list(rows) == big["population"]
        assert rows[1:3] == big["population"][1:3] and rows[-1] == big["population"][-1]
        failing = next(c for c in checks if c["failing"])
        assert list(lazy_checks[failing["id"]]["failing"]) == failing["failing"]


class _Rows(StoredRows):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


_values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(), st.floats(allow_nan=False))
_rows = st.lists(st.dictionaries(st.text(min_size=1, max_size=8), _values, min_size=1, max_size=5), max_size=6)


@settings(max_examples=200, deadline=None)
@given(rows=_rows, depth=st.integers(min_value=0, max_value=3))
def test_streamed_rows_are_written_as_json_dumps_writes_them(rows: list[dict[str, Any]], depth: int) -> None:
    def nest(value: Any) -> Any:
        for _ in range(depth):
            value = {"level": [{"population": value, "after": "x"}]}
        return {"population": value, "tail": 1}

    assert "".join(iter_json(nest(_Rows(rows)))) == json.dumps(nest(rows), indent=2, ensure_ascii=False) + "\n"
