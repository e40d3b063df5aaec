"""`annexa verify`: recompute every seal from the stored bodies and walk the chain between runs.

Nothing stored is trusted: each evidence body and manual evidence file is hashed again, each run's
parts are recomputed from its rows, the seal from those parts and the previous run's seal, and the
previous seal each run names must be the seal of the run published just before it. The first run
that fails, and what in it, is what a user needs to act on; later runs are still listed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .seal import first_difference
from .seal import parts as seal_parts
from .seal import seal as compute_seal
from .signing import PublicKey
from .store import Store


@dataclass
class RunVerdict:
    run: str
    seq: int
    sealed_at: str | None = None
    after_the_fact: bool = False
    signed_by: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass
class Verification:
    runs: list[RunVerdict]
    public_key: str | None = None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)

    @property
    def first_failure(self) -> RunVerdict | None:
        return next((r for r in self.runs if not r.ok), None)

    def as_json(self) -> dict[str, Any]:
        first = self.first_failure
        return {
            "ok": self.ok,
            "public_key": self.public_key,
            "runs": [r.as_json() for r in self.runs],
            "first_failure": None
            if first is None
            else {"run": first.run, "seq": first.seq, "problem": first.problems[0]},
        }


def verify(store: Store, run: str | None = None, public_key: PublicKey | None = None) -> Verification:
    """Verify every published run (or only ``run``, with the chain up to it)."""
    if not store.has_seals():
        raise LookupError(
            f"the store {store.path} has no seals yet: open it once with this release (`annexa run`) to seal it"
        )
    seals = {row["run_id"]: row for row in store.seals()}
    runs = store.published_runs()
    target = store.resolve_run(run)["id"] if run else None
    verdicts: list[RunVerdict] = []
    previous_seal: str | None = None
    previous_seq = 0
    for row in runs:
        stored = seals.get(row["id"])
        verdict = _verify_run(store, row, stored, previous_seal, previous_seq, public_key)
        previous_seal = stored["seal"] if stored else previous_seal
        previous_seq = row["seq"]
        if target is None or row["id"] == target:
            verdicts.append(verdict)
        if row["id"] == target:
            break
    if target is None:
        present = {row["id"] for row in runs}
        for run_id, orphan in sorted(seals.items(), key=lambda kv: kv[1]["seq"]):
            if run_id not in present:
                verdicts.append(
                    RunVerdict(
                        run_id, orphan["seq"], orphan["sealed_at"], problems=["the run was deleted from the store"]
                    )
                )
        verdicts.sort(key=lambda v: v.seq)
    return Verification(verdicts, public_key.key_id if public_key else None)


def _verify_run(
    store: Store,
    run: dict[str, Any],
    stored: dict[str, Any] | None,
    previous_seal: str | None,
    previous_seq: int,
    public_key: PublicKey | None,
) -> RunVerdict:
    verdict = RunVerdict(run["id"], run["seq"])
    if run["seq"] != previous_seq + 1:
        verdict.problems.append(
            f"runs {previous_seq + 1}..{run['seq'] - 1} of the sequence are missing (deleted or re-numbered)"
        )
    if stored is None:
        verdict.problems.append("the run has no seal (it was added to the store outside Annexa)")
        return verdict
    verdict.sealed_at = stored["sealed_at"]
    verdict.after_the_fact = bool(stored["after_the_fact"])
    if stored["seq"] != run["seq"]:
        verdict.problems.append(f"the run was sealed as number {stored['seq']}, now it is {run['seq']} (re-ordered)")
    if stored["previous"] != previous_seal:
        verdict.problems.append(
            "its seal does not chain to the run before it (a run before it was deleted, replaced or re-ordered)"
        )
    records, body_problems = store.reread(run["id"])
    recomputed = seal_parts(records)  # reads every body: the body problems are known after it
    verdict.problems.extend(body_problems)
    difference = first_difference(stored["parts"], recomputed)
    if difference and not body_problems:
        verdict.problems.append(difference)
    if compute_seal(stored["parts"], stored["previous"]) != stored["seal"]:
        verdict.problems.append("the stored seal does not match its own parts (the seal record was edited)")
    if public_key is not None:
        if not stored["signature"]:
            verdict.problems.append("the seal is not signed")
        elif not public_key.verifies(stored["seal"], stored["signature"]):
            signer = stored["key_id"] or "unknown"
            verdict.problems.append(f"the signature does not verify with key {public_key.key_id} (signed by {signer})")
        else:
            verdict.signed_by = public_key.key_id
    elif stored["signature"]:
        verdict.signed_by = stored["key_id"]
    return verdict
