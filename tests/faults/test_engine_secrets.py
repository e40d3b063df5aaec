"""Secrets read by a connector's credential chain from the environment (and files it names) are masked
everywhere: stdout, stderr, --debug tracebacks, the store's bytes and every report."""

from __future__ import annotations

from pathlib import Path

from engine.support import Project, annexa_subprocess

ENV_SECRET = "env-secret-Qx7pL2mN9vR4"
TOKEN = "config-token-Zt5kW8yB3"
KEY_LINES = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"]


def _store_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.glob("annexa.db*") if p.is_file())


def test_env_and_file_secrets_never_leave_the_process(project: Project, plugin_env: dict, tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n" + "\n".join(KEY_LINES) + "\n-----END PRIVATE KEY-----\n")
    config = project.config("{crash: true, token: '${FAKE_TOKEN}'}")
    config.write_text(config.read_text().replace("connectors:\n", "connectors:\n  other: {users: [{name: x}]}\n"))
    env = {**plugin_env, "FAKE_API_SECRET": ENV_SECRET, "FAKE_KEY_FILE": str(key), "FAKE_TOKEN": TOKEN}
    outputs = []
    for args in (["run", "--report-dir", "reports"], ["--debug", "run"], ["report", "--format", "json"]):
        process = annexa_subprocess(args, env, project.root)
        out, err = process.communicate(timeout=120)
        assert process.returncode in (0, 1), err
        outputs += [out, err]
    reports = [p.read_text() for p in (project.root / "reports").iterdir()]
    assert any("simulated crash (credentials ***" in text for text in outputs + reports)
    for secret in (ENV_SECRET, TOKEN, *KEY_LINES):
        for text in outputs + reports:
            assert secret not in text
        assert secret.encode() not in _store_bytes(project.root)
