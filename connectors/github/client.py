"""PyGithub set-up and a conditional-request layer on top of PyGithub's own Requester.

Every HTTP call goes through ``Github.requester`` (its authentication, URL guard, retry policy for
secondary and primary rate limits, exception mapping). PyGithub's object layer cannot send
``If-None-Match`` or hand back a 304, so evidence is fetched as JSON here: a response's ETag and body
are kept in the connector state and the next run asks "changed since?". GitHub does not count a 304
against the rate limit, so an unchanged organization costs a fraction of the first sweep.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from connectors.base import CollectContext, ConnectorError, require

from .settings import GitHubSettings

PER_PAGE = 100
# GitHub's reset time has one-second resolution; waiting a little past it avoids a second refusal.
RATE_LIMIT_RESET_MARGIN = 1.0
STATE_PREFIX = "etag "


def build_github(settings: GitHubSettings) -> Any:
    """A ``github.Github`` for the configured host, with no self-imposed delay and rate-limit-aware retries."""
    github = require("github", "github")
    retry = github.GithubRetry(
        total=settings.max_retries,
        backoff_factor=0,
        secondary_rate_wait=settings.secondary_rate_wait,
        max_rate_limit_wait=settings.max_rate_limit_wait,
    )
    return github.Github(
        base_url=settings.base_url.rstrip("/"),
        auth=_auth(github, settings),
        per_page=PER_PAGE,
        # PyGithub's default self-throttle (0.25 s per request) would cost minutes on large orgs; GitHub
        # signals its limits itself and the retry policy honours them.
        seconds_between_requests=0,
        seconds_between_writes=0,
        retry=retry,
        timeout=int(settings.request_timeout),
    )


def _auth(github: Any, settings: GitHubSettings) -> Any:
    if settings.token is not None:
        return github.Auth.Token(settings.token.get_secret_value())
    assert settings.app_private_key_env is not None and settings.app_id is not None
    private_key = os.environ.get(settings.app_private_key_env)
    if not private_key:
        raise ConnectorError(f"environment variable {settings.app_private_key_env} (GitHub App private key) is not set")
    assert settings.installation_id is not None
    return github.Auth.AppAuth(settings.app_id, private_key).get_installation_auth(settings.installation_id)


@dataclass
class Page:
    body: Any
    next_url: str | None
    not_modified: bool


@dataclass
class Api:
    """Read-only GETs with ETag memory; raises PyGithub's ``GithubException`` for error answers."""

    github: Any
    context: CollectContext
    max_retries: int = 5
    max_rate_limit_wait: float = 900.0
    sleep: Callable[[float], None] = time.sleep
    requests_sent: int = 0
    not_modified: int = 0
    _host: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self._host = urlsplit(self.github.requester.base_url).netloc

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """One resource (200 or 304 from the stored body)."""
        return self._fetch(_with_query(path, params)).body

    def get_page(self, path: str) -> tuple[Any, bool]:
        """One resource and whether it answered 304 (unchanged since the run that stored its ETag)."""
        page = self._fetch(path)
        return page.body, page.not_modified

    def get_all(self, path: str, params: dict[str, Any] | None = None, items_key: str | None = None) -> list[Any]:
        """Every page of a list endpoint, 100 at a time; an error on any page raises, never a short list.
        ``items_key``: endpoints that wrap each page's list in an object (``{"total_count", key: [...]}``)."""
        return [item for page in self.pages(path, params, items_key) for item in page]

    def pages(
        self, path: str, params: dict[str, Any] | None = None, items_key: str | None = None
    ) -> Iterator[list[Any]]:
        url: str | None = _with_query(path, {**(params or {}), "per_page": PER_PAGE})
        while url is not None:
            page = self._fetch(url)
            body = page.body.get(items_key) if items_key and isinstance(page.body, dict) else page.body
            if not isinstance(body, list):
                raise TypeError(f"{path}: expected a JSON list, got {type(body).__name__}")
            yield body
            url = page.next_url

    def remembers(self, path: str) -> bool:
        """Whether an earlier run stored an ETag for this path (so asking it again may be free)."""
        return self.context.state.get(self._state_key(path)) is not None

    def _state_key(self, url: str) -> str:
        return STATE_PREFIX + self._host + _path_and_query(url)

    def _fetch(self, url: str) -> Page:
        key = self._state_key(url)
        stored = self.context.state.get(key)
        headers = {"If-None-Match": stored["etag"]} if stored else {}
        status_headers, body = self._request(url, headers)
        if body is None and stored is not None and status_headers.get("status") == 304:
            self.not_modified += 1
            page = Page(stored["body"], stored.get("next"), not_modified=True)
        else:
            page = Page(body, _next_link(status_headers.get("link")), not_modified=False)
        etag = status_headers.get("etag") or (stored["etag"] if page.not_modified and stored else None)
        if etag:
            # Re-put unchanged entries too: the next run only sees what this run stored.
            self.context.state.put(key, {"etag": etag, "body": page.body, "next": page.next_url})
        return page

    def _request(self, url: str, headers: dict[str, str]) -> tuple[dict[str, Any], Any]:
        requester = self.github.requester
        attempt = 0
        while True:
            self.requests_sent += 1
            self.context.count_call()
            status, response_headers, output = requester.requestJson("GET", url, headers=dict(headers))
            if status == 304:
                return {**response_headers, "status": 304}, None
            if status < 400:
                return {**response_headers, "status": status}, _json(output)
            wait = self._rate_limit_wait(status, response_headers)
            if wait is not None and attempt < self.max_retries:
                attempt += 1
                self.sleep(wait)
                continue
            raise requester.createException(status, response_headers, _error_body(output))

    def _rate_limit_wait(self, status: int, headers: dict[str, Any]) -> float | None:
        """Seconds to wait for a rate limit PyGithub's retry did not absorb (e.g. a bare 429), else None."""
        if status not in (403, 429):
            return None
        if "retry-after" in headers:
            return min(float(headers["retry-after"]), self.max_rate_limit_wait)
        if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            wait = max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + RATE_LIMIT_RESET_MARGIN
            return wait if wait <= self.max_rate_limit_wait else None
        return None


def _json(output: str) -> Any:
    return json.loads(output) if output else None


def _error_body(output: str) -> Any:
    try:
        return json.loads(output) if output else None
    except ValueError:
        return {"message": output[:200]}


def _with_query(path: str, params: dict[str, Any] | None) -> str:
    return f"{path}?{urlencode(sorted(params.items()))}" if params else path


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _next_link(link_header: str | None) -> str | None:
    """The rel="next" target of an RFC 8288 Link header (GitHub sends absolute URLs)."""
    for part in (link_header or "").split(","):
        if 'rel="next"' in part:
            target = part.split(";", 1)[0].strip()
            return target.removeprefix("<").removesuffix(">")
    return None
