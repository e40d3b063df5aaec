"""`annexa init`: a commented starter annexa.yaml for the connectors a user names.

Every block written here is valid as it stands once its `${VAR}` credentials are set (a test holds
that), so the first `annexa validate` a newcomer runs points at their estate, not at our template.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .yamlload import InputError

HEADER = """\
# annexa.yaml: what Annexa collects, where it stores it, and how it judges it.
# Reference: README.md (Configuration) and docs/<connector>.md; check it with `annexa validate`.
organization: {organization}           # shown on every report
store: ./annexa.db                      # the SQLite evidence store, created on the first run

# schedule:                             # for `annexa schedule` (the agent in a container)
#   cron: "0 */6 * * *"                 # standard 5-field crontab
#   timezone: UTC

soa:                                    # Statement of Applicability: controls you exclude, with the reason
  excluded: {{}}
  #  A.7.4: "No own premises; data centres are operated by the cloud provider"

# notify:                               # post regressions to a webhook after each run
#   webhook_url: ${{SLACK_WEBHOOK_URL}}
#   format: slack                       # slack | json
#   on: regression                      # regression | always

connectors:                             # a connector runs only when it is listed here
"""

BLOCKS = {
    "aws": """\
  aws:                                  # credentials: the standard boto3 chain (env, profile, SSO, role)
    regions: [eu-central-1, us-east-1]  # leave out for every enabled region
    # profile: audit
    # accounts_role: OrganizationAccountAccessRole   # walk the AWS Organization
""",
    "github": """\
  github:
    organization: example               # your GitHub organization's login
    token: ${GITHUB_TOKEN}              # read-only scopes: see docs/github.md
""",
    "okta": """\
  okta:
    org_url: https://example.okta.com
    token: ${OKTA_API_TOKEN}            # a read-only admin's API token: see docs/okta.md
""",
    "gcp": """\
  gcp:                                  # credentials: Application Default Credentials
    organization_id: "123456789012"     # quoted: it is an id, not a number; or `projects: [a, b]`
""",
    "azure": """\
  azure:                                # credentials: DefaultAzureCredential (env, workload or managed identity)
    tenant_id: 00000000-0000-0000-0000-000000000000
    subscriptions: [all]                # or a list of subscription ids
""",
}


def starter_config(connectors: Sequence[str], organization: str = "Example GmbH") -> str:
    unknown = sorted(set(connectors) - set(BLOCKS))
    if unknown:
        raise InputError("--connector", None, "", f"unknown connector {unknown[0]!r} (known: {', '.join(BLOCKS)})")
    chosen = list(dict.fromkeys(connectors)) or list(BLOCKS)
    return HEADER.format(organization=organization) + "".join(BLOCKS[name] for name in chosen)


def write_starter(path: Path, connectors: Sequence[str], *, organization: str = "Example GmbH") -> Path:
    text = starter_config(connectors, organization)
    if path.exists():
        raise InputError(path, None, "", "already exists; annexa init never overwrites a configuration")
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(path, None, "", f"cannot write: {exc.strerror}") from None
    return path
