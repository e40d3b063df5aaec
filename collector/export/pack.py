"""`annexa export pack`: one ZIP an auditor opens offline, every file listed with its SHA-256.

Layout (docs/auditor-pack.md):

    index.html                      links to everything below; no network, no scripts
    gap-report.{html,json,csv}      the run's gap report
    soa.xlsx, soa.csv               the Statement of Applicability
    readiness.html                  the Stage 1 readiness report (when annexa.yaml is at hand)
    controls/A.8.5/checks.json      the checks of the control, their results and every finding
    controls/A.8.5/evidence/…json   the evidence items those results were judged on, as stored
    controls/A.8.5/manual/…         the control's manual evidence files
    history/runs.json, history/control-pass-rates.csv   with --since: the observation window
    seal.json                       the run's seal record and the chain of seals up to it
    manifest.json                   every file above with size and SHA-256, the run id and its seal
    SHA256SUMS                      the same, as `sha256sum -c` reads it (manifest.json included)

The ZIP streams: files are written as they are produced, so memory holds the manifest's lines, not
the pack. Entries are written in a fixed order with the run's start as their time, so the same run
exported twice is byte-identical.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from ..jsonstream import Streamed, dumps_streamed, joined
from ..store import Store
from ..timeutil import parse_iso

FORMAT = "annexa-pack/1"
MANIFEST, SUMS, SEAL = "manifest.json", "SHA256SUMS", "seal.json"
COMPRESSION = 1  # deflate's fastest level: evidence JSON still shrinks about 4x, and a 100,000-item pack
# spends its time hashing and writing, not compressing
STREAM_BLOCK = 1 << 20  # bytes handed to the ZIP stream at a time
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class PackWriter:
    """A deterministic ZIP that records each file's size and SHA-256 for the manifest."""

    handle: IO[bytes]
    date_time: tuple[int, int, int, int, int, int]
    # (path, size, SHA-256) of every listed file: tuples, as a 100,000-item pack lists 100,000 files
    files: list[tuple[str, int, str]] = field(default_factory=list)
    written: set[str] = field(default_factory=set)  # the names outside controls/ (those dedupe per control)

    def __post_init__(self) -> None:
        self.zip = zipfile.ZipFile(self.handle, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION)

    def _claim(self, name: str) -> bool:
        """False when ``name`` was written already: one file per name."""
        if name in self.written:
            return False
        self.written.add(name)
        return True

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info._compresslevel = COMPRESSION  # type: ignore[attr-defined]  # what writestr sets; open() does not
        return info

    def add(self, name: str, data: bytes, *, listed: bool = True, checked: bool = True) -> None:
        """``checked=False``: the caller knows the name is new (evidence files, deduplicated per control)."""
        if checked and not self._claim(name):
            return
        self.zip.writestr(self._entry(name), data, compresslevel=COMPRESSION)
        if listed:
            self.files.append((name, len(data), hashlib.sha256(data).hexdigest()))

    def add_stream(self, name: str, pieces: Iterable[str | bytes]) -> None:
        """A file written as it is produced (the gap report's JSON and CSV, a control's checks.json):
        memory holds one piece, not the file."""
        if not self._claim(name):
            return
        info = self._entry(name)
        digest, size = hashlib.sha256(), 0
        buffer: list[bytes] = []
        held = 0
        with self.zip.open(info, "w") as entry:
            for piece in pieces:
                data = piece.encode() if isinstance(piece, str) else piece
                buffer.append(data)
                held += len(data)
                if held >= STREAM_BLOCK:  # a zlib call per JSON row would cost more than the rows
                    block = b"".join(buffer)
                    digest.update(block)
                    entry.write(block)
                    size += held
                    buffer, held = [], 0
            block = b"".join(buffer)
            digest.update(block)
            entry.write(block)
            size += held
        self.files.append((name, size, digest.hexdigest()))

    def add_json(self, name: str, value: Any, *, compact: bool = False) -> None:
        # Indented JSON goes through Python's slow encoder; a control's findings can run to 100,000s.
        indent = None if compact else 2
        self.add(name, (json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=False) + "\n").encode())

    def close(self) -> None:
        self.zip.close()


def safe_name(item_id: str) -> str:
    """A file name for an item id (ARNs and paths carry ``:`` and ``/``), unique by a short hash."""
    stem = _UNSAFE.sub("_", item_id).strip("_")[:80] or "item"
    return f"{stem}-{hashlib.sha256(item_id.encode()).hexdigest()[:8]}"


def write_pack(
    handle: IO[bytes],
    store: Store,
    run: Mapping[str, Any],
    *,
    config: str | None,
    since: date | None = None,
) -> dict[str, Any]:
    """Write the pack of ``run`` into ``handle``; returns the manifest."""
    from ..report import build_gap_report
    from ..report.render import iter_csv, iter_json, render_report

    started = parse_iso(str(run["started_at"]))
    writer = PackWriter(handle, (max(started.year, 1980), started.month, started.day, started.hour, started.minute, 0))
    warn_days = _expiry_window(config)
    # Lazy: the populations are read from the store as each file is written, never held all at once.
    gap = build_gap_report(store, dict(run), *(() if warn_days is None else (warn_days,)), lazy=True)
    gap["generated_at"] = run["finished_at"]  # the pack describes the run, not the moment it was exported
    history = [r for r in store.runs(include_unpublished=False) if r["seq"] <= run["seq"]]
    sections: list[tuple[str, str]] = [("Gap report", "gap-report.html")]
    with tempfile.TemporaryDirectory(prefix="annexa-pack-") as scratch:
        # The JSON and CSV reports (each reads every finding again) are rendered by a second process
        # while this one writes the rest: on two cores the pack takes the longer of the two, not the sum.
        rendering = _render_elsewhere(store, run, warn_days, Path(scratch))
        writer.add("gap-report.html", render_report(gap, "html", history).encode())  # bounded: it shows samples
        controls = _write_rest(writer, store, run, gap, config, since, history, warn_days, sections)
        reports = _rendered(rendering)
        if reports is None:
            writer.add_stream("gap-report.json", iter_json(gap))
            writer.add_stream("gap-report.csv", iter_csv(gap))
        else:
            for name, path in reports:
                writer.add_stream(name, _chunks(path))
    seal = _seal_record(store, str(run["id"]))
    writer.add_json(SEAL, seal)
    writer.add("index.html", _index(gap, sections, controls, seal).encode())
    files = sorted(writer.files)
    head = {"format": FORMAT, "run": run["id"], "seq": run["seq"], "seal": seal["seal"], "chain": seal["chain"]}
    writer.add_stream(MANIFEST, _manifest(head, files))
    manifest_sha256 = writer.files.pop()[2]  # listed in SHA256SUMS below, not in itself
    writer.add_stream(SUMS, _sums(files, manifest_sha256))
    writer.files.pop()
    writer.close()
    return {**head, "files": len(files), "manifest_sha256": manifest_sha256}


def _write_rest(
    writer: PackWriter,
    store: Store,
    run: Mapping[str, Any],
    gap: dict[str, Any],
    config: str | None,
    since: date | None,
    history: list[dict[str, Any]],
    warn_days: int | None,
    sections: list[tuple[str, str]],
) -> list[dict[str, Any]]:
    """The SoA, the readiness report, the controls' folders and the run history; returns the controls."""
    from ..soa import render_csv as soa_csv
    from ..soa import render_xlsx, soa_document

    soa = soa_document(store, dict(run), gap)
    writer.add("soa.xlsx", render_xlsx(soa, str(gap["run"].get("tool_version") or "")))
    writer.add("soa.csv", soa_csv(soa).encode())
    sections.append(("Statement of Applicability", "soa.xlsx"))
    readiness = _readiness_html(config, str(run["id"]), gap) if warn_days is not None else None
    if readiness is not None:
        writer.add("readiness.html", readiness.encode())
        sections.append(("Stage 1 readiness", "readiness.html"))
    controls = _write_controls(writer, store, run, gap)
    if since is not None:
        _write_history(writer, history, since)
        sections.append(("Run history since " + since.isoformat(), "history/runs.json"))
    return controls


def _render_elsewhere(store: Store, run: Mapping[str, Any], warn_days: int | None, scratch: Path) -> Any:
    """Start rendering gap-report.json and .csv into ``scratch`` in a worker process (None: not possible).

    A plain `python -c` child rather than multiprocessing: nothing of this process (its __main__, its
    open database) is re-imported or inherited, and a failure only costs the time to render here."""
    import subprocess
    import sys

    args = json.dumps([str(store.path), str(run["id"]), warn_days, str(scratch)])
    code = "import json, sys; from collector.export.pack import render_reports as r; r(*json.loads(sys.argv[1]))"
    try:
        with (scratch / "worker.log").open("wb") as log:  # the child holds its own copy of the descriptor
            worker = subprocess.Popen(
                [sys.executable, "-c", code, args], stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
    except OSError:
        return None
    return worker, scratch


def _rendered(rendering: Any) -> list[tuple[str, Path]] | None:
    """The worker's files, or None when it failed (the caller renders them itself: the same bytes)."""
    if rendering is None:
        return None
    worker, scratch = rendering
    names = ("gap-report.json", "gap-report.csv")
    if worker.wait() != 0 or not all((scratch / name).is_file() for name in names):
        return None
    return [(name, scratch / name) for name in names]


def render_reports(store_path: str, run_id: str, warn_days: int | None, scratch: str) -> list[tuple[str, str]]:
    """In the worker: the run's gap report as JSON and CSV files, exactly as the pack would write them
    (each written under a temporary name, then renamed: a file there is complete)."""
    from ..report import build_gap_report
    from ..report.render import iter_csv, iter_json

    out = []
    with Store(Path(store_path)) as store:
        run = store.resolve_run(run_id)
        gap = build_gap_report(store, dict(run), *(() if warn_days is None else (warn_days,)), lazy=True)
        gap["generated_at"] = run["finished_at"]
        for name, pieces in (("gap-report.json", iter_json(gap)), ("gap-report.csv", iter_csv(gap))):
            path = Path(scratch) / name
            partial = path.with_name(name + ".partial")
            with partial.open("wb") as handle:
                for piece in pieces:
                    handle.write(piece.encode())
            partial.rename(path)
            out.append((name, str(path)))
    return out


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(STREAM_BLOCK):
            yield block


def _manifest(head: Mapping[str, Any], files: list[tuple[str, int, str]]) -> Iterator[str]:
    """manifest.json (indented, sorted keys), its file list streamed into place."""

    def listed(indent: int) -> Iterator[str]:
        if not files:
            yield "[]"
            return
        inner = "\n" + " " * (indent + 2)
        for i, (path, size, sha256) in enumerate(files):
            entry = json.dumps({"path": path, "sha256": sha256, "size": size}, indent=2, sort_keys=True)
            yield ("[" if i == 0 else ",") + inner + entry.replace("\n", inner)
        yield "\n" + " " * indent + "]"

    yield from dumps_streamed({**head, "files": Streamed(listed)}, indent=2, sort_keys=True)
    yield "\n"


def _sums(files: list[tuple[str, int, str]], manifest_sha256: str) -> Iterator[str]:
    for path, _, sha256 in files:
        yield f"{sha256}  {path}\n"
    yield f"{manifest_sha256}  {MANIFEST}\n"


def _expiry_window(config: str | None) -> int | None:
    """The configured manual-evidence expiry window, or None when no annexa.yaml can be read."""
    from ..config import config_path, load_settings
    from ..yamlload import InputError

    try:
        return load_settings(config_path(config)).model.readiness.expiring_within_days
    except (InputError, FileNotFoundError):
        return None  # no annexa.yaml beside the store: the pack is complete without the readiness report


def _readiness_html(config: str | None, run_id: str, gap: dict[str, Any]) -> str:
    from ..readiness import readiness_document
    from ..readiness_render import render_html

    return render_html(readiness_document(config, run_id, None, gap=gap))


def _write_controls(
    writer: PackWriter, store: Store, run: Mapping[str, Any], gap: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Per control: its checks with every finding, the items judged, its manual evidence files."""
    listed = []
    seq = int(run["seq"])
    for control in gap["controls"]:
        folder = f"controls/{control['id']}"
        # Each finding as a line of JSON in a temporary file, counted per check: checks.json is written
        # after the evidence files (a ZIP takes one entry at a time), and a control may judge 100,000s.
        spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed below
        findings: list[int] = []
        seen: dict[tuple[str, str], str] = {}  # (kind, item id) -> its file in this control
        for check in control["checks"]:
            entries = 0
            for row in store.judged(seq, check["id"], check["evidence"]):
                path = None
                if row["item_id"] is not None and row["data"] is not None:
                    known = (check["evidence"], row["item_id"])
                    path = seen.get(known)
                    if path is None:  # judged by several checks of this control: one file
                        path = f"{folder}/evidence/{check['evidence']}/{safe_name(str(row['item_id']))}.json"
                        seen[known] = path
                        writer.add(path, _item_file(check["evidence"], row), checked=False)
                entry = {
                    "resource": row["resource"],
                    "status": row["status"],
                    "message": row["message"],
                    "evidence_sha256": row["hash"],
                    "evidence": path.removeprefix(folder + "/") if path else None,
                }
                spool.write(_SORTED(entry) + "\n")
                entries += 1
            findings.append(entries)
        manual = []
        for document in control.get("manual_evidence") or []:
            data = store.document(document["sha256"]) if document.get("sha256") else None
            path = None
            if data is not None:
                path = f"{folder}/manual/{safe_name(str(document['id']))}{Path(str(document['id'])).suffix}"
                writer.add(path, data)
            manual.append({**document, "file": path.removeprefix(folder + "/") if path else None})
        with spool:
            spool.seek(0)
            if control["checks"] or manual:
                writer.add_stream(f"{folder}/checks.json", _checks_file(control, findings, spool, manual))
                listed.append({"id": control["id"], "title": control["title"], "status": control["status"]})
    return listed


# json.dumps(value, sort_keys=True, ensure_ascii=False), without building an encoder per call: the pack
# writes one per finding and per evidence file, 100,000s of them.
_SORTED = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


def _checks_file(control: Mapping[str, Any], findings: list[int], spool: IO[str], manual: list[Any]) -> Iterator[str]:
    """A control's checks.json, compact JSON with sorted keys, streamed: each check's population (read
    from the store) and findings (read back from the spool, ``findings[i]`` lines for check i)."""

    def checks(_: int) -> Iterator[str]:
        yield "["
        for i, (check, entries) in enumerate(zip(control["checks"], findings, strict=True)):
            meta = {k: v for k, v in check.items() if k not in ("failing", "population")}
            meta["population"] = _encoded(map(_SORTED, check.get("population") or []))
            meta["findings"] = _encoded(spool.readline().rstrip("\n") for _ in range(entries))
            yield ", " if i else ""
            yield from dumps_streamed(meta, sort_keys=True, ensure_ascii=False)
        yield "]"

    head = {"control": control["id"], "title": control["title"], "status": control["status"]}
    head.update(checks=Streamed(checks), manual_evidence=manual)
    yield from dumps_streamed(head, sort_keys=True, ensure_ascii=False)
    yield "\n"


def _encoded(items: Iterable[str]) -> Streamed:
    """A compact list of already encoded JSON values, written when its place comes."""
    return Streamed(lambda _: joined(items))


def _item_file(kind: str, row: Mapping[str, Any]) -> bytes:
    """The item as stored: its body is spliced in as the canonical JSON it was hashed as, unparsed."""
    head = {
        "kind": kind,
        "id": row["item_id"],
        "scope": row["connector"],
        "collected_at": row["collected_at"],
        "sha256": row["hash"],  # of `data` as canonical JSON: `annexa verify pack.zip` recomputes it
        "unknown": json.loads(row["unknown"]) if row["unknown"] else {},
    }
    text = _SORTED(head)
    return (text[:-1] + ', "data": ' + str(row["data"]) + "}\n").encode()


def _write_history(writer: PackWriter, history: Iterable[Mapping[str, Any]], since: date) -> None:
    window = [r for r in history if parse_iso(str(r["started_at"])).date() >= since]
    runs = [
        {"id": r["id"], "seq": r["seq"], "started_at": r["started_at"], "status": r["status"], "summary": r["summary"]}
        for r in sorted(window, key=lambda r: int(r["seq"]))
    ]
    writer.add_json("history/runs.json", {"since": since.isoformat(), "runs": runs})
    lines = ["run,started_at,controls_assessed,pass,fail,pass_rate"]
    for r in runs:
        summary = r["summary"] or {}
        assessed = int(summary.get("pass", 0)) + int(summary.get("fail", 0)) + int(summary.get("not_assessed", 0))
        rate = f"{int(summary.get('pass', 0)) / assessed:.3f}" if assessed else ""
        lines.append(f"{r['id']},{r['started_at']},{assessed},{summary.get('pass', 0)},{summary.get('fail', 0)},{rate}")
    writer.add("history/control-pass-rates.csv", ("\n".join(lines) + "\n").encode())


def _seal_record(store: Store, run_id: str) -> dict[str, Any]:
    seals = store.seals()
    mine = next((s for s in seals if s["run_id"] == run_id), None)
    if mine is None:
        raise LookupError(f"run {run_id} has no seal: open the store with this release once (`annexa verify`)")
    chain = [
        {"seq": s["seq"], "run": s["run_id"], "seal": s["seal"], "previous": s["previous"]}
        for s in seals
        if s["seq"] <= mine["seq"]
    ]
    return {
        "run": run_id,
        "seq": mine["seq"],
        "seal": mine["seal"],
        "previous": mine["previous"],
        "parts": mine["parts"],
        "sealed_at": mine["sealed_at"],
        "after_the_fact": bool(mine["after_the_fact"]),
        "signature": mine["signature"],
        "key_id": mine["key_id"],
        "chain": chain,
    }


def _index(
    gap: Mapping[str, Any], sections: list[tuple[str, str]], controls: list[dict[str, Any]], seal: Mapping[str, Any]
) -> str:
    e = html.escape
    run = gap["run"]
    rows = "\n".join(
        f'<tr><td><a href="controls/{e(c["id"])}/checks.json">{e(c["id"])}</a></td><td>{e(c["title"])}</td>'
        f"<td>{e(c['status'])}</td></tr>"
        for c in controls
    )
    links = "\n".join(f'<li><a href="{e(href)}">{e(title)}</a></li>' for title, href in sections)
    signed = f"signed with key {e(str(seal['key_id']))}" if seal.get("signature") else "not signed"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Audit evidence pack: {e(str(gap.get("organization") or ""))}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left}}
code{{font-size:.85em;word-break:break-all}}</style></head><body>
<h1>Audit evidence pack</h1>
<p>{e(str(gap.get("organization") or ""))}: run <code>{e(str(run["id"]))}</code>, started {e(str(run["started_at"]))},
finished {e(str(run["finished_at"]))}, status {e(str(run["status"]))}.</p>
<p>Seal <code>{e(str(seal["seal"]))}</code> ({signed}). Every file of this pack is listed with its SHA-256 in
<a href="manifest.json">manifest.json</a> and <a href="SHA256SUMS">SHA256SUMS</a>
(<code>sha256sum -c SHA256SUMS</code>);
<code>annexa verify pack.zip</code> checks the pack, the seal and its signature offline.</p>
<h2>Reports</h2><ul>
{links}
</ul>
<h2>Controls with evidence</h2>
<table><thead><tr><th>control</th><th>title</th><th>status</th></tr></thead><tbody>
{rows}
</tbody></table>
</body></html>
"""
