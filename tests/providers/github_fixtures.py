"""Shared set-up for the GitHub connector tests: an imitation per test and fast retry settings."""

from __future__ import annotations

from typing import Any

from stub import Stub

from .github_imitation import Estate, GitHubImitation, Repo, dependency, environment, protection, ruleset

TOKEN = "ghp_s3cr3tTokenValue0123456789abcdef"


def settings(stub: Stub, **extra: Any) -> dict[str, Any]:
    return {
        "organization": "acme",
        "token": TOKEN,
        "base_url": stub.base_url,
        "max_retries": 3,
        "secondary_rate_wait": 0,
        "max_rate_limit_wait": 5,
        **extra,
    }


def compliant_repo(name: str, **overrides: Any) -> Repo:
    repo = Repo(
        name,
        protection=protection(approvals=1),
        analyses=[
            {
                "id": 1,
                "created_at": "2026-04-28T10:00:00Z",
                "ref": "refs/heads/main",
                "analysis_key": "dynamic/github-code-scanning/codeql:analyze",
                "tool": {"name": "CodeQL"},
            }
        ],
        deploy_keys=[
            {
                "id": 9,
                "key": "ssh-ed25519 AAAA",
                "title": "ci",
                "read_only": True,
                "verified": True,
                "created_at": "2025-01-01T00:00:00Z",
                "last_used": None,
            }
        ],
        environments=[environment("staging"), environment("production", reviewers=("alice",))],
        dependencies=[
            dependency("requests", "2.32.3", concluded="Apache-2.0"),
            dependency("certifi", "2024.8.30", declared="MPL-2.0"),
            dependency("chardet", "5.2.0", concluded="LGPL-2.1-or-later"),
        ],
    )
    for key, value in overrides.items():
        setattr(repo, key, value)
    return repo


def compliant_estate(**overrides: Any) -> Estate:
    estate = Estate(
        members=["alice", "bob", "cleo"],
        owners=["alice", "bob"],
        two_factor_disabled=[],
        outside_collaborators=["olga"],
        repos=[
            compliant_repo("api"),
            compliant_repo("web", protection=None, rulesets=[ruleset(10, "active")]),
            compliant_repo("site", visibility="public", files=["README.md", ".github/SECURITY.md"]),
            Repo("attic", archived=True),  # unprotected, no scanning: archived, so out of scope
        ],
    )
    estate.repos[0].collaborators = [
        {
            "login": "olga",
            "role_name": "write",
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
        }
    ]
    for key, value in overrides.items():
        setattr(estate, key, value)
    return estate


def serve(stub: Stub, estate: Estate) -> GitHubImitation:
    return GitHubImitation(stub, estate)
