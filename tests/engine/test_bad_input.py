"""Bad input: one clear line naming file, line and key (or check id), exit 2, and nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.support import FAKE_CHECKS, Project


def _assert_rejected(result, project: Project, pattern: str) -> None:
    assert result.code == 2, result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in result.err
    assert not project.store.exists()
    assert not list(project.root.glob("annexa.db*"))


def test_malformed_yaml(project: Project, cli) -> None:
    project.write_config("organization: x\nconnectors:\n  fake: {users: [\n")
    _assert_rejected(cli("run"), project, r"annexa\.yaml:\d+: malformed YAML")


def test_unknown_top_level_key(project: Project, cli) -> None:
    project.config(extra="organisation: typo\n")
    _assert_rejected(cli("run"), project, r"annexa\.yaml:6: organisation: unknown key")


def test_unknown_connector_setting(project: Project, cli) -> None:
    project.write_config("connectors:\n  fake:\n    users: []\n    tokn: abc\n")
    _assert_rejected(cli("run"), project, r"annexa\.yaml:4: connectors\.fake\.tokn: unknown key")


def test_wrong_type(project: Project, cli) -> None:
    project.write_config("connectors:\n  fake:\n    crash: sometimes\n")
    _assert_rejected(cli("run"), project, r"annexa\.yaml:3: connectors\.fake\.crash: must be true or false")


def test_unset_environment_variable(project: Project, cli) -> None:
    project.write_config("connectors:\n  fake:\n    token: ${ANNEXA_TEST_UNSET_TOKEN}\n")
    _assert_rejected(
        cli("run"), project, r"annexa\.yaml:3: connectors\.fake\.token: environment variable ANNEXA_TEST_UNSET_TOKEN"
    )


def test_unknown_control_in_soa(project: Project, cli) -> None:
    project.config(extra="soa:\n  excluded:\n    A.7.99: no such control\n")
    _assert_rejected(cli("run"), project, r"annexa\.yaml:8: soa\.excluded\.A\.7\.99: unknown Annex A control id")


def test_unknown_control_in_check(project: Project, cli) -> None:
    project.config()
    (project.root / "fake_checks.yaml").write_text(FAKE_CHECKS.replace("controls: [A.8.5]", "controls: [A.8.55]"))
    _assert_rejected(
        cli("validate"),
        project,
        r"fake_checks\.yaml:8: checks\[0\]\.controls\[0\]: check fake\.iam\.user_mfa_enabled: unknown control id",
    )


def test_override_naming_no_check(project: Project, cli) -> None:
    project.config(extra="checks:\n  fake.iam.user_mfa_enabeld:\n    enabled: false\n")
    _assert_rejected(cli("run"), project, r"annexa\.yaml:7: checks\.fake\.iam\.user_mfa_enabeld: no check has this id")


def test_override_unknown_parameter(project: Project, cli) -> None:
    project.config(extra="checks:\n  fake.iam.user_count_limited:\n    params: {max_length: 3}\n")
    _assert_rejected(
        cli("run"), project, r"checks\.fake\.iam\.user_count_limited\.params\.max_length: unknown parameter"
    )


def test_override_parameter_of_wrong_type(project: Project, cli) -> None:
    project.config(extra="checks:\n  fake.iam.user_count_limited:\n    params: {max_len: '3'}\n")
    _assert_rejected(cli("run"), project, r"params\.max_len: expected int")


@pytest.mark.parametrize(
    ("replacement", "pattern"),
    [
        ("assert: resource.mfa &&", r":6: checks\[0\]\.assert: check fake\.iam\.user_mfa_enabled: CEL syntax error at"),
        (
            "assert: user.mfa",
            r":6: checks\[0\]\.assert: check fake\.iam\.user_mfa_enabled: .*undefined variable 'user'",
        ),
        ("assert: resource.mfa == params.x", r":6: checks\[0\]\.assert: .*params\.x"),
        (
            "assert: resource.name.matchs('^a') || resource.mfa",
            r":6: checks\[0\]\.assert: check fake\.iam\.user_mfa_enabled: assert calls unknown CEL function "
            r"'matchs' \(did you mean 'matches'\?\)",
        ),
        (
            "assert: resource.tags.all(a, resource.tags.all(b, resource.tags.all(c, resource.tags.all(d, a == d)))) ||"
            " resource.mfa",
            r":6: checks\[0\]\.assert: .*nests 4 comprehensions .* the limit is 3",
        ),
        ("assert: resource.mfa || " + " || ".join(["false"] * 900), r":6: checks\[0\]\.assert: .*the limit is 4000"),
    ],
)
def test_bad_cel(project: Project, cli, replacement: str, pattern: str) -> None:
    project.config()
    (project.root / "fake_checks.yaml").write_text(FAKE_CHECKS.replace("assert: resource.mfa", replacement, 1))
    _assert_rejected(cli("run"), project, r"fake_checks\.yaml" + pattern)


def test_duplicate_check_id(project: Project, cli) -> None:
    project.config()
    duplicate = FAKE_CHECKS.replace("fake.s3.bucket_not_public", "fake.iam.user_mfa_enabled")
    (project.root / "fake_checks.yaml").write_text(duplicate)
    _assert_rejected(
        cli("run"), project, r"fake_checks\.yaml:\d+: checks\[1\]\.id: duplicate check id 'fake\.iam\.user_mfa_enabled'"
    )


def test_unknown_evidence_kind(project: Project, cli) -> None:
    project.config()
    (project.root / "fake_checks.yaml").write_text(
        FAKE_CHECKS.replace("evidence: fake.iam.user\n", "evidence: fake.iam.usr\n", 1)
    )
    _assert_rejected(
        cli("run"),
        project,
        r"checks\[0\]\.evidence: .*no connector declares evidence kind 'fake\.iam\.usr'.*did you mean",
    )


def test_duplicate_yaml_key(project: Project, cli) -> None:
    project.write_config("organization: a\nconnectors:\n  fake: {}\norganization: b\n")
    _assert_rejected(cli("run"), project, r"annexa\.yaml:4: organization: duplicate key \(first defined at line 1\)")


@pytest.mark.parametrize("cron", ["0 0 * *", "61 * * * *", "* * * * mon-", "*/0 * * * *"])
def test_malformed_cron(project: Project, cli, cron: str) -> None:
    project.config(extra=f'schedule:\n  cron: "{cron}"\n')
    _assert_rejected(cli("run"), project, r"annexa\.yaml:7: schedule\.cron: malformed cron expression")


def test_unknown_timezone(project: Project, cli) -> None:
    project.config(extra='schedule:\n  cron: "0 * * * *"\n  timezone: Mars/Olympus\n')
    _assert_rejected(cli("run"), project, r"annexa\.yaml:8: schedule\.timezone: unknown time zone")


def test_unknown_connector(project: Project, cli) -> None:
    project.write_config("connectors:\n  jira: {}\n")
    _assert_rejected(cli("run"), project, r"annexa\.yaml:2: connectors\.jira: unknown connector \(available: .*fake")


def test_missing_config_file(project: Project, cli) -> None:
    _assert_rejected(cli("run", "-c", "nope.yaml"), project, r"nope\.yaml: file not found")


def test_unknown_only_name(project: Project, cli) -> None:
    project.config()
    _assert_rejected(cli("run", "--only", "aws"), project, r"--only: 'aws' is not configured")


def test_validate_reports_success(project: Project, cli) -> None:
    project.config()
    result = cli("validate")
    assert result.code == 0
    assert "annexa.yaml: valid" in result.out and "configured connectors: fake" in result.out
    assert not project.store.exists()


def test_error_names_the_file_given_with_c(tmp_path: Path, project: Project, cli) -> None:
    other = tmp_path / "conf" / "prod.yaml"
    other.parent.mkdir()
    other.write_text("connectors:\n  fake:\n    bogus: 1\n")
    result = cli("run", "-c", str(other))
    assert result.code == 2
    assert f"{other}:3: connectors.fake.bogus: unknown key" in result.err


def test_a_check_over_its_time_budget_is_error_never_a_verdict(
    project: Project, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    project.config("{users: [{name: alice, mfa: true}, {name: bob, mfa: false}]}")
    monkeypatch.setenv("ANNEXA_CHECK_TIME_LIMIT", "0")  # every check is over budget before its first item
    assert cli("run").code == 0
    report = json.loads(cli("report", "--format", "json").out)
    check = next(c for c in report["controls"] if c["id"] == "A.8.5")["checks"][0]
    assert check["id"] == "fake.iam.user_mfa_enabled" and check["status"] == "error"
    assert check["counts"] == {"pass": 0, "fail": 0, "error": 2}
    assert "evaluation stopped after 0 s over 0 of 2 items: the expression is too expensive" in check["errors"][0]


def test_an_unset_env_variable_named_by_a_setting_is_a_validation_error(
    project: Project, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANNEXA_TEST_UNSET_KEY", raising=False)
    project.write_config(
        "store: ./annexa.db\nconnectors:\n  okta:\n    org_url: https://example.okta.com\n"
        "    client_id: 0oa123\n    private_key_env: ANNEXA_TEST_UNSET_KEY\n"
    )
    result = cli("validate")
    assert result.code == 2
    assert (
        "annexa.yaml:6: connectors.okta.private_key_env: names the environment variable ANNEXA_TEST_UNSET_KEY, "
        "which is not set (or empty)" in result.err
    )
    monkeypatch.setenv("ANNEXA_TEST_UNSET_KEY", "-----BEGIN PRIVATE KEY-----")
    assert cli("validate").code == 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "connectors:\n  aws:\n    regions: eu-central-1\n",
            "annexa.yaml:5: connectors.aws.regions: must be a list, e.g. regions: [eu-central-1, us-east-1]",
        ),
        (
            "connectors:\n  gcp:\n    organization_id: 123456789012\n",
            "annexa.yaml:5: connectors.gcp.organization_id: must be text; quote numbers and dates, "
            'e.g. organization_id: "123456789012"',
        ),
        (
            "connectors:\n  fake: {}\nchecks:\n  fake.iam.user_mfa_enabled: 3\n",
            "annexa.yaml:6: checks.fake.iam.user_mfa_enabled: must be a mapping of keys (key: value)",
        ),
        ("organization: [a]\nconnectors:\n  fake: {}\n", "annexa.yaml:3: organization: must be text"),
    ],
)
def test_type_errors_are_plain_sentences_with_an_example(project: Project, cli, config: str, message: str) -> None:
    (project.root / "fake_checks.yaml").write_text(FAKE_CHECKS)
    project.write_config("store: ./annexa.db\nmappings: [./fake_checks.yaml]\n" + config)
    result = cli("validate")
    assert result.code == 2 and message in result.err, result.err
    assert "Input should be" not in result.err and "instance of" not in result.err


@pytest.mark.parametrize(
    ("placeholder", "complaint"),
    [
        ("{params.nope}", r"\{params\.nope\} names a parameter the check does not define"),
        (
            "{resource.nmae}",
            r"\{resource\.nmae\} names a field fake\.iam\.user does not declare \(did you mean 'name'\?\)",
        ),
    ],
)
def test_a_message_placeholder_the_check_cannot_fill_is_a_mapping_error(
    project: Project, cli, placeholder: str, complaint: str
) -> None:
    project.config()
    broken = FAKE_CHECKS.replace("user {resource.name} has no MFA device", f"user {placeholder} has no MFA device")
    (project.root / "fake_checks.yaml").write_text(broken)
    _assert_rejected(
        cli("run"),
        project,
        r"fake_checks\.yaml:\d+: checks\[0\]\.message: check fake\.iam\.user_mfa_enabled: placeholder " + complaint,
    )
