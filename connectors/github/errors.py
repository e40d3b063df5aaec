"""Which exceptions mean "this call failed" (recorded as a kind's error) rather than a bug."""

from __future__ import annotations


def api_errors() -> tuple[type[BaseException], ...]:
    """PyGithub's error answers and transport failures (incl. retries exhausted), resolved lazily so that
    importing the package does not import the SDK."""
    from github import GithubException
    from requests import RequestException

    return (GithubException, RequestException)
