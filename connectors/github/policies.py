"""Organization-level policies that decide a repository fact without asking every repository.

GitHub lets an organization cap what its repositories may do: which repositories may run Actions and
which actions they may use, and whether deploy keys work at all. Where the cap alone decides the fact a
check needs, one organization-level call replaces one call per repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .client import Api
from .errors import api_errors
from .recall import Recall

# allowed_actions values at least as strict as "GitHub-owned, verified or listed actions only".
RESTRICTED_ACTIONS = frozenset({"local_only", "selected"})


@dataclass(frozen=True)
class ActionsPolicy:
    """GET /orgs/{org}/actions/permissions (plus the enabled repositories when they are a selection)."""

    enabled_repositories: str  # all | none | selected
    allowed_actions: str | None  # all | local_only | selected
    selected: frozenset[str] | None = None  # full names, when enabled_repositories is "selected"

    def decides(self, full_name: str) -> dict[str, Any] | None:
        """The repository's Actions permissions as the organization fixes them, or None when the repository
        chooses within the cap (it must then be asked)."""
        enabled = self.enabled_repositories == "all" or (
            self.enabled_repositories == "selected" and self.selected is not None and full_name in self.selected
        )
        if not enabled:
            return {"enabled": False, "allowed_actions": None, "source": "organization"}
        if self.allowed_actions in RESTRICTED_ACTIONS:
            # A repository may only be stricter than this: the organization's value is its ceiling.
            return {"enabled": True, "allowed_actions": self.allowed_actions, "source": "organization"}
        return None


def read_actions_policy(api: Api, org: str, recall: Recall) -> ActionsPolicy | None:
    """The organization's Actions policy, or None when it cannot be read (classic tokens need admin:org):
    then every repository is asked, which needs no organization rights. A refusal has no ETag, so it is
    remembered like the repositories' 404s."""
    policy = recall.answer("actions_policy", {"full_name": org}, lambda: _ask_actions_policy(api, org))
    if policy is None:
        return None
    selected = policy["selected"]
    return ActionsPolicy(
        policy["enabled_repositories"], policy["allowed_actions"], None if selected is None else frozenset(selected)
    )


def _ask_actions_policy(api: Api, org: str) -> dict[str, Any] | None:
    failures: tuple[type[BaseException], ...] = (*api_errors(), KeyError, TypeError)
    try:
        policy = api.get(f"/orgs/{org}/actions/permissions")
        enabled_repositories = str(policy["enabled_repositories"])
        selected = None
        if enabled_repositories == "selected":
            listed = api.get_all(f"/orgs/{org}/actions/permissions/repositories", items_key="repositories")
            selected = sorted(repo["full_name"] for repo in listed)
    except failures:
        return None
    return {
        "enabled_repositories": enabled_repositories,
        "allowed_actions": policy.get("allowed_actions"),
        "selected": selected,
    }


def deploy_keys_allowed(organization: Mapping[str, Any]) -> bool | None:
    """The organization's deploy-key policy from GET /orgs/{org}; None when the field is not returned."""
    value = organization.get("deploy_keys_enabled_for_repositories")
    return value if isinstance(value, bool) else None
