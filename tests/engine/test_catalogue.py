"""The shipped Annex A catalogue and the shipped check files."""

from __future__ import annotations

import csv
from pathlib import Path

from collector.catalog import load_catalogue
from collector.mapping import builtin_mapping_files, load_checks
from collector.registry import available_connectors, evidence_kinds

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "annex_a_2022.tsv"


def test_catalogue_matches_reference_list() -> None:
    with REFERENCE.open() as handle:
        expected = [(r["id"], r["theme"], r["title"]) for r in csv.DictReader(handle, delimiter="\t")]
    assert len(expected) == 93
    assert [(c.id, c.theme, c.title) for c in load_catalogue()] == expected


def test_builtin_checks_are_valid_and_documented() -> None:
    connectors = available_connectors()
    checks = load_checks(evidence_kinds(connectors))
    for check in checks.checks.values():
        assert check.id.startswith(check.connector + "."), check.id
        assert check.definition.remediation.strip(), check.id
    for name, cls in connectors.items():
        assert cls.permissions, f"{name} declares no permissions"
        for kind in cls.evidence_kinds:
            assert kind.name.startswith(name + "."), kind.name
            assert kind.description, kind.name
    assert all(p.suffix == ".yaml" for p in builtin_mapping_files())
