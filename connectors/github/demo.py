"""The demo organization: the same kinds and shapes as collect(), no network, deterministic given now."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .kinds import MEMBER, ORG, OUTSIDE_COLLABORATOR, REPO

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
    }
    data.update(facts)
    if data["archived"]:
        data.update(details_skipped="archived", branch_protection=None, codeowners=None, actions_permissions=None)
        data.update(code_scanning_last_analysis=None, default_branch_rules=[])
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
    yield _repo("payments", now, default_branch_rules=ruleset_rules)
    yield _repo(
        "web-shop",
        now,
        branch_protection=_protection(1, True, False),
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
    )
    yield _repo("docs-site", now, visibility="public", branch_protection=_protection(1, False, True))
    yield _repo("handbook", now, visibility="public", branch_protection=_protection(1, False, True))
    yield _repo("legacy-billing", now, archived=True, pushed_at=_iso(now - timedelta(days=900)))
