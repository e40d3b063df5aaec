"""The default branch's classic protection and the ruleset rules that apply to it.

Two ways to ask, chosen per repository to spend the fewest requests:

* directly: ``/branches/{b}/protection`` (200, or 404 "Branch not protected") and ``/rules/branches/{b}``,
  two requests whatever the answer;
* summary first: ``/branches/{b}``, whose ``protected`` flag is true when classic protection *or* a
  ruleset covers the branch; an unprotected branch then costs that one request, a protected one three.

A first sweep starts direct and switches to summary-first once most of the repositories read so far
were unprotected (common before a first audit), provided the server has shown that its ``protected``
flag counts rulesets: the first branch seen protected by rulesets alone has its summary read to confirm
it (GitHub's flag does; a server whose flag ignored rulesets would otherwise hide their rules). On
re-runs, repositories asked summary-first before, and unprotected ones (their 404 has no ETag), are
asked summary-first: the summary's ETag then says for free whether anything changed.
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
# Connector-state key: this server's `protected` flag was seen true for a branch covered by rulesets alone.
FLAG_COUNTS_RULESETS = "summary flag counts rulesets"


@dataclass(frozen=True)
class Summary:
    """What the branch summary said: its ``protected`` flag (None when not asked or unreadable), and whether
    it answered 304 (nothing about the branch changed since the last run)."""

    flag: bool | None = None
    unchanged: bool = False


NOT_ASKED = Summary()


@dataclass
class BranchReader:
    api: Api
    recall: Recall
    seen: int = 0
    unprotected: int = 0
    flag_counts_rulesets: bool = False
    confirmation_tried: bool = False

    def __post_init__(self) -> None:
        state = self.api.context.state
        self.flag_counts_rulesets = state.get(FLAG_COUNTS_RULESETS) is True
        if self.flag_counts_rulesets:
            state.put(FLAG_COUNTS_RULESETS, True)  # the next run sees only what this run stored

    def summary(self, repo: dict[str, Any]) -> Summary:
        """The branch summary when this repository is asked summary-first, else NOT_ASKED."""
        return self._read_summary(repo) if self._summary_first(repo) else NOT_ASKED

    def rules(self, repo: dict[str, Any], summary: Summary) -> list[dict[str, Any]]:
        if summary.flag is False and self.flag_counts_rulesets:
            return []  # `protected` is false: no active ruleset covers the branch either
        # GitHub returns only rules of ACTIVE rulesets here (evaluate/disabled ones are left out), from
        # the repository's own rulesets and the organization's.
        rules = self.api.get_all(f"/repos/{repo['full_name']}/rules/branches/{_branch(repo)}")
        return [without_hypermedia(rule) for rule in rules]

    def protection(self, repo: dict[str, Any], summary: Summary, ruled: bool) -> dict[str, Any] | None:
        """Classic protection. A remembered "Branch not protected" (a 404 has no ETag) is reused for an
        unprotected branch only while its summary answers 304: gaining protection flips the summary's
        flag, so it is seen on the next run. For a branch protected by rulesets (the summary would say
        `protected` either way) the memory stands until a push, a change of rules or ``recheck_hours``."""
        if summary.flag is False:
            return None
        return self.recall.answer(
            PROTECTION_FACT,
            repo,
            lambda: self._ask_protection(repo),
            still_valid=ruled or summary.unchanged,
            marker={"ruled": ruled},
        )

    def observe(self, repo: dict[str, Any], summary: Summary, protection: Any, rules: Any) -> None:
        """Count a repository whose branch facts were read, for the summary-first decision."""
        if not isinstance(rules, list):
            return
        self.seen += 1
        self.unprotected += protection is None and not rules
        if protection is None and rules and not self.flag_counts_rulesets and not self.confirmation_tried:
            # Protected by rulesets alone: the summary (read already when asked summary-first) must say so.
            # One try per run: a server whose flag ignores rulesets once will do so again.
            self.confirmation_tried = True
            flag = self._read_summary(repo).flag if summary.flag is None else summary.flag
            if flag is True:
                self.flag_counts_rulesets = True
                self.api.context.state.put(FLAG_COUNTS_RULESETS, True)

    def _read_summary(self, repo: dict[str, Any]) -> Summary:
        from github import GithubException
        from requests.exceptions import RequestException

        try:
            body, unchanged = self.api.get_page(self._path(repo))
        except GithubException:
            return NOT_ASKED  # e.g. an empty repository ("Branch not found"): the direct calls decide
        except RequestException:
            # Retries spent on 5xx (requests' RetryError) or a timeout: the summary is only a shortcut,
            # so the direct calls decide, and one failing repository never stops the organization's sweep.
            return NOT_ASKED
        flag = (body or {}).get("protected")
        return Summary(flag if isinstance(flag, bool) else None, unchanged)

    def _summary_first(self, repo: dict[str, Any]) -> bool:
        path = self._path(repo)
        # Asked that way before, or unprotected last time (its 404 has no ETag): the summary's ETag now
        # tells for free whether anything changed.
        remembered = self.recall.remembered_marker(PROTECTION_FACT, repo)
        if self.api.remembers(path) or (remembered is not None and not remembered.get("ruled")):
            return True
        if self.api.remembers(path + "/protection"):
            return False
        return self.flag_counts_rulesets and self.seen >= WARM_UP and 2 * self.unprotected > self.seen

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
        return f"/repos/{repo['full_name']}/branches/{_branch(repo)}"


def _branch(repo: dict[str, Any]) -> str:
    """The default branch's name as a URL path segment."""
    return quote(repo.get("default_branch") or "", safe="")
