"""Credentials, retries and the REST session for the Google APIs that have no client library here.

Every call is read-only. 429 and 5xx are retried with exponential backoff; a ``Retry-After`` header
is honoured on top of it. The same policy is handed to the Resource Manager client library as an
``api_core`` ``Retry`` because its defaults never retry a REST 429.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from connectors.base import CollectContext, ConnectorError, require

READ_ONLY_SCOPE = "https://www.googleapis.com/auth/cloud-platform.read-only"
FULL_SCOPE = "https://www.googleapis.com/auth/cloud-platform"

# Production hosts of the services called over plain REST; `api_endpoint` replaces all of them.
SERVICE_HOSTS = {
    "storage": "https://storage.googleapis.com",
    "iam": "https://iam.googleapis.com",
    "compute": "https://compute.googleapis.com",
    "sqladmin": "https://sqladmin.googleapis.com",
}
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# Storage and Compute still answer with the older error shape: errors[].reason instead of ErrorInfo.
_DISABLED_REASONS = frozenset({"SERVICE_DISABLED", "accessNotConfigured"})


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for throttling and transient errors; tests lower the delays and record the sleeps."""

    attempts: int = 6
    initial_delay: float = 1.0
    max_delay: float = 32.0
    max_retry_after: float = 120.0
    deadline: float = 600.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def backoff(self, attempt: int) -> float:
        base = min(self.max_delay, self.initial_delay * (2**attempt))
        return base * (0.5 + random.random() / 2)  # jitter so concurrent projects do not retry in step


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None when absent."""
    if headers is None:
        return None
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ApiError(Exception):
    """A Google API answered with an error status (after retries)."""

    def __init__(self, status: int, reason: str | None, message: str, service: str | None = None) -> None:
        super().__init__(f"{status} {reason or 'error'}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.service = service

    @property
    def service_disabled(self) -> bool:
        return self.status == 403 and self.reason in _DISABLED_REASONS


def parse_error(status: int, body: Any) -> ApiError:
    """Google's error JSON: ErrorInfo in error.details (AIP-193) or the legacy error.errors[].reason."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ApiError(status, None, f"HTTP {status}")
    reason, service = None, None
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.ErrorInfo"):
            reason = detail.get("reason")
            service = (detail.get("metadata") or {}).get("service")
            break
    if reason is None:
        legacy = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
        reason = next((r for r in legacy if r), None) or error.get("status")
    message = str(error.get("message") or f"HTTP {status}").splitlines()[0][:300]
    return ApiError(status, reason, message, service)


def load_credentials() -> tuple[Any, Any]:
    """Application Default Credentials, read-only scoped, plus a cloud-platform-scoped twin.

    IAM v1 and Cloud SQL Admin v1 do not list the read-only scope; their calls fall back to the
    broad scope only when Google answers ACCESS_TOKEN_SCOPE_INSUFFICIENT. What the identity may do
    is still limited by its (viewer) roles, not by the scope.
    """
    google_auth = require("google.auth", "gcp")
    exceptions = require("google.auth.exceptions", "gcp")
    try:
        credentials, _ = google_auth.default(scopes=[READ_ONLY_SCOPE])
        broad, _ = google_auth.default(scopes=[FULL_SCOPE])
    except exceptions.DefaultCredentialsError as exc:
        raise ConnectorError(f"gcp: no Application Default Credentials: {str(exc).splitlines()[0]}") from None
    return credentials, broad


class RestSession:
    """GET-only JSON calls through google-auth's AuthorizedSession, with retries and call counting."""

    def __init__(
        self,
        credentials: Any,
        broad_credentials: Any,
        context: CollectContext,
        policy: RetryPolicy,
        api_endpoint: str | None,
    ) -> None:
        transport = require("google.auth.transport.requests", "gcp")
        self._session = transport.AuthorizedSession(credentials)
        self._broad_credentials = broad_credentials
        self._broad_session: Any = None
        self._transport = transport
        self._context = context
        self._policy = policy
        self._endpoint = api_endpoint
        self._lock = threading.Lock()

    def url(self, service: str, path: str) -> str:
        return (self._endpoint or SERVICE_HOSTS[service]) + path

    def count(self, n: int = 1) -> None:
        with self._lock:
            self._context.count_call(n)

    def _broad(self) -> Any:
        with self._lock:
            if self._broad_session is None:
                self._broad_session = self._transport.AuthorizedSession(self._broad_credentials)
            return self._broad_session

    def get(self, service: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            return self._get(self._session, service, path, params)
        except ApiError as exc:
            if exc.status == 403 and exc.reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
                return self._get(self._broad(), service, path, params)
            raise

    def _get(self, session: Any, service: str, path: str, params: dict[str, Any] | None) -> dict[str, Any]:
        url = self.url(service, path)
        started = time.monotonic()
        for attempt in range(self._policy.attempts):
            self.count()
            response = session.get(url, params=params, timeout=60)
            if response.status_code < 400:
                body = response.json() if response.content else {}
                return body if isinstance(body, dict) else {}
            try:
                body = response.json()
            except ValueError:
                body = None
            last = attempt == self._policy.attempts - 1
            if response.status_code not in RETRYABLE_STATUS or last:
                raise parse_error(response.status_code, body)
            delay = max(self._policy.backoff(attempt), self._retry_after(response.headers))
            if time.monotonic() - started + delay > self._policy.deadline:
                raise parse_error(response.status_code, body)
            self._policy.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    def _retry_after(self, headers: Any) -> float:
        return min(retry_after_seconds(headers) or 0.0, self._policy.max_retry_after)

    def pages(
        self, service: str, path: str, items_key: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of every page; an error on any page raises (never a shorter list)."""
        query = dict(params or {})
        while True:
            body = self.get(service, path, query)
            yield from body.get(items_key) or []
            token = body.get("nextPageToken")
            if not token:
                return
            query["pageToken"] = token


def gapic_retry(policy: RetryPolicy, session: RestSession) -> Any:
    """An api_core Retry for the Resource Manager client: 429 and 5xx, Retry-After honoured."""
    retry = require("google.api_core.retry", "gcp")
    exceptions = require("google.api_core.exceptions", "gcp")

    def on_error(exc: Exception) -> None:
        session.count()  # the failed attempt was a call too
        response = getattr(exc, "response", None)
        wait = retry_after_seconds(getattr(response, "headers", None))
        if wait:
            # api_core then adds its own backoff sleep, so the server's wait is always respected.
            policy.sleep(min(wait, policy.max_retry_after))

    return retry.Retry(
        predicate=retry.if_exception_type(
            exceptions.TooManyRequests,
            exceptions.InternalServerError,
            exceptions.BadGateway,
            exceptions.ServiceUnavailable,
            exceptions.GatewayTimeout,
        ),
        initial=policy.initial_delay,
        maximum=policy.max_delay,
        multiplier=2.0,
        timeout=policy.deadline,
        on_error=on_error,
    )
