"""The default branch's classic protection and the ruleset rules that apply to it.

Two ways to ask, chosen per repository to spend the fewest requests:

* directly: ``/branches/{b}/protection`` (200, or 404 "Branch not protected") and ``/rules/branches/{b}``,
  two requests whatever the answer;
* summary first: ``/branches/{b}``, whose ``protected`` flag is true when classic protection *or* a
  ruleset covers the branch; an unprotected branch then costs that one request, a protected one three.

A run starts direct and switches to summary-first once most of the repositories read so far were
unprotected (common before a first audit), provided the server has shown that its ``protected`` flag
counts rulesets: the first branch seen protected by rulesets alone has its summary read to confirm it.
(GitHub's flag does; a server whose flag ignored rulesets would otherwise hide their rules.) On a
re-run each repository is asked the way it was asked before, so that its stored ETags answer 304.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .client import Api
from .facts import message_of, status_of, without_hypermedia
from .recall import Recall

# Repositories read before the observed mix may switch the run to summary-first.
WARM_UP = 10
PROTECTION_FACT = "branch_protection"


@dataclass
class BranchReader:
    api: Api
    recall: Recall
    seen: int = 0
    unprotected: int = 0
    # Whether this server's `protected` flag is true for a branch covered by rulesets alone; None: not seen.
    flag_counts_rulesets: bool | None = None

    def protected_flag(self, repo: dict[str, Any]) -> bool | None:
        """The branch summary's ``protected`` flag when this repository is asked summary-first, else None."""
        return self._summary_flag(repo) if self._summary_first(repo) else None

    def protection(self, repo: dict[str, Any], flag: bool | None) -> dict[str, Any] | None:
        if flag is False:
            return None
        return self.recall.answer(
            PROTECTION_FACT, repo, lambda: self._ask_protection(repo), keep=lambda answer: answer is None
        )

    def rules(self, repo: dict[str, Any], flag: bool | None) -> list[dict[str, Any]]:
        if flag is False:
            return []  # `protected` is false: no active ruleset covers the branch either
        # GitHub returns only rules of ACTIVE rulesets here (evaluate/disabled ones are left out), from
        # the repository's own rulesets and the organization's.
        branch = quote(repo.get("default_branch") or "", safe="")
        rules = self.api.get_all(f"/repos/{repo['full_name']}/rules/branches/{branch}")
        return [without_hypermedia(rule) for rule in rules]

    def observe(self, repo: dict[str, Any], flag: bool | None, protection: Any, rules: Any) -> None:
        """Count a repository whose branch facts were read, for the summary-first decision."""
        if not isinstance(rules, list):
            return
        self.seen += 1
        self.unprotected += protection is None and not rules
        if protection is None and rules and self.flag_counts_rulesets is None:
            # Protected by rulesets alone: the summary (read already when asked summary-first) must say so.
            self.flag_counts_rulesets = (self._summary_flag(repo) if flag is None else flag) is True

    def _summary_flag(self, repo: dict[str, Any]) -> bool | None:
        from github import GithubException

        try:
            summary = self.api.get(self._path(repo))
        except GithubException:
            return None  # e.g. an empty repository ("Branch not found"): the direct calls decide
        flag = (summary or {}).get("protected")
        return flag if isinstance(flag, bool) else None

    def _summary_first(self, repo: dict[str, Any]) -> bool:
        if self.api.remembers(self._path(repo)):
            return True
        if self.api.remembers(self._path(repo) + "/protection") or self.recall.remembers(PROTECTION_FACT, repo):
            return False
        return self.flag_counts_rulesets is True and self.seen >= WARM_UP and 2 * self.unprotected > self.seen

    def _ask_protection(self, repo: dict[str, Any]) -> dict[str, Any] | None:
        from github import GithubException

        try:
            return without_hypermedia(self.api.get(self._path(repo) + "/protection"))
        except GithubException as exc:
            # "Branch not protected" (protection comes from rulesets only, or none) and "Branch not found"
            # (an empty repository) are facts: there is no classic protection.
            if status_of(exc) == 404 and message_of(exc).lower() in ("branch not protected", "branch not found"):
                return None
            raise

    @staticmethod
    def _path(repo: dict[str, Any]) -> str:
        return f"/repos/{repo['full_name']}/branches/{quote(repo.get('default_branch') or '', safe='')}"
