"""Deployment environments of a repository, with their protection rules and branch policy."""

from __future__ import annotations

from typing import Any

from .client import Api
from .facts import without_hypermedia


def _reviewer(entry: dict[str, Any]) -> dict[str, Any]:
    reviewer = entry.get("reviewer") or {}
    return {
        "type": entry.get("type"),
        "reviewer": reviewer.get("login") or reviewer.get("slug") or reviewer.get("name"),
    }


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in without_hypermedia(rule).items() if key not in ("node_id", "reviewers")}
    if "reviewers" in rule:
        out["reviewers"] = [_reviewer(r) for r in rule.get("reviewers") or [] if isinstance(r, dict)]
    return out


def read_environments(api: Api, full_name: str) -> list[dict[str, Any]]:
    """[{name, protection_rules: [{id, type, reviewers?, prevent_self_review?, wait_timer?}],
    deployment_branch_policy, can_admins_bypass, created_at, updated_at}]."""
    # GitHub has no organization-wide listing of environments: one paged call per repository, whose ETag
    # makes an unchanged re-run a 304.
    listed = api.get_all(f"/repos/{full_name}/environments", items_key="environments")
    out = []
    for env in listed:
        if not isinstance(env, dict):
            continue
        out.append(
            {
                "name": env.get("name"),
                "protection_rules": [_rule(r) for r in env.get("protection_rules") or [] if isinstance(r, dict)],
                "deployment_branch_policy": env.get("deployment_branch_policy"),
                "can_admins_bypass": env.get("can_admins_bypass"),
                "created_at": env.get("created_at"),
                "updated_at": env.get("updated_at"),
            }
        )
    return out
