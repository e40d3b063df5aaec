"""``manual_evidence:`` in annexa.yaml: re-hashed every run, changes show in diff, a missing file is an error."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from engine.support import Project

DECLARED = """
manual_evidence:
  - path: isms/policy.md
    title: Information security policy
    controls: [A.5.1]
    clauses: ["5.2"]
    owner: CISO
    date: 2026-01-15
    review_every: 12m
  - url: https://wiki.example.com/isms/roles
    id: roles-wiki
    title: Roles and responsibilities
    controls: A.5.2
"""


@pytest.fixture
def declared(project: Project) -> Path:
    (project.root / "isms").mkdir()
    (project.root / "isms" / "policy.md").write_text("# Policy\n\nversion 1\n")
    return project.config(extra=DECLARED)


def _manual_items(store: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(store) as db:
        rows = db.execute(
            "select e.item_id, b.data, e.unknown from evidence e join blobs b on b.hash = e.hash "
            "where e.kind = 'annexa.manual_evidence' and e.valid_to is null"
        ).fetchall()
    return {item: {"data": json.loads(data), "unknown": json.loads(unknown or "{}")} for item, data, unknown in rows}


def test_each_run_hashes_declared_files_and_stores_their_bytes(cli: Any, declared: Path, project: Project) -> None:
    result = cli("run", "-c", str(declared))
    assert result.code == 0, result.err
    items = _manual_items(project.store)
    digest = hashlib.sha256(b"# Policy\n\nversion 1\n").hexdigest()
    assert items["isms/policy.md"]["data"]["sha256"] == digest
    assert items["isms/policy.md"]["data"]["controls"] == ["A.5.1"]
    assert items["isms/policy.md"]["data"]["review_every"] == "12m"
    assert items["roles-wiki"]["data"]["location"] == "https://wiki.example.com/isms/roles"
    assert items["roles-wiki"]["data"]["sha256"] is None
    with sqlite3.connect(project.store) as db:
        stored = db.execute("select data from documents where sha256 = ?", [digest]).fetchone()
    assert stored is not None and bytes(stored[0]) == b"# Policy\n\nversion 1\n"


def test_a_changed_policy_shows_in_diff_like_any_evidence_change(cli: Any, declared: Path, project: Project) -> None:
    assert cli("run", "-c", str(declared)).code == 0
    (project.root / "isms" / "policy.md").write_text("# Policy\n\nversion 2: MFA everywhere\n")
    assert cli("run", "-c", str(declared)).code == 0
    diff = cli("diff", "-c", str(declared), "--format", "json")
    assert diff.code == 0, diff.err
    changed = json.loads(diff.out)["evidence"]["changed"]
    policy = [c for c in changed if c["kind"] == "annexa.manual_evidence"]
    assert [(c["id"], c["fields"]) for c in policy] == [("isms/policy.md", ["sha256", "size"])]


def test_an_unchanged_file_adds_no_document_bytes(cli: Any, declared: Path, project: Project) -> None:
    assert cli("run", "-c", str(declared)).code == 0
    with sqlite3.connect(project.store) as db:
        before = db.execute("select count(*), sum(size) from documents").fetchone()
    assert cli("run", "-c", str(declared)).code == 0
    with sqlite3.connect(project.store) as db:
        assert db.execute("select count(*), sum(size) from documents").fetchone() == before


def test_a_missing_declared_file_is_an_error_for_that_entry_never_a_silent_drop(
    cli: Any, declared: Path, project: Project
) -> None:
    assert cli("run", "-c", str(declared)).code == 0
    (project.root / "isms" / "policy.md").unlink()
    result = cli("run", "-c", str(declared))
    assert result.code == 1  # partial
    assert "isms/policy.md" in result.out + result.err and "No such file" in result.out + result.err
    items = _manual_items(project.store)
    assert "isms/policy.md" in items  # kept, marked
    assert "sha256" not in items["isms/policy.md"]["data"]
    assert "No such file" in items["isms/policy.md"]["unknown"]["sha256"]
    runs = json.loads(cli("runs", "-c", str(declared), "--format", "json").out)["runs"]
    assert runs[0]["status"] == "partial"
    manual = next(c for c in runs[0]["connectors"] if c["name"] == "manual")
    assert manual["status"] == "partial"


def test_manual_evidence_may_live_in_a_file_the_config_names(cli: Any, project: Project) -> None:
    (project.root / "isms").mkdir()
    (project.root / "isms" / "scope.md").write_text("scope")
    (project.root / "isms" / "register.yaml").write_text(
        "manual_evidence:\n  - path: scope.md\n    title: ISMS scope\n    clauses: ['4.3']\n"
    )
    config = project.config(extra="manual_evidence: isms/register.yaml\n")
    assert cli("run", "-c", str(config)).code == 0
    assert _manual_items(project.store)["scope.md"]["data"]["sha256"] == hashlib.sha256(b"scope").hexdigest()


@pytest.mark.parametrize(
    ("entry", "line", "key", "message"),
    [
        ("  - path: a.md\n    title: A\n    controls: [A.9.9]\n", 4, "manual_evidence[0].controls",
         "'A.9.9' is not an Annex A"),
        ("  - path: a.md\n    title: A\n    clauses: ['11.1']\n", 4, "manual_evidence[0].clauses",
         "'11.1' is not an ISMS"),
        ("  - path: a.md\n    title: A\n", 2, "manual_evidence[0]", "name at least one of controls:"),
        ("  - title: A\n    controls: [A.5.1]\n", 2, "manual_evidence[0]", "give either path: or url:"),
        ("  - path: a.md\n    title: A\n    controls: [A.5.1]\n    review_every: monthly\n", 5,
         "manual_evidence[0].review_every", "'monthly' is not a review period"),
        ("  - path: a.md\n    title: A\n    controls: [A.5.1]\n    date: 2026-13-01\n", 5,
         "manual_evidence[0].date", "date"),
        ("  - path: a.md\n    title: A\n    controls: [A.5.1]\n    colour: red\n", 5,
         "manual_evidence[0].colour", "unknown key"),
        ("  - path: a.md\n    title: A\n    controls: [A.5.1]\n  - path: a.md\n    title: B\n    controls: [A.5.2]\n",
         5, "manual_evidence[1]", "duplicate entry 'a.md'"),
    ],
)  # fmt: skip
def test_bad_declared_entries_are_one_line_exit_2_and_nothing_written(
    cli: Any, project: Project, entry: str, line: int, key: str, message: str
) -> None:
    config = project.config(extra="manual_evidence:\n" + entry)
    offset = config.read_text().splitlines().index("manual_evidence:")
    result = cli("validate", "-c", str(config))
    assert result.code == 2, result.out
    first = result.err.strip().splitlines()
    assert len(first) == 1, result.err
    assert first[0].startswith(f"annexa: error: {config}:{offset + line}: {key}: "), first[0]
    assert message in first[0]
    assert cli("run", "-c", str(config)).code == 2
    assert not project.store.exists()
