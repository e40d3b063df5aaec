"""How a repository tells outsiders to report a vulnerability: private vulnerability reporting or a policy file.

GitHub's "Report a vulnerability" button appears when private vulnerability reporting is on; its Security
tab shows a SECURITY.md from the repository's root, ``.github/`` or ``docs/`` folder, or else the one the
organization keeps in its public ``.github`` repository (GitHub's default community health files). The
community profile endpoint does not report a security policy, so the files are found from directory
listings: the root's, then the folders it shows, stopping at the first policy file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .client import Api
from .facts import status_of
from .recall import Recall

POLICY_FILE = "security.md"  # compared case-insensitively, as GitHub finds it
POLICY_FOLDERS = (".github", "docs")  # searched after the root, in GitHub's order
ORG_DEFAULTS_REPO = ".github"
_UNREAD = object()


def policy_file_in(api: Api, full_name: str) -> str | None:
    """The path of the first security policy file of a repository, or None."""
    root = _listing(api, full_name, "")
    found = _policy_in(root)
    folders = {entry.get("name") for entry in root if entry.get("type") == "dir"}
    for folder in POLICY_FOLDERS:
        if found is None and folder in folders:
            found = _policy_in(_listing(api, full_name, folder))
    return found


def _listing(api: Api, full_name: str, folder: str) -> list[dict[str, Any]]:
    from github import GithubException

    path = f"/repos/{full_name}/contents" + (f"/{folder}" if folder else "")
    try:
        answer = api.get(path)
    except GithubException as exc:
        # "This repository is empty." (no root) and a missing folder: no file there, a fact.
        if status_of(exc) == 404:
            return []
        raise
    return [entry for entry in answer if isinstance(entry, dict)] if isinstance(answer, list) else []


def _policy_in(entries: list[dict[str, Any]]) -> str | None:
    for entry in entries:
        if entry.get("type") == "file" and str(entry.get("name", "")).lower() == POLICY_FILE:
            return str(entry.get("path") or entry.get("name"))
    return None


@dataclass
class DisclosureReader:
    """``security_policy`` for public repositories: {private_vulnerability_reporting, policy_file}."""

    api: Api
    recall: Recall
    # The organization's public .github repository (from the repository list), whose SECURITY.md GitHub
    # shows for every repository without one of its own; None when there is none.
    org_defaults: Mapping[str, Any] | None = None
    _org_file: Any = field(default=_UNREAD, init=False)

    def read(self, repo: Mapping[str, Any]) -> dict[str, Any]:
        full_name = repo["full_name"]
        answer = self.api.get(f"/repos/{full_name}/private-vulnerability-reporting")
        reporting = (answer or {}).get("enabled") if isinstance(answer, dict) else None
        own = self._file_of(repo)
        policy_file = {"repository": full_name, "path": own} if own else self._org_default(full_name)
        return {"private_vulnerability_reporting": reporting is True, "policy_file": policy_file}

    def _file_of(self, repo: Mapping[str, Any]) -> str | None:
        # Only a push can add or remove a file: the answer (found or not) stands until the next push.
        return self.recall.answer(
            "security_policy_file",
            repo,
            lambda: policy_file_in(self.api, repo["full_name"]),
            keep=lambda _: True,
            max_age_seconds=math.inf,
        )

    def _org_default(self, full_name: str) -> dict[str, str] | None:
        defaults = self.org_defaults
        if defaults is None or defaults["full_name"] == full_name:
            return None
        if self._org_file is _UNREAD:  # read once per run, and only when a repository lacks its own file
            self._org_file = self._file_of(defaults)
        path = self._org_file
        return {"repository": str(defaults["full_name"]), "path": str(path)} if path else None


def org_defaults_repo(repos: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The organization's public, non-archived ``.github`` repository, when it has one."""
    for repo in repos:
        if repo.get("name") == ORG_DEFAULTS_REPO and repo.get("visibility") == "public" and not repo.get("archived"):
            return repo
    return None
