"""`annexa export pack` and `annexa verify PACK`: a self-checking ZIP for the auditor, verified offline.

Built from a copy of the demo store (seven runs, manual evidence, risks): what the pack holds, that it is
byte-identical when exported twice, that `sha256sum -c` accepts it, and that every kind of tampering
(a byte changed, a file added or removed, the manifest edited, a forged evidence body) is exit 5.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

VERIFY_FAILED = 5


def _export(cli: Any, demo: Path, out: Path, *args: str) -> Any:
    return cli("export", "pack", "-c", str(demo / "annexa.yaml"), "-o", str(out), *args)


@pytest.fixture
def pack(cli: Any, demo: Path, tmp_path: Path) -> Path:
    out = tmp_path / "pack.zip"
    result = _export(cli, demo, out, "--since", "2026-01-01")
    assert result.code == 0, result.err
    return out


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _rewrite(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_the_pack_holds_reports_controls_evidence_manual_files_and_the_seal(pack: Path) -> None:
    members = _members(pack)
    for name in (
        "index.html",
        "gap-report.html",
        "gap-report.json",
        "gap-report.csv",
        "soa.xlsx",
        "soa.csv",
        "readiness.html",
        "history/runs.json",
        "history/control-pass-rates.csv",
        "seal.json",
        "manifest.json",
        "SHA256SUMS",
    ):
        assert name in members, name
    checks = json.loads(members["controls/A.5.3/checks.json"])
    finding = next(f for c in checks["checks"] for f in c["findings"] if f["status"] == "fail")
    item = json.loads(members[f"controls/A.5.3/{finding['evidence']}"])
    assert item["sha256"] == finding["evidence_sha256"]
    assert {"kind", "id", "scope", "collected_at", "sha256", "data"} <= set(item)
    assert any(name.startswith("controls/A.5.1/manual/") for name in members)  # the policy document
    manifest = json.loads(members["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(members) - {"manifest.json", "SHA256SUMS"}
    assert all(hashlib.sha256(members[p]).hexdigest() == f["sha256"] for p, f in listed.items())
    assert [link["seq"] for link in manifest["chain"]] == [1, 2, 3, 4, 5, 6, 7]
    assert manifest["seal"] == json.loads(members["seal.json"])["seal"] == manifest["chain"][-1]["seal"]
    runs = json.loads(members["history/runs.json"])["runs"]
    assert len(runs) == 7
    assert b'href="gap-report.html"' in members["index.html"]


def test_the_same_run_exports_byte_identically_and_sha256sum_accepts_it(
    cli: Any, demo: Path, pack: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again.zip"
    assert _export(cli, demo, again, "--since", "2026-01-01").code == 0
    assert pack.read_bytes() == again.read_bytes()
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(pack) as archive:
        archive.extractall(unpacked)
    if shutil.which("sha256sum"):
        done = subprocess.run(
            ["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_without_the_report_worker_the_pack_is_the_same(
    cli: Any, demo: Path, pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gap report's JSON and CSV come from a worker process; when none can run (or it fails), the
    pack renders them itself, and the bytes do not change."""
    import collector.export.pack as module

    monkeypatch.setattr(module, "_render_elsewhere", lambda *args: None)
    alone = tmp_path / "alone.zip"
    assert _export(cli, demo, alone, "--since", "2026-01-01").code == 0
    assert alone.read_bytes() == pack.read_bytes()

    def broken(store: Any, run: Any, warn_days: Any, scratch: Path) -> Any:
        worker = subprocess.Popen(["false"])
        return worker, scratch

    monkeypatch.setattr(module, "_render_elsewhere", broken)
    failed = tmp_path / "failed.zip"
    assert _export(cli, demo, failed, "--since", "2026-01-01").code == 0
    assert failed.read_bytes() == pack.read_bytes()


def test_a_clean_pack_verifies_offline_without_the_store(cli: Any, demo: Path, pack: Path, tmp_path: Path) -> None:
    (demo / "annexa-demo.db").unlink()
    result = cli("verify", str(pack))
    assert result.code == 0, result.err
    assert "files match the manifest" in result.out and "seal intact" in result.out


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("byte", "gap-report.csv: does not match its SHA-256 in the manifest (the file was changed)"),
        ("added", "controls/A.5.3/extra.json: not in the manifest (a file was added)"),
        ("removed", "soa.csv: listed in the manifest but missing (a file was removed)"),
        ("manifest", "SHA256SUMS does not match the manifest (manifest.json or SHA256SUMS was edited)"),
        ("forged", "the item's body does not have the SHA-256 it was judged under"),
        ("seal", "the seal is not the digest of its parts and the previous seal"),
    ],
)
def test_a_tampered_pack_fails_verification(cli: Any, pack: Path, tamper: str, message: str) -> None:
    members = _members(pack)
    if tamper == "byte":
        data = bytearray(members["gap-report.csv"])
        data[10] ^= 1
        members["gap-report.csv"] = bytes(data)
    elif tamper == "added":
        members["controls/A.5.3/extra.json"] = b"{}"
    elif tamper == "removed":
        del members["soa.csv"]
    elif tamper == "manifest":
        manifest = json.loads(members["manifest.json"])
        manifest["files"] = [f for f in manifest["files"] if f["path"] != "soa.csv"] + [
            {"path": "soa.csv", "size": 1, "sha256": "0" * 64}
        ]
        members["manifest.json"] = json.dumps(manifest).encode()
    elif tamper == "forged":
        name = next(n for n in members if "/evidence/" in n)
        item = json.loads(members[name])
        item["data"]["forged"] = True
        members[name] = json.dumps(item).encode()
        _relist(members, name)
    elif tamper == "seal":
        seal = json.loads(members["seal.json"])
        seal["parts"]["run"] = "0" * 64
        members["seal.json"] = json.dumps(seal).encode()
        _relist(members, "seal.json")
    _rewrite(pack, members)
    result = cli("verify", str(pack))
    assert result.code == VERIFY_FAILED
    assert message in result.err, result.err


def _relist(members: dict[str, bytes], name: str) -> None:
    """Re-list a changed file in the manifest and SHA256SUMS, as a careful forger would."""
    manifest = json.loads(members["manifest.json"])
    for entry in manifest["files"]:
        if entry["path"] == name:
            entry["size"], entry["sha256"] = len(members[name]), hashlib.sha256(members[name]).hexdigest()
    members["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    sums = [f"{f['sha256']}  {f['path']}" for f in manifest["files"]]
    sums.append(f"{hashlib.sha256(members['manifest.json']).hexdigest()}  manifest.json")
    members["SHA256SUMS"] = ("\n".join(sums) + "\n").encode()


def test_an_existing_pack_is_refused_unless_forced(cli: Any, demo: Path, pack: Path) -> None:
    refused = _export(cli, demo, pack)
    assert refused.code == 2 and "exists: give --force to replace it" in refused.err
    assert _export(cli, demo, pack, "--force").code == 0


def test_bad_input_is_one_line(cli: Any, demo: Path, tmp_path: Path) -> None:
    unknown = _export(cli, demo, tmp_path / "p.zip", "--run", "nope")
    assert unknown.code == 2 and "no run with id 'nope'" in unknown.err
    (tmp_path / "a-file").write_text("")
    unwritable = _export(cli, demo, tmp_path / "a-file" / "p.zip")  # root may write anywhere: not under a file
    assert unwritable.code == 2 and "a-file is not a directory" in unwritable.err
    (tmp_path / "not-a-zip.zip").write_text("hello")
    garbage = cli("verify", str(tmp_path / "not-a-zip.zip"))
    assert garbage.code == VERIFY_FAILED and "is not a readable ZIP" in garbage.err
    assert not (tmp_path / "p.zip").exists()


def test_a_signed_run_s_pack_checks_the_signature(
    project: Any, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert cli("keygen", "--out", str(tmp_path / "seal")).code == 0
    assert cli("keygen", "--out", str(tmp_path / "other")).code == 0
    monkeypatch.setenv("ANNEXA_SIGNING_KEY", (tmp_path / "seal.pem").read_text())
    project.config(extra="seal:\n  signing_key: ${ANNEXA_SIGNING_KEY}\n")
    assert cli("run").code == 0
    out = tmp_path / "signed.zip"
    assert cli("export", "pack", "-o", str(out)).code == 0
    unchecked = cli("verify", str(out))
    assert unchecked.code == 0 and "give --public-key FILE to check the signature" in unchecked.out
    good = cli("verify", str(out), "--public-key", str(tmp_path / "seal.pub.pem"))
    assert good.code == 0 and "signed by key" in good.out
    wrong = cli("verify", str(out), "--public-key", str(tmp_path / "other.pub.pem"))
    assert wrong.code == VERIFY_FAILED and "the seal's signature does not verify with key" in wrong.err
