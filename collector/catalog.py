"""The 93 Annex A controls of ISO/IEC 27001:2022, loaded from control_mappings/annex_a_2022.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from control_mappings import CATALOGUE_FILE, CLAUSES_FILE

from .yamlload import load_yaml

THEMES = ("organizational", "people", "physical", "technological")
_ID = re.compile(r"^A\.([5-8])\.(\d{1,2})$")


@dataclass(frozen=True)
class Control:
    id: str
    theme: str
    title: str
    expected: str | None = None  # what an auditor usually asks for where no API can show the control
    # One sentence on what the automated evidence shows and which part stays attestation: a pass of
    # a partially covered control must not read as the whole control being evidenced.
    automated: str | None = None

    @property
    def sort_key(self) -> tuple[int, int]:
        return control_sort_key(self.id)


def control_sort_key(control_id: str) -> tuple[int, int]:
    match = _ID.match(control_id)
    if not match:
        return (99, 99)
    return int(match.group(1)), int(match.group(2))


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_FILE) -> tuple[Control, ...]:
    loaded = load_yaml(path)
    controls = []
    for i, raw in enumerate(loaded.data.get("controls", [])):
        if not isinstance(raw, dict) or not {"id", "theme", "title"} <= set(raw) <= {
            "id",
            "theme",
            "title",
            "expected",
            "automated",
        }:
            raise loaded.error(
                ("controls", i), "each control has id, theme, title and optionally expected and automated"
            )
        if not _ID.match(str(raw["id"])) or raw["theme"] not in THEMES:
            raise loaded.error(("controls", i), f"bad control {raw}")
        controls.append(
            Control(str(raw["id"]), str(raw["theme"]), str(raw["title"]), raw.get("expected"), raw.get("automated"))
        )
    return tuple(sorted(controls, key=lambda c: c.sort_key))


def control_ids() -> frozenset[str]:
    return frozenset(c.id for c in load_catalogue())


@dataclass(frozen=True)
class Clause:
    """One item of the ISMS's mandatory documented information (clauses 4-10)."""

    id: str
    title: str
    expected: str


@lru_cache(maxsize=2)
def load_clauses(path: Path = CLAUSES_FILE) -> tuple[Clause, ...]:
    loaded = load_yaml(path)
    clauses = []
    for i, raw in enumerate(loaded.data.get("clauses", [])):
        if not isinstance(raw, dict) or set(raw) != {"id", "title", "expected"}:
            raise loaded.error(("clauses", i), "each clause has id, title and expected")
        clauses.append(Clause(str(raw["id"]), str(raw["title"]), str(raw["expected"])))
    return tuple(sorted(clauses, key=lambda c: tuple(int(p) for p in c.id.split("."))))


def clause_ids() -> frozenset[str]:
    return frozenset(c.id for c in load_clauses())
