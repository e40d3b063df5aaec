"""Repositories, joined with the per-repository facts the checks need.

Per non-archived repository: the default branch (whose ``protected`` flag spares a protection call for
unprotected branches), its protection, the rules of active rulesets for it, CODEOWNERS, deploy keys,
Actions permissions, the newest code scanning analysis and the outside collaborators. Archived
repositories are read-only, so only their access (deploy keys, collaborators) is collected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from connectors.base import CollectionError, EvidenceItem

from .alerts import repo_open_alerts
from .client import Api
from .errors import api_errors
from .facts import error_reason, message_of, status_of, without_hypermedia
from .kinds import REPO

CODEOWNERS_STATE = "codeowners "


@dataclass
class RepoCollector:
    api: Api
    org: str
    # Open alerts by repository from the organization endpoint; None means "ask each repository".
    org_alerts: Mapping[str, list[dict[str, Any]]] | None
    alerts_error: str | None = None
    alerts_unreadable: bool = False
    # False when the organization has no outside collaborators: nobody's repository access to record.
    track_access: bool = True
    access: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    access_errors: list[str] = field(default_factory=list)

    def items(self, repos: list[dict[str, Any]]) -> Iterator[EvidenceItem | CollectionError]:
        if self.alerts_error:
            yield CollectionError(REPO, self.alerts_error, ("dependabot_alerts",))
        for repo in repos:
            yield from self._one(repo)

    def _one(self, repo: dict[str, Any]) -> Iterator[EvidenceItem | CollectionError]:
        full_name = repo["full_name"]
        data = without_hypermedia(dict(repo))
        data.update(org=self.org, details_skipped=None)
        data.setdefault("security_and_analysis", None)
        errors: list[CollectionError] = []

        def fact(name: str, read: Callable[[], Any]) -> None:
            try:
                data[name] = read()
            except api_errors() as exc:
                # Only the checks that read this fact become `error`; the others keep their verdicts.
                data[name] = None
                errors.append(
                    CollectionError(REPO, f"{full_name}: {name.replace('_', ' ')}: {error_reason(exc)}", (name,))
                )

        archived = bool(repo.get("archived"))
        if archived:
            data["details_skipped"] = "archived"
            for name in ("branch_protection", "codeowners", "actions_permissions", "code_scanning_last_analysis"):
                data[name] = None
            data["default_branch_rules"] = []
        else:
            branch = quote(repo.get("default_branch") or "", safe="")
            fact("branch_protection", lambda: self._protection(full_name, branch))
            fact("default_branch_rules", lambda: self._rules(full_name, branch))
            fact("codeowners", lambda: self._codeowners(repo))
            fact("actions_permissions", lambda: self._actions(full_name))
            fact("code_scanning_last_analysis", lambda: self._code_scanning(full_name))
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
        yield EvidenceItem(REPO, full_name, data)

    def _protection(self, full_name: str, branch: str) -> dict[str, Any] | None:
        from github import GithubException

        try:
            # The branch summary answers 304 on unchanged re-runs (a "Branch not protected" 404 never does),
            # and its `protected` flag spares the protection call for unprotected branches.
            if not self._branch_protected_flag(full_name, branch):
                return None
            return without_hypermedia(self.api.get(f"/repos/{full_name}/branches/{branch}/protection"))
        except GithubException as exc:
            # "Branch not protected" (protection comes from rulesets only, or none) and "Branch not found"
            # (an empty repository) are facts: there is no classic protection.
            if status_of(exc) == 404 and message_of(exc).lower() in ("branch not protected", "branch not found"):
                return None
            raise

    def _branch_protected_flag(self, full_name: str, branch: str) -> bool:
        """The branch's `protected` flag; True (ask for the protection itself) when it cannot be read."""
        from github import GithubException

        try:
            summary = self.api.get(f"/repos/{full_name}/branches/{branch}")
        except GithubException:
            return True  # an API without the branch endpoint: the protection call decides
        return bool((summary or {}).get("protected", True))

    def _rules(self, full_name: str, branch: str) -> list[dict[str, Any]]:
        # GitHub returns only rules of ACTIVE rulesets here (evaluate/disabled ones are left out), from
        # the repository's own rulesets and the organization's.
        return [without_hypermedia(rule) for rule in self.api.get_all(f"/repos/{full_name}/rules/branches/{branch}")]

    def _codeowners(self, repo: dict[str, Any]) -> dict[str, Any]:
        """CODEOWNERS presence; only re-read after a push (the file cannot change otherwise)."""
        from github import GithubException

        state = self.api.context.state
        key = CODEOWNERS_STATE + repo["full_name"]
        marker = {"pushed_at": repo.get("pushed_at"), "default_branch": repo.get("default_branch")}
        stored = state.get(key)
        if stored and stored.get("marker") == marker:
            state.put(key, stored)
            return dict(stored["value"])
        try:
            answer = self.api.get(f"/repos/{repo['full_name']}/codeowners/errors")
            value = {"present": True, "errors": (answer or {}).get("errors", [])}
        except GithubException as exc:
            if status_of(exc) != 404:
                raise
            value = {"present": False, "errors": []}
        state.put(key, {"marker": marker, "value": value})
        return value

    def _actions(self, full_name: str) -> dict[str, Any]:
        return dict(without_hypermedia(self.api.get(f"/repos/{full_name}/actions/permissions")))

    def _code_scanning(self, full_name: str) -> dict[str, Any] | None:
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
