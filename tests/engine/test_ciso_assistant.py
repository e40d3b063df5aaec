"""`annexa export ciso-assistant`: the demo's runs pushed into a local imitation of CISO Assistant's API
(tests/providers/ciso_assistant_imitation.py), end to end through the CLI: results, observations,
evidence files and their revisions, idempotency, and each fault the issue names."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from providers.ciso_assistant_imitation import TOKEN, CisoAssistantImitation, start
from stub import Stub

from collector.export.ciso_assistant import evidence_file, evidence_name
from collector.report import build_gap_report
from collector.store import Store
from engine.support import Project

FAST_RETRY = "retry: {max_attempts: 2, initial_backoff_seconds: 0, deadline_seconds: 5}"


@pytest.fixture
def ciso(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stub, CisoAssistantImitation]]:
    monkeypatch.setenv("CISO_ASSISTANT_TOKEN", TOKEN)
    stub, imitation = start()
    yield stub, imitation
    stub.stop()


def configure(demo: Path, url: str, extra: str = "") -> Path:
    config = demo / "annexa.yaml"
    text = config.read_text()
    config.write_text(
        text + f"exports:\n  ciso_assistant:\n    url: {url}\n    token: ${{CISO_ASSISTANT_TOKEN}}\n"
        f"    folder: Demo ISMS\n    {FAST_RETRY}\n" + "".join(f"    {line}\n" for line in extra.splitlines())
    )
    return config


def gap(demo: Path, ref: str = "latest") -> dict[str, Any]:
    with Store(demo / "annexa-demo.db") as store:
        return build_gap_report(store, store.resolve_run(ref))


def test_a_first_push_creates_the_assessment_and_sets_every_automated_control(
    cli: Any, demo: Path, ciso: tuple[Stub, CisoAssistantImitation]
) -> None:
    stub, imitation = ciso
    config = configure(demo, stub.base_url)
    # Another assessment of the same framework elsewhere: the API ignores filters it does not know, so
    # its requirement assessments come back too and must not be touched.
    decoy = cli("export", "ciso-assistant", "-c", str(config), "--format", "json")
    assert decoy.code == 0, decoy.err
    decoy_ids = {r["id"] for r in imitation.requirements.values()}
    for ra in imitation.requirements.values():
        ra["result"], ra["observation"] = "compliant", "assessed by hand"
    imitation.assessments[next(iter(imitation.assessments))]["name"] = "an older assessment"
    stub.log.clear()

    result = cli("export", "ciso-assistant", "-c", str(config), "--format", "json")

    assert result.code == 0, result.err
    summary = json.loads(result.out)
    report = gap(demo)
    assert summary["run"] == report["run"]["id"]
    assert summary["created"] == ["compliance assessment 'ISO/IEC 27001:2022 Annex A (Annexa)'"]
    mine = {r["id"]: r for r in imitation.requirements.values() if r["id"] not in decoy_ids}
    assert len(mine) == 106  # 93 Annex A controls and 13 clauses, as the library has them
    assert all(
        r["result"] == "compliant" and r["observation"] == "assessed by hand"
        for r in (imitation.requirements[i] for i in decoy_ids)
    )
    expected = {"pass": "compliant", "excluded": "not_applicable", "not_assessed": "not_assessed"}
    by_status: dict[str, list[str]] = {}
    for control in report["controls"]:
        by_status.setdefault(control["status"], []).append(control["id"])
        ra = _mine(imitation, mine, control["id"])
        if control["status"] == "manual":
            assert ra["result"] == "not_assessed" and ra["observation"] is None, control["id"]  # left alone
        elif control["status"] == "fail":
            passing = any(c["status"] == "pass" for c in control["checks"])
            assert ra["result"] == ("partially_compliant" if passing else "non_compliant"), control["id"]
            failing = next(f["resource"] for c in control["checks"] for f in c["failing"])
            assert failing in ra["observation"]
        else:
            assert ra["result"] == expected[control["status"]], control["id"]
        if control["status"] != "manual":
            assert ra["observation"].startswith(f"Annexa run {report['run']['id']} ")
    assert {"pass", "fail", "excluded", "manual"} <= set(by_status)
    automated = [c for c in report["controls"] if c["checks"] and c["status"] != "excluded"]
    assert summary["evidence"] == {"created": 0, "new_revisions": 0, "unchanged": len(automated)}
    assert summary["requirement_assessments"]["updated"] == len(report["controls"]) - len(by_status["manual"])
    assert summary["requirement_assessments"]["left_alone"] == len(by_status["manual"])


def _mine(imitation: CisoAssistantImitation, mine: dict[str, dict[str, Any]], control_id: str) -> dict[str, Any]:
    urn = "urn:intuitem:risk:req_node:iso27001-2022:" + control_id.lower()
    return next(r for r in mine.values() if imitation.nodes[r["requirement"]]["urn"] == urn)


def test_the_evidence_of_each_control_is_its_checks_findings_and_items_with_the_servers_hash(
    cli: Any, demo: Path, ciso: tuple[Stub, CisoAssistantImitation]
) -> None:
    stub, imitation = ciso
    config = configure(demo, stub.base_url)

    result = cli("export", "ciso-assistant", "-c", str(config))

    assert result.code == 0, result.err
    assert result.out.startswith("pushed run ")
    assert "created library iso27001-2022, domain 'Demo ISMS', perimeter 'ISMS scope'" in result.out
    report = gap(demo)
    control = next(c for c in report["controls"] if c["id"] == "A.8.5")
    evidence = imitation.evidence_named(evidence_name("A.8.5"))
    assert evidence["folder"] == next(f["id"] for f in imitation.folders.values() if f["name"] == "Demo ISMS")
    assert evidence["requirement_assessments"] == [imitation.requirement("A.8.5")["id"]]
    [revision] = imitation.revisions_of(evidence["id"])
    data = imitation.files[revision["id"]]
    assert revision["attachment"] == "annexa-A.8.5.json"
    assert revision["attachment_hash"] == hashlib.sha256(data).hexdigest()
    document = json.loads(data)
    assert document["control"] == "A.8.5" and document["status"] == control["status"]
    assert [c["id"] for c in document["checks"]] == [c["id"] for c in control["checks"]]
    finding = document["checks"][0]["findings"][0]
    assert set(finding) == {"resource", "status", "message", "evidence_sha256", "collected_at", "evidence"}
    assert revision["attachment_hash"] in imitation.requirement("A.8.5")["observation"]
    # Manual controls get no Annexa evidence; every automated one exactly one.
    names = [e["name"] for e in imitation.evidences.values()]
    assert sorted(names) == sorted(
        evidence_name(c["id"]) for c in report["controls"] if c["checks"] and c["status"] != "excluded"
    )
    # The 403 of a write into a folder created a moment ago was retried, not reported.
    assert stub.count("POST", r"/api/perimeters/") == 2
    assert stub.count("GET", r"/api/requirement-assessments/") > 2  # 106 rows, pages of 10
    assert TOKEN not in result.out + result.err


def test_a_re_push_of_the_same_run_writes_nothing(
    cli: Any, demo: Path, ciso: tuple[Stub, CisoAssistantImitation]
) -> None:
    stub, imitation = ciso
    config = configure(demo, stub.base_url)
    assert cli("export", "ciso-assistant", "-c", str(config)).code == 0
    writes = imitation.writes()

    again = cli("export", "ciso-assistant", "-c", str(config), "--format", "json")

    assert again.code == 0, again.err
    assert imitation.writes() == writes
    summary = json.loads(again.out)
    assert summary["created"] == [] and summary["writes"] == 0
    assert summary["evidence"]["created"] == summary["evidence"]["new_revisions"] == 0
    assert summary["requirement_assessments"]["updated"] == 0


def test_the_next_run_adds_one_revision_per_control_whose_evidence_changed(
    cli: Any, demo: Path, ciso: tuple[Stub, CisoAssistantImitation]
) -> None:
    stub, imitation = ciso
    config = configure(demo, stub.base_url)
    with Store(demo / "annexa-demo.db") as store:
        before, after = store.resolve_run("previous"), store.resolve_run("latest")
        changed = set()
        for old, new in zip(
            build_gap_report(store, before)["controls"], build_gap_report(store, after)["controls"], strict=True
        ):
            automated = new["checks"] and new["status"] != "excluded"
            if automated and evidence_file(store, before["seq"], old) != evidence_file(store, after["seq"], new):
                changed.add(new["id"])
    assert changed, "the demo's last two runs differ (its drift): some evidence must change"

    assert cli("export", "ciso-assistant", "-c", str(config), "--run", before["id"]).code == 0
    pushed = cli("export", "ciso-assistant", "-c", str(config), "--format", "json")

    assert pushed.code == 0, pushed.err
    assert json.loads(pushed.out)["evidence"]["new_revisions"] == len(changed)
    for evidence in imitation.evidences.values():
        control_id = evidence["name"].split()[1]
        versions = [r["version"] for r in imitation.revisions_of(evidence["id"])]
        assert versions == ([1, 2] if control_id in changed else [1]), control_id
        latest = imitation.revisions_of(evidence["id"])[-1]
        assert json.loads(imitation.files[latest["id"]])["control"] == control_id
    assert len({e["name"] for e in imitation.evidences.values()}) == len(imitation.evidences)


@pytest.mark.parametrize(
    ("fault", "route"),
    [
        ("the upload of an evidence file", r"/api/evidences/[\w-]+/upload/"),
        ("a requirement assessment update", r"/api/requirement-assessments/[\w-]+/"),
    ],
)
def test_a_500_mid_push_stops_it_and_the_next_push_completes_without_duplicates(
    cli: Any, demo: Path, ciso: tuple[Stub, CisoAssistantImitation], fault: str, route: str
) -> None:
    stub, imitation = ciso
    config = configure(demo, stub.base_url)
    method = "POST" if "upload" in route else "PATCH"
    stub.fail(method, route, 500, times=2, body={"detail": "Internal Server Error"})

    failed = cli("export", "ciso-assistant", "-c", str(config))

    assert failed.code == 1
    assert f"{method} /api/" in failed.err and ": 500" in failed.err and "gave up after retrying" in failed.err
    resumed = cli("export", "ciso-assistant", "-c", str(config), "--format", "json")
    assert resumed.code == 0, resumed.err
    report = gap(demo)
    automated = [c["id"] for c in report["controls"] if c["checks"] and c["status"] != "excluded"]
    assert sorted(e["name"] for e in imitation.evidences.values()) == sorted(evidence_name(c) for c in automated)
    for evidence in imitation.evidences.values():
        [revision] = imitation.revisions_of(evidence["id"])  # filled, not duplicated
        assert revision["attachment_hash"] == hashlib.sha256(imitation.files[revision["id"]]).hexdigest()
    assert cli("export", "ciso-assistant", "-c", str(config)).code == 0
    with Store(demo / "annexa-demo.db") as store:
        outcomes = [(p["ok"], p["message"][:40]) for p in store.db.query("select * from pushes order by rowid")]
    assert [ok for ok, _ in outcomes] == [0, 1, 1]


def test_401_403_and_a_missing_framework_stop_the_push_with_a_clear_message(
    cli: Any, demo: Path, ciso: tuple[Stub, CisoAssistantImitation], monkeypatch: pytest.MonkeyPatch
) -> None:
    stub, imitation = ciso
    config = configure(demo, stub.base_url)
    imitation.library_available = False
    missing = cli("export", "ciso-assistant", "-c", str(config))
    assert missing.code == 1
    assert "CISO Assistant has no ISO/IEC 27001:2022 library (urn:intuitem:risk:library:iso27001-2022)" in missing.err
    assert imitation.frameworks == {} and len(imitation.folders) == 1

    imitation.library_available = True
    monkeypatch.setenv("CISO_ASSISTANT_TOKEN", "a-wrong-token-value")
    refused = cli("export", "ciso-assistant", "-c", str(config))
    assert refused.code == 1
    assert "GET /api/frameworks/" in refused.err and "401 the token was refused: Invalid token." in refused.err
    assert "a-wrong-token-value" not in refused.err

    monkeypatch.setenv("CISO_ASSISTANT_TOKEN", TOKEN)
    stub.fail("POST", r"/api/folders/", 403, times=1000, body={"detail": "You do not have permission."})
    denied = cli("export", "ciso-assistant", "-c", str(config))
    assert denied.code == 1
    assert "POST /api/folders/: 403 permission denied: You do not have permission." in denied.err
    assert imitation.folders.keys() == {next(iter(imitation.folders))}  # nothing but the root


def test_a_server_that_does_not_answer_times_out(
    cli: Any, demo: Path, ciso: tuple[Stub, CisoAssistantImitation]
) -> None:
    stub, _ = ciso
    config = configure(demo, stub.base_url, "timeout_seconds: 0.3")
    stub.hang("GET", r"/api/frameworks/", seconds=5)

    result = cli("export", "ciso-assistant", "-c", str(config))

    assert result.code == 1
    assert "GET /api/frameworks/?urn=" in result.err and "no answer within 0.3 s" in result.err


def test_an_older_server_listing_requirements_by_node_id_is_matched_by_urn(
    cli: Any, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CISO_ASSISTANT_TOKEN", TOKEN)
    stub, imitation = start(requirement_as_id=True, honour_filters=frozenset({"folder"}), page_size=7)
    try:
        config = configure(demo, stub.base_url)
        result = cli("export", "ciso-assistant", "-c", str(config))
    finally:
        stub.stop()
    assert result.code == 0, result.err
    assert imitation.requirement("A.7.4")["result"] == "not_applicable"  # excluded in the demo's SoA
    assert stub.count("GET", r"/api/requirement-nodes/") >= 1


def test_tls_with_a_private_ca_bundle(cli: Any, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stub import self_signed_cert

    monkeypatch.setenv("CISO_ASSISTANT_TOKEN", TOKEN)
    cert, key = self_signed_cert(tmp_path)
    stub = Stub()
    imitation = CisoAssistantImitation(stub)
    url = stub.start(tls=(cert, key)).replace("127.0.0.1", "localhost")
    try:
        config = configure(demo, url)
        untrusted = cli("export", "ciso-assistant", "-c", str(config))
        (demo / "ca.pem").write_bytes(Path(cert).read_bytes())
        config.write_text(config.read_text() + "    ca_bundle: ca.pem\n")
        trusted = cli("export", "ciso-assistant", "-c", str(config))
    finally:
        stub.stop()
    assert untrusted.code == 1 and "TLS certificate not trusted" in untrusted.err
    assert "set exports.ciso_assistant.ca_bundle" in untrusted.err
    assert trusted.code == 0, trusted.err
    assert imitation.evidences


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("url: http://ciso.example.com", "plain http to ciso.example.com would send the token unencrypted"),
        ("url: ftp://ciso.example.com", "is not an http(s) URL"),
        ("token: ''", "exports.ciso_assistant.token: is empty"),
        ("ca_bundle: missing.pem", "exports.ciso_assistant.ca_bundle: CA bundle missing.pem not found"),
        ("on: hourly", "exports.ciso_assistant.on"),
    ],
)
def test_bad_export_settings_are_refused_before_anything_is_sent(
    cli: Any, demo: Path, setting: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CISO_ASSISTANT_TOKEN", TOKEN)
    key = setting.split(":")[0]
    lines = {"url": "url: https://ciso.example.com", "token": "token: ${CISO_ASSISTANT_TOKEN}"}
    lines[key] = setting
    config = demo / "annexa.yaml"
    config.write_text(
        config.read_text() + "exports:\n  ciso_assistant:\n" + "".join(f"    {v}\n" for v in lines.values())
    )
    line = config.read_text().splitlines().index(f"    {setting}") + 1

    result = cli("export", "ciso-assistant", "-c", str(config))

    assert result.code == 2
    assert f"{config}:{line}" in result.err and message in result.err


def test_without_an_exports_section_the_command_says_what_to_add(cli: Any, demo: Path) -> None:
    result = cli("export", "ciso-assistant", "-c", str(demo / "annexa.yaml"))
    assert result.code == 2
    assert "no exports.ciso_assistant section: add one with url and token" in result.err


def test_on_schedule_the_run_pushes_and_health_reports_a_failed_push(
    cli: Any, demo: Path, ciso: tuple[Stub, CisoAssistantImitation], monkeypatch: pytest.MonkeyPatch
) -> None:
    from collector.config import load_settings
    from collector.export.ciso_assistant import push_after_run

    stub, imitation = ciso
    config = configure(demo, stub.base_url, "on: schedule")
    settings = load_settings(config)
    stub.fail("GET", r"/api/frameworks/", 503, times=10, headers={"Retry-After": "0"})

    ok, line = push_after_run(settings) or (None, "")
    assert ok is False and "503" in line
    health = cli("health", "-c", str(config), "--max-age", "100000")
    assert health.code == 1
    assert "unhealthy: the latest push to CISO Assistant" in health.err and "503" in health.err
    with Store(demo / "annexa-demo.db") as store:
        assert store.resolve_run("latest")["status"] in ("complete", "partial")  # the run is untouched

    stub.faults.clear()
    ok, line = push_after_run(settings) or (None, "")
    assert ok is True and line.startswith("pushed run")
    assert cli("health", "-c", str(config), "--max-age", "100000").code == 0
    assert imitation.evidences
    with Store(demo / "annexa-demo.db") as store:
        assert TOKEN.encode() not in (demo / "annexa-demo.db").read_bytes()
        assert store.last_push(f"ciso-assistant {stub.base_url}")["ok"] == 1  # type: ignore[index]


def test_annexa_run_and_the_agent_push_after_a_run_on_schedule(
    project: Project,
    cli: Any,
    plugin_env: dict[str, str],
    ciso: tuple[Stub, CisoAssistantImitation],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import logging

    from collector.config import load_settings
    from collector.schedule import Agent

    stub, imitation = ciso
    extra = (
        f"schedule: {{cron: '0 0 1 1 *'}}\nexports:\n  ciso_assistant:\n    url: {stub.base_url}\n"
        f"    token: ${{CISO_ASSISTANT_TOKEN}}\n    on: schedule\n    {FAST_RETRY}\n"
    )
    project.config("{users: [{name: alice, mfa: true}]}", extra=extra)
    ran = cli("run", "-q")
    assert ran.code == 0, ran.err
    assert "pushed run " in ran.err
    assert imitation.requirement("A.8.5")["result"] == "compliant"
    assert cli("run", "-q", "--no-push").code == 0
    assert stub.count("POST", r"/api/evidence-revisions/") == 0

    stub.fail("GET", r"/api/frameworks/", 503, times=1000, headers={"Retry-After": "0"})
    failed = cli("run", "-q")
    assert failed.code == 1  # the run itself collected everything: the failed push is what exit 1 says
    assert "push failed: CISO Assistant (" in failed.err and "GET /api/frameworks/?urn=" in failed.err

    monkeypatch.setenv("PYTHONPATH", plugin_env["PYTHONPATH"])
    records: list[logging.LogRecord] = []
    logger = logging.getLogger("annexa.test-push")
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    Agent(load_settings(project.root / "annexa.yaml"), logger).run_once()
    [line] = [r for r in records if "CISO Assistant" in r.getMessage()]
    assert line.levelno == logging.ERROR and line.getMessage() == "push to CISO Assistant failed"
    assert ": 503" in line.fields["error"]  # type: ignore[attr-defined]
    stub.faults.clear()
    Agent(load_settings(project.root / "annexa.yaml"), logger).run_once()
    assert records[-1].getMessage() == "pushed to CISO Assistant"


def test_a_name_taken_since_the_sweep_is_used_not_duplicated(
    cli: Any, demo: Path, ciso: tuple[Stub, CisoAssistantImitation]
) -> None:
    stub, imitation = ciso
    config = configure(demo, stub.base_url)
    assert cli("export", "ciso-assistant", "-c", str(config)).code == 0
    evidences, revisions = len(imitation.evidences), len(imitation.revisions)
    # The sweep of evidence sees none (as if they were created after it): every create meets a 400.
    stub.fail("GET", r"/api/evidences/", 200, body={"count": 0, "next": None, "previous": None, "results": []})

    again = cli("export", "ciso-assistant", "-c", str(config), "--format", "json")

    assert again.code == 0, again.err
    assert stub.count("POST", r"/api/evidences/") == 2 * evidences  # the first push's and this one's refused
    assert (len(imitation.evidences), len(imitation.revisions)) == (evidences, revisions)
    assert json.loads(again.out)["evidence"] == {"created": 0, "new_revisions": 0, "unchanged": evidences}
