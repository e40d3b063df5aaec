"""The demo organization: the same kinds and shapes as collect(), no network, deterministic given now."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .kinds import MEMBER, ORG, OUTSIDE_COLLABORATOR, REPO
from .sbom import licence_ids

ORG_LOGIN = "example"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _protection(approvals: int, force_push: bool, enforce_admins: bool) -> dict[str, Any]:
    return {
        "required_status_checks": {"strict": True, "contexts": ["ci"], "checks": [{"context": "ci", "app_id": None}]},
        "enforce_admins": {"enabled": enforce_admins},
        "required_pull_request_reviews": {
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": True,
            "required_approving_review_count": approvals,
            "require_last_push_approval": False,
        },
        "required_signatures": {"enabled": False},
        "required_linear_history": {"enabled": True},
        "allow_force_pushes": {"enabled": force_push},
        "allow_deletions": {"enabled": False},
        "block_creations": {"enabled": False},
        "required_conversation_resolution": {"enabled": True},
        "lock_branch": {"enabled": False},
        "allow_fork_syncing": {"enabled": False},
    }


def _environment(name: str, reviewers: tuple[str, ...] = (), protected_branches: bool | None = None) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    if reviewers:
        rules.append(
            {
                "id": 901,
                "type": "required_reviewers",
                "prevent_self_review": True,
                "reviewers": [{"type": "Team" if "/" in r else "User", "reviewer": r} for r in reviewers],
            }
        )
    return {
        "name": name,
        "protection_rules": rules,
        "deployment_branch_policy": None
        if protected_branches is None
        else {"protected_branches": protected_branches, "custom_branch_policies": not protected_branches},
        "can_admins_bypass": True,
        "created_at": "2025-06-01T09:00:00Z",
        "updated_at": "2025-06-01T09:00:00Z",
    }


def _package(name: str, version: str, licence: str | None) -> dict[str, Any]:
    return {"name": name, "version": version, "license": licence, "license_ids": licence_ids(licence)}


NPM_PACKAGES = [
    _package("npm:express", "4.21.1", "MIT"),
    _package("npm:lodash", "4.17.21", "MIT"),
    _package("npm:pg", "8.13.0", "MIT"),
    _package("npm:caniuse-lite", "1.0.30001667", "CC-BY-4.0"),
    _package("npm:left-pad", "1.3.0", None),
]


def _repo(name: str, now: datetime, **facts: Any) -> EvidenceItem:
    full_name = f"{ORG_LOGIN}/{name}"
    status = facts.pop("secret_scanning", "enabled")
    data: dict[str, Any] = {
        "id": 7000 + sum(map(ord, name)),
        "name": name,
        "full_name": full_name,
        "owner": {"login": ORG_LOGIN, "type": "Organization"},
        "private": facts.get("visibility", "private") != "public",
        "visibility": "private",
        "html_url": f"https://github.com/{full_name}",
        "archived": False,
        "default_branch": "main",
        "created_at": _iso(now - timedelta(days=400)),
        "pushed_at": _iso(now - timedelta(days=2)),
        "security_and_analysis": {
            "advanced_security": {"status": "enabled"},
            "secret_scanning": {"status": status},
            "secret_scanning_push_protection": {"status": status},
            "dependabot_security_updates": {"status": "enabled"},
        },
        "org": ORG_LOGIN,
        "details_skipped": None,
        "branch_protection": None,
        "default_branch_rules": [],
        "codeowners": {"present": True, "errors": []},
        "actions_permissions": {"enabled": True, "allowed_actions": "selected", "source": "repository"},
        "code_scanning_available": True,
        "code_scanning_last_analysis": {
            "created_at": _iso(now - timedelta(days=1)),
            "tool": "CodeQL",
            "ref": "refs/heads/main",
            "analysis_key": ".github/workflows/codeql.yml:analyze",
        },
        "deploy_keys": [],
        "deploy_keys_allowed": True,
        "dependabot_alerts": [],
        "environments": [_environment("staging"), _environment("production", reviewers=("example/release-managers",))],
        "dependency_licenses": list(NPM_PACKAGES),
        "security_policy": None,
    }
    data.update(facts)
    if data["archived"]:
        data.update(details_skipped="archived", branch_protection=None, codeowners=None, actions_permissions=None)
        data.update(code_scanning_last_analysis=None, default_branch_rules=[])
        data.update(environments=None, dependency_licenses=None, security_policy=None)
    return EvidenceItem(REPO, full_name, data)


def _alert(number: int, severity: str, created: datetime, package: str) -> dict[str, Any]:
    return {
        "number": number,
        "severity": severity,
        "ghsa_id": f"GHSA-demo-{number:04d}-xxxx",
        "cve_id": None,
        "package": package,
        "ecosystem": "npm",
        "manifest_path": "package-lock.json",
        "created_at": _iso(created),
        "html_url": f"https://github.com/{ORG_LOGIN}/web-shop/security/dependabot/{number}",
    }


def simulated_estate(now: datetime) -> Iterator[EvidenceItem | CollectionError]:
    owners = ["alice", "bjorn", "chen", "dana"]
    yield EvidenceItem(
        ORG,
        ORG_LOGIN,
        {
            "login": ORG_LOGIN,
            "id": 4100,
            "type": "Organization",
            "html_url": f"https://github.com/{ORG_LOGIN}",
            "two_factor_requirement_enabled": True,
            "default_repository_permission": "write",
            "members_can_create_repositories": True,
            "members_can_create_public_repositories": False,
            "members_can_create_private_repositories": True,
            "members_can_fork_private_repositories": False,
            "web_commit_signoff_required": False,
            "deploy_keys_enabled_for_repositories": True,
            "plan": {"name": "team", "seats": 25, "filled_seats": 9},
            "owners": owners,
            "owners_count": len(owners),
        },
    )
    for login in [*owners, "eve", "farid", "gita", "hugo", "ines"]:
        yield EvidenceItem(
            MEMBER,
            login,
            {
                "login": login,
                "type": "User",
                "site_admin": False,
                "html_url": f"https://github.com/{login}",
                "org": ORG_LOGIN,
                "role": "admin" if login in owners else "member",
                "two_factor_disabled": login == "hugo",
            },
        )
    yield EvidenceItem(
        OUTSIDE_COLLABORATOR,
        "contractor-kim",
        {
            "login": "contractor-kim",
            "type": "User",
            "html_url": "https://github.com/contractor-kim",
            "org": ORG_LOGIN,
            "repositories": [
                {"repository": f"{ORG_LOGIN}/mobile-app", "role_name": "admin", "permissions": {"admin": True}},
            ],
        },
    )
    # Not on the approved list once one is configured (docs/github.md shows the override).
    yield EvidenceItem(
        OUTSIDE_COLLABORATOR,
        "freelance-lou",
        {
            "login": "freelance-lou",
            "type": "User",
            "html_url": "https://github.com/freelance-lou",
            "org": ORG_LOGIN,
            "repositories": [
                {"repository": f"{ORG_LOGIN}/docs-site", "role_name": "write", "permissions": {"admin": False}},
            ],
        },
    )
    ruleset_rules = [
        {
            "type": "pull_request",
            "parameters": {"required_approving_review_count": 2},
            "ruleset_source_type": "Organization",
            "ruleset_source": ORG_LOGIN,
            "ruleset_id": 11,
        },
        {
            "type": "non_fast_forward",
            "ruleset_source_type": "Organization",
            "ruleset_source": ORG_LOGIN,
            "ruleset_id": 11,
        },
        {
            "type": "required_status_checks",
            "parameters": {"required_status_checks": [{"context": "build"}]},
            "ruleset_source_type": "Organization",
            "ruleset_source": ORG_LOGIN,
            "ruleset_id": 11,
        },
    ]
    yield _repo("platform-api", now, branch_protection=_protection(2, False, True))
    yield _repo(
        "payments",
        now,
        default_branch_rules=ruleset_rules,
        environments=[_environment("prod", protected_branches=True)],
    )
    yield _repo(
        "web-shop",
        now,
        branch_protection=_protection(1, True, False),
        environments=[_environment("production")],  # anyone with write access can deploy
        dependabot_alerts=[
            _alert(3, "critical", now - timedelta(days=45), "lodash"),
            _alert(4, "moderate", now - timedelta(days=3), "minimist"),
        ],
        deploy_keys=[
            {
                "id": 51,
                "title": "ci deploy",
                "read_only": False,
                "verified": True,
                "created_at": _iso(now - timedelta(days=200)),
                "last_used": None,
            }
        ],
    )
    yield _repo(
        "mobile-app",
        now,
        secret_scanning="disabled",
        codeowners={"present": False, "errors": []},
        code_scanning_last_analysis=None,
        actions_permissions={"enabled": True, "allowed_actions": "all", "source": "repository"},
        dependency_licenses=[*NPM_PACKAGES, _package("npm:pdf-render-kit", "2.1.0", "MIT OR GPL-3.0-only")],
    )
    yield _repo(
        "docs-site",
        now,
        visibility="public",
        branch_protection=_protection(1, False, True),
        environments=[],
        security_policy={"private_vulnerability_reporting": True, "policy_file": None},
    )
    yield _repo(
        "handbook",
        now,
        visibility="public",
        branch_protection=_protection(1, False, True),
        environments=[],
        security_policy={"private_vulnerability_reporting": False, "policy_file": None},
    )
    yield _repo("legacy-billing", now, archived=True, pushed_at=_iso(now - timedelta(days=900)))
