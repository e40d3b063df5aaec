"""`annexa verify pack.zip`: check an auditor pack offline, without the store it came from.

What it proves: every file is the one the manifest lists (no file changed, added or removed), the
manifest is the one SHA256SUMS names, each evidence file's body still has the SHA-256 it was judged
under, the seal record is consistent (the seal is the digest of its parts and the previous seal, and
the chain links), and, with the publisher's public key, that the seal was signed by that key. Seals
themselves can only be recomputed from the whole store (`annexa verify` there); a pack carries the
evidence the results were judged on, not every item of the run.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from ..seal import canonical_json, content_hash
from ..seal import seal as compute_seal
from ..signing import PublicKey
from .pack import MANIFEST, SEAL, SUMS


class PackUnreadable(Exception):
    """Not a ZIP, or no manifest: one line naming the file."""


def verify_pack(path: Path, public_key: PublicKey | None = None) -> dict[str, Any]:
    """``{"ok", "run", "seal", "signed_by", "problems": [...]}`` for the pack at ``path``."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise PackUnreadable(f"{path} is not a readable ZIP: {exc}") from None
    problems: list[str] = []
    with archive:
        names = [info.filename for info in archive.infolist()]
        if MANIFEST not in names:
            raise PackUnreadable(f"{path} has no {MANIFEST}: not an Annexa auditor pack")
        manifest_bytes = archive.read(MANIFEST)
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError:
            raise PackUnreadable(f"{path}: {MANIFEST} is not JSON (it was edited)") from None
        listed = {f["path"]: f for f in manifest.get("files", [])}
        for name in names:
            if name in (MANIFEST, SUMS):
                continue
            entry = listed.get(name)
            data = archive.read(name)
            if entry is None:
                problems.append(f"{name}: not in the manifest (a file was added)")
            elif len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
                problems.append(f"{name}: does not match its SHA-256 in the manifest (the file was changed)")
            elif "/evidence/" in name:
                problems.extend(_evidence_problems(name, data))
        problems.extend(
            f"{name}: listed in the manifest but missing (a file was removed)"
            for name in sorted(set(listed) - set(names))
        )
        problems.extend(_sums_problems(archive, names, manifest_bytes, listed))
        seal_record = json.loads(archive.read(SEAL)) if SEAL in names else None
    signed_by = None
    if seal_record is None:
        problems.append(f"{SEAL} is missing")
    else:
        problems.extend(_seal_problems(seal_record, manifest))
        if public_key is not None:
            if not seal_record.get("signature"):
                problems.append("the run's seal is not signed")
            elif public_key.verifies(str(seal_record["seal"]), str(seal_record["signature"])):
                signed_by = public_key.key_id
            else:
                problems.append(f"the seal's signature does not verify with key {public_key.key_id}")
    return {
        "ok": not problems,
        "pack": str(path),
        "run": manifest.get("run"),
        "seal": manifest.get("seal"),
        "files": len(listed),
        "signed": bool(seal_record and seal_record.get("signature")),
        "signed_by": signed_by,
        "problems": problems,
    }


def _evidence_problems(name: str, data: bytes) -> list[str]:
    try:
        document = json.loads(data)
        actual = content_hash(canonical_json(document["data"]))
    except (ValueError, KeyError, TypeError):
        return [f"{name}: not an evidence item file"]
    if actual != document.get("sha256"):
        return [f"{name}: the item's body does not have the SHA-256 it was judged under"]
    return []


def _sums_problems(
    archive: zipfile.ZipFile, names: list[str], manifest_bytes: bytes, listed: dict[str, Any]
) -> list[str]:
    if SUMS not in names:
        return [f"{SUMS} is missing"]
    expected = {path: entry["sha256"] for path, entry in listed.items()}
    expected[MANIFEST] = hashlib.sha256(manifest_bytes).hexdigest()
    found = {}
    for line in archive.read(SUMS).decode("utf-8", "replace").splitlines():
        digest, _, file_name = line.partition("  ")
        found[file_name] = digest
    if found != expected:
        return [f"{SUMS} does not match the manifest (manifest.json or {SUMS} was edited)"]
    return []


def _seal_problems(record: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    problems = []
    if record.get("seal") != manifest.get("seal") or record.get("run") != manifest.get("run"):
        problems.append(f"{SEAL} names another run or seal than the manifest")
    if compute_seal(record.get("parts") or {}, record.get("previous")) != record.get("seal"):
        problems.append("the seal is not the digest of its parts and the previous seal (the seal record was edited)")
    previous = None
    for link in record.get("chain") or []:
        if link.get("previous") != previous:
            problems.append(f"the chain of seals breaks at run {link.get('run')} (seq {link.get('seq')})")
            break
        previous = link.get("seal")
    if previous != record.get("seal"):
        problems.append("the chain of seals does not end at this run's seal")
    return problems
