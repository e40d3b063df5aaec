"""The risk register (``risks:`` in annexa.yaml): risks linked to the controls that treat them.

The register is a YAML or CSV file, validated like every other input (file, line, key on errors). Every
run records it as evidence items of the built-in kind ``annexa.risk``, so a report of an old run shows
the register as it stood then and a changed risk shows in ``annexa diff``.

Exposure is the point: a risk whose treating controls fail, are not assessed or lack current evidence
is not shown to be treated, and is reported with the failing resources behind it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from connectors.base import CollectContext, CollectionError, EvidenceItem

from .pydantic_errors import plain_message
from .register import CURRENT, EXPIRING, unknown_control
from .runner import CollectorPlan
from .store import Store
from .yamlload import InputError, LoadedYaml, load_yaml, read_text_input

KIND = "annexa.risk"
JUSTIFICATION_KIND = "annexa.soa_justification"
PLAN_NAME = "isms"
SCHEMA = "annexa/risks@1"
TREATMENTS = ("mitigate", "accept", "transfer", "avoid")
CSV_LIST_SEPARATORS = (";", ",", " ")
FAILING_SHOWN = 10  # failing resources listed per risk; the count says how many more there are


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid")

    likelihood: int = Field(default=5, ge=2, le=10)
    impact: int = Field(default=5, ge=2, le=10)


class Risk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    owner: str
    likelihood: int
    impact: int
    treatment: Literal["mitigate", "accept", "transfer", "avoid"]
    controls: list[str] = []
    accepted_by: str | None = None
    accepted_on: dt.date | None = None
    description: str | None = None

    @field_validator("id", "title", "owner")
    @classmethod
    def _text(cls, value: str) -> str:
        if not str(value).strip():
            raise ValueError("must not be empty")
        return str(value).strip()

    @field_validator("controls", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else ([] if value is None else value)

    @field_validator("controls")
    @classmethod
    def _controls(cls, value: list[str]) -> list[str]:
        if problem := unknown_control(value):
            raise ValueError(problem)
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _consistent(self) -> Risk:
        if self.treatment == "accept" and not self.accepted_by:
            raise ValueError("an accepted risk names who accepted it (accepted_by:) and when (accepted_on:)")
        if self.treatment == "accept" and self.accepted_on is None:
            raise ValueError("an accepted risk says when it was accepted (accepted_on: YYYY-MM-DD)")
        if self.treatment == "mitigate" and not self.controls:
            raise ValueError("a mitigated risk names the controls that treat it (controls: [A.8.5, …])")
        return self

    @property
    def score(self) -> int:
        return self.likelihood * self.impact


@dataclass(frozen=True)
class Register:
    file: Path
    scale: Scale
    risks: tuple[Risk, ...]


def load_register(file: Path) -> Register:
    """Read and validate a risk register (YAML or CSV, by its suffix)."""
    if file.suffix.lower() == ".csv":
        return _load_csv(file)
    source = load_yaml(file)
    data = source.data
    scale_path: tuple[str | int, ...] = ("scale",)
    path: tuple[str | int, ...] = ()
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"scale", "risks"})
        if unknown:
            raise source.error((unknown[0],), "unknown key (a risk register has scale: and risks:)")
        try:
            scale = Scale.model_validate(data.get("scale") or {})
        except ValidationError as exc:
            raise _error(source, exc, scale_path) from None
        listed, path = data.get("risks"), ("risks",)
    else:
        scale, listed, path = Scale(), data, ()
    if not isinstance(listed, list):
        raise source.error(path, "must be a list of risks (id, title, owner, likelihood, impact, treatment, controls)")
    risks = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(listed):
        try:
            risk = Risk.model_validate(raw)
        except ValidationError as exc:
            raise _error(source, exc, (*path, i)) from None
        _check_scale(risk, scale, lambda key, message, at=(*path, i): source.error((*at, key), message))
        if risk.id in seen:
            raise source.error((*path, i, "id"), f"duplicate risk id {risk.id!r} (first at item {seen[risk.id]})")
        seen[risk.id] = i
        risks.append(risk)
    return Register(file, scale, tuple(risks))


def _check_scale(risk: Risk, scale: Scale, error: Any) -> None:
    for key, top in (("likelihood", scale.likelihood), ("impact", scale.impact)):
        value = getattr(risk, key)
        if not 1 <= value <= top:
            raise error(key, f"{value} is outside the scale 1-{top}")


def _error(source: LoadedYaml, exc: ValidationError, prefix: tuple[str | int, ...]) -> InputError:
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
    return source.error((*prefix, *loc), plain_message(err))


def _load_csv(file: Path) -> Register:
    text = read_text_input(file)
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    allowed = set(Risk.model_fields)
    for name in header:
        if name not in allowed:
            raise InputError(file, 1, name, f"unknown column (columns: {', '.join(Risk.model_fields)})")
    scale, risks, seen = Scale(), [], dict[str, int]()
    for row in reader:
        line = reader.line_num
        raw: dict[str, Any] = {k: v.strip() for k, v in row.items() if k is not None and v not in (None, "")}
        if None in row:
            raise InputError(file, line, "", "more fields than the header has columns")
        if "controls" in raw:
            raw["controls"] = _split_list(raw["controls"])
        try:
            risk = Risk.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = str(err["loc"][0]) if err["loc"] else ""
            message = "required column is empty or missing" if err["type"] == "missing" else plain_message(err)
            raise InputError(file, line, key, message) from None

        def fail(key: str, message: str, line: int = line) -> InputError:
            return InputError(file, line, key, message)

        _check_scale(risk, scale, fail)
        if risk.id in seen:
            raise InputError(file, line, "id", f"duplicate risk id {risk.id!r} (first on line {seen[risk.id]})")
        seen[risk.id] = line
        risks.append(risk)
    return Register(file, scale, tuple(risks))


def _split_list(text: str) -> list[str]:
    for separator in CSV_LIST_SEPARATORS:
        if separator in text:
            return [part.strip() for part in text.split(separator) if part.strip()]
    return [text.strip()]


# -- recording the register in a run -------------------------------------------------------------


def risk_item(risk: Risk, scale: Scale) -> EvidenceItem:
    data = risk.model_dump(mode="json")
    data.update(score=risk.score, scale={"likelihood": scale.likelihood, "impact": scale.impact})
    return EvidenceItem(KIND, risk.id, data)


def isms_plan(register: Register | None, justifications: Mapping[str, str]) -> CollectorPlan | None:
    """The built-in plan that records the risk register and the SoA justifications in every run."""
    if register is None and not justifications:
        return None

    def collect(context: CollectContext) -> Iterator[EvidenceItem | CollectionError]:
        if register is not None:
            for risk in register.risks:
                yield risk_item(risk, register.scale)
        for control_id, reason in sorted(justifications.items()):
            yield EvidenceItem(JUSTIFICATION_KIND, control_id, {"control": control_id, "justification": reason})

    return CollectorPlan(
        PLAN_NAME, PLAN_NAME, frozenset({KIND, JUSTIFICATION_KIND}), collect, counts_as_connector=False
    )


def recorded_risks(store: Store, run: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The register as ``run`` recorded it; None when the run recorded none (no ``risks:`` configured)."""
    rows = list(store.evidence(int(run["seq"]), kind=KIND, with_data=True))
    if not rows and not _recorded_kind(store, run, KIND):
        return None
    return [dict(row["data"]) for row in rows]


def recorded_justifications(store: Store, run: Mapping[str, Any]) -> dict[str, str]:
    rows = store.evidence(int(run["seq"]), kind=JUSTIFICATION_KIND, with_data=True)
    return {row["data"]["control"]: row["data"]["justification"] for row in rows}


def _recorded_kind(store: Store, run: Mapping[str, Any], kind: str) -> bool:
    return any(c["connector"] == PLAN_NAME and kind in (c.get("kinds") or {}) for c in store.connector_runs(run["id"]))


# -- exposure ---------------------------------------------------------------------------------------


def assess(risks: Sequence[Mapping[str, Any]], gap_report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every risk with its score, the status of its treating controls, and whether it is exposed.

    Exposed: a treating control fails, is not assessed, is excluded from the SoA, or is a manual
    control without current evidence. Ordered highest score first, then by id."""
    controls = {c["id"]: c for c in gap_report.get("controls", [])}
    out = []
    for risk in risks:
        reasons: list[str] = []
        failing: list[dict[str, Any]] = []
        failing_total = 0
        treating = []
        for control_id in risk.get("controls") or []:
            control = controls.get(control_id, {})
            status = control.get("status", "not_assessed")
            state = control.get("evidence_state", "missing")
            treating.append({"id": control_id, "status": status, "evidence_state": state})
            if status == "fail":
                bad = [c for c in control.get("checks", []) if c["status"] == "fail"]
                names = [c["id"] for c in bad]
                more = f" and {len(names) - 3} more" if len(names) > 3 else ""
                reasons.append(f"{control_id} fails ({', '.join(names[:3])}{more})")
                for check in bad:
                    rows = check.get("failing", [])
                    failing_total += len(rows)
                    room = FAILING_SHOWN - len(failing)  # a slice: a lazily built report reads only these rows
                    failing += [{"control": control_id, "check": check["id"], **f} for f in rows[: max(room, 0)]]
            elif status == "not_assessed":
                reasons.append(f"{control_id} is not assessed")
            elif status == "excluded":
                reasons.append(f"{control_id} is excluded from the SoA")
            elif status == "manual" and state not in (CURRENT, EXPIRING):
                reasons.append(f"{control_id} has no current evidence ({state})")
        if risk.get("treatment") == "accept" and not risk.get("controls"):
            reasons = []  # accepted outright: nothing is claimed to treat it
        out.append(
            {
                "id": risk["id"],
                "title": risk["title"],
                "owner": risk["owner"],
                "likelihood": risk["likelihood"],
                "impact": risk["impact"],
                "score": risk["score"],
                "treatment": risk["treatment"],
                "accepted_by": risk.get("accepted_by"),
                "accepted_on": risk.get("accepted_on"),
                "controls": treating,
                "exposed": bool(reasons),
                "reasons": reasons,
                "failing": [_failing(f) for f in failing[:FAILING_SHOWN]],
                "failing_total": failing_total,
            }
        )
    out.sort(key=lambda r: (-int(r["score"]), str(r["id"])))
    return out


def _failing(finding: Mapping[str, Any]) -> dict[str, Any]:
    return {k: finding.get(k) for k in ("control", "check", "resource", "message")}


def exposed(assessed: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [dict(r) for r in assessed if r["exposed"]]


def risks_document(run: Mapping[str, Any], assessed: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "run": {"id": run["id"], "started_at": run["started_at"], "status": run["status"]},
        "summary": {
            "risks": len(assessed),
            "exposed": sum(1 for r in assessed if r["exposed"]),
            "accepted": sum(1 for r in assessed if r["treatment"] == "accept"),
        },
        "risks": list(assessed),
    }


def treated_by(risks: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Control id -> ids of the risks it treats (the SoA's justification for inclusion)."""
    out: dict[str, list[str]] = {}
    for risk in risks:
        for control_id in risk.get("controls") or []:
            out.setdefault(control_id, []).append(str(risk["id"]))
    return out
