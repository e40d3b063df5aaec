"""What the store does not keep about a check: its description, its scope (`when`) and default parameters.

A run stores each check's title, severity and result, not the expressions. To explain a check that had
nothing in scope, the report reads the shipped mapping files (cached once per process). A check from a
user's own mapping file is not found here; its explanation then rests on the counts alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

_PARAM_REF = re.compile(r"\bparams\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class CheckInfo:
    description: str | None = None
    when: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def scope_params(self) -> list[str]:
        """The parameters the scope reads, in order of first use."""
        return list(dict.fromkeys(_PARAM_REF.findall(self.when or "")))


@lru_cache(maxsize=1)
def shipped_checks() -> dict[str, CheckInfo]:
    from ..mapping import builtin_mapping_files

    found: dict[str, CheckInfo] = {}
    for path in builtin_mapping_files():
        found.update(_read(path))
    return found


def _read(path: Path) -> dict[str, CheckInfo]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
    except (OSError, yaml.YAMLError):
        return {}  # `annexa validate` reports a broken file; a report only loses an explanation
    out: dict[str, CheckInfo] = {}
    for raw in data.get("checks") or []:
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            when = raw.get("when")
            out[raw["id"]] = CheckInfo(
                description=_text(raw.get("description")),
                when=" ".join(str(when).split()) if when is not None else None,
                params=dict(raw.get("params") or {}),
            )
    return out


def _text(value: Any) -> str | None:
    return " ".join(str(value).split()) if value else None
