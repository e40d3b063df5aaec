"""Repositories, joined with the per-repository facts the checks need.

Per non-archived repository: the default branch's protection and the rules of active rulesets for it
(branches.py), CODEOWNERS, Actions permissions, the newest code scanning analysis, deployment environments
(environments.py), dependency licences (sbom.py), for public ones the vulnerability disclosure route
(disclosure.py), deploy keys and the outside collaborators. Archived repositories are read-only, so only
their access (deploy keys, collaborators) is collected. Organization policies spare per-repository calls
where they alone decide a fact (policies.py), and answers without an ETag are remembered across runs
(recall.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import CollectionError, EvidenceItem

from .alerts import repo_open_alerts
from .branches import BranchReader
from .client import Api
from .disclosure import DisclosureReader, org_defaults_repo
from .environments import read_environments
from .errors import api_errors
from .facts import error_reason, message_of, status_of, without_hypermedia
from .kinds import REPO
from .policies import ActionsPolicy
from .recall import Recall
from .sbom import dependency_licenses

PROGRESS_EVERY = 100  # repositories between progress lines on large organizations


def code_scanning_available(repo: Mapping[str, Any]) -> bool | None:
    """Public repositories always can; private and internal ones need Advanced Security (or, since 2025,
    GitHub Code Security) enabled. None when ``security_and_analysis`` does not say (no admin rights)."""
    if repo.get("visibility") == "public":
        return True
    analysis = repo.get("security_and_analysis")
    if not isinstance(analysis, Mapping):
        return None
    statuses = [(analysis.get(name) or {}).get("status") for name in ("advanced_security", "code_security")]
    if "enabled" in statuses:
        return True
    return False if any(status is not None for status in statuses) else None


@dataclass
class RepoCollector:
    api: Api
    org: str
    recall: Recall
    # Open alerts by repository from the organization endpoint; None means "ask each repository".
    org_alerts: Mapping[str, list[dict[str, Any]]] | None
    alerts_error: str | None = None
    alerts_unreadable: bool = False
    # False when the organization has no outside collaborators: nobody's repository access to record.
    track_access: bool = True
    actions_policy: ActionsPolicy | None = None
    deploy_keys_allowed: bool | None = None  # the organization's policy; None = not readable
    access: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    access_errors: list[str] = field(default_factory=list)
    branches: BranchReader = field(init=False)
    disclosure: DisclosureReader = field(init=False)

    def __post_init__(self) -> None:
        self.branches = BranchReader(self.api, self.recall)
        self.disclosure = DisclosureReader(self.api, self.recall)

    def items(self, repos: list[dict[str, Any]]) -> Iterator[EvidenceItem | CollectionError]:
        self.disclosure.org_defaults = org_defaults_repo(repos)
        if self.alerts_error:
            yield CollectionError(REPO, self.alerts_error, ("dependabot_alerts",))
        for done, repo in enumerate(repos, 1):
            yield from self._one(repo)
            if done % PROGRESS_EVERY == 0 and done < len(repos):
                self.api.context.progress(f"github: {done}/{len(repos)} repositories of {self.org} read")

    def _one(self, repo: dict[str, Any]) -> Iterator[EvidenceItem | CollectionError]:
        full_name = repo["full_name"]
        data = without_hypermedia(dict(repo))
        data.update(org=self.org, details_skipped=None, deploy_keys_allowed=self.deploy_keys_allowed)
        data.setdefault("security_and_analysis", None)
        data["code_scanning_available"] = code_scanning_available(repo)
        errors: list[CollectionError] = []
        unknown: dict[str, str] = {}

        # A malformed answer (TypeError) costs that repository's fact, like a refused call.
        failures: tuple[type[BaseException], ...] = (*api_errors(), TypeError)

        def fact(name: str, read: Callable[[], Any], call: str | None = None) -> None:
            try:
                data[name] = read()
            except failures as exc:
                # Unknown, not null (null means "not protected", "no keys"): only the checks that read
                # this fact become `error` for this repository; the others keep their verdicts.
                data[name] = None
                where = f" ({call})" if call else ""
                reason = f"{full_name}: {name.replace('_', ' ')}{where}: {error_reason(exc)}"
                unknown[name] = reason
                errors.append(CollectionError(REPO, reason, (name,), items=(full_name,)))

        if repo.get("archived"):
            data["details_skipped"] = "archived"
            for name in (
                "branch_protection",
                "codeowners",
                "actions_permissions",
                "code_scanning_last_analysis",
                "environments",
                "dependency_licenses",
                "security_policy",
            ):
                data[name] = None
            data["default_branch_rules"] = []
        else:
            summary = self.branches.summary(repo)
            fact("default_branch_rules", lambda: self.branches.rules(repo, summary))
            ruled = bool(data["default_branch_rules"])
            fact("branch_protection", lambda: self.branches.protection(repo, summary, ruled))
            self.branches.observe(repo, summary, data["branch_protection"], data["default_branch_rules"])
            fact("codeowners", lambda: self._codeowners(repo))
            fact("actions_permissions", lambda: self._actions(full_name))
            fact("code_scanning_last_analysis", lambda: self._code_scanning(repo, data["code_scanning_available"]))
            base = f"GET /repos/{full_name}"
            fact("environments", lambda: read_environments(self.api, full_name), f"{base}/environments")
            fact(
                "dependency_licenses",
                lambda: dependency_licenses(self.api, self.recall, repo),
                f"{base}/dependency-graph/sbom",
            )
            if repo.get("visibility") == "public":
                fact(
                    "security_policy",
                    lambda: self.disclosure.read(repo),
                    f"{base}/private-vulnerability-reporting, {base}/contents",
                )
            else:
                data["security_policy"] = None  # asked of public repositories only: outsiders report through them
        if self.deploy_keys_allowed is False:
            data["deploy_keys"] = []  # the organization disables deploy keys: existing ones cannot be used
        else:
            fact("deploy_keys", lambda: [without_hypermedia(k) for k in self.api.get_all(f"/repos/{full_name}/keys")])
        if self.alerts_unreadable:
            data["dependabot_alerts"] = None
        elif self.org_alerts is not None:
            data["dependabot_alerts"] = list(self.org_alerts.get(full_name, []))
        else:
            fact("dependabot_alerts", lambda: repo_open_alerts(self.api, full_name))
        if self.track_access:
            self._outside_access(full_name)
        yield from errors
        item = EvidenceItem(REPO, full_name, data)
        for name, reason in unknown.items():
            item.mark_unknown(name, reason)
        yield item

    def _codeowners(self, repo: dict[str, Any]) -> dict[str, Any]:
        """CODEOWNERS presence; re-read only after a push, the only way the file can appear or go."""
        from github import GithubException

        def ask() -> dict[str, Any]:
            try:
                answer = self.api.get(f"/repos/{repo['full_name']}/codeowners/errors")
            except GithubException as exc:
                if status_of(exc) != 404:
                    raise
                return {"present": False, "errors": []}
            return {"present": True, "errors": (answer or {}).get("errors", [])}

        return dict(self.recall.answer("codeowners", repo, ask, keep=lambda _: True, max_age_seconds=math.inf))

    def _actions(self, full_name: str) -> dict[str, Any]:
        decided = self.actions_policy.decides(full_name) if self.actions_policy else None
        if decided is not None:
            return decided
        answer = without_hypermedia(self.api.get(f"/repos/{full_name}/actions/permissions"))
        return {**answer, "source": "repository"}

    def _code_scanning(self, repo: dict[str, Any], available: bool | None) -> dict[str, Any] | None:
        if available is False:
            return None  # code scanning cannot run here: nothing to ask
        return self.recall.answer("code_scanning", repo, lambda: self._newest_analysis(repo["full_name"]))

    def _newest_analysis(self, full_name: str) -> dict[str, Any] | None:
        from github import GithubException

        try:
            analyses = self.api.get(f"/repos/{full_name}/code-scanning/analyses", {"per_page": 1})
        except GithubException as exc:
            message = message_of(exc).lower()
            if status_of(exc) == 404 and "no analysis found" in message:
                return None
            # A private repository without GitHub Advanced Security cannot run code scanning: a fact.
            if status_of(exc) == 403 and ("advanced security" in message or "not enabled" in message):
                return None
            raise
        if not analyses:
            return None
        newest = analyses[0]
        return {
            "created_at": newest.get("created_at"),
            "tool": (newest.get("tool") or {}).get("name"),
            "ref": newest.get("ref"),
            "analysis_key": newest.get("analysis_key"),
        }

    def _outside_access(self, full_name: str) -> None:
        try:
            collaborators = self.api.get_all(f"/repos/{full_name}/collaborators", {"affiliation": "outside"})
        except api_errors() as exc:
            self.access_errors.append(f"{full_name}: outside collaborators: {error_reason(exc)}")
            return
        for collaborator in collaborators:
            self.access[collaborator["login"]].append(
                {
                    "repository": full_name,
                    "role_name": collaborator.get("role_name"),
                    "permissions": collaborator.get("permissions") or {},
                }
            )
