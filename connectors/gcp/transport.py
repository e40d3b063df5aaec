"""Credentials, retries and the REST session for the Google APIs that have no client library here.

Every call is read-only and goes through :class:`Calls`: one attempt at a time under the shared
:class:`connectors.http.RetryPolicy` (bounded attempts *and* a per-call deadline; 408, 429, 5xx,
timeouts and dropped connections are retried, ``Retry-After`` honoured), with the configured
connect/read timeouts on every request. The Resource Manager client library uses the same
:class:`Calls` with its own retry switched off (see hierarchy.py), so nothing retries behind it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from connectors.base import CollectContext, ConnectorError, require
from connectors.http import RETRYABLE_STATUSES, RetryPolicy, retry_after_header

T = TypeVar("T")
Timeout = tuple[float, float]  # (connect, read) seconds, as requests takes them

READ_ONLY_SCOPE = "https://www.googleapis.com/auth/cloud-platform.read-only"
FULL_SCOPE = "https://www.googleapis.com/auth/cloud-platform"

# Production hosts of the services called over plain REST; `api_endpoint` replaces all of them.
SERVICE_HOSTS = {
    "storage": "https://storage.googleapis.com",
    "iam": "https://iam.googleapis.com",
    "compute": "https://compute.googleapis.com",
    "sqladmin": "https://sqladmin.googleapis.com",
    "essentialcontacts": "https://essentialcontacts.googleapis.com",
}
# Storage and Compute still answer with the older error shape: errors[].reason instead of ErrorInfo.
_DISABLED_REASONS = frozenset({"SERVICE_DISABLED", "accessNotConfigured"})
# An error body may quote the request's bearer back (an access token or a self-signed JWT). These are
# minted at run time, so the engine's redaction (which knows configured and environment secrets) cannot
# know them: they are masked here, before any message leaves the connector.
# A JWT is matched from its header on, so one cut short by a message limit is masked too.
_BEARER = re.compile(r"ya29\.[\w.-]+|eyJ[\w-]+(?:\.[\w-]*){0,2}")
MAX_MESSAGE = 300


def scrub(text: str) -> str:
    return _BEARER.sub("***", text)


def first_line(text: str) -> str:
    """The first line of an error text, bearers masked *before* it is cut to length."""
    return scrub(text).split("\n", 1)[0][:MAX_MESSAGE]


class ApiError(Exception):
    """A Google API call that failed for good (after retries): an error status, a timeout, a dropped
    connection or a credential refresh that failed. ``status`` is 0 when no HTTP answer came."""

    def __init__(
        self,
        status: int,
        reason: str | None,
        message: str,
        service: str | None = None,
        *,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        message = scrub(message)
        super().__init__(f"{status} {reason or 'error'}: {message}" if status else f"{reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.service = service
        self.retry_after = retry_after
        self.retryable = status in RETRYABLE_STATUSES if retryable is None else retryable

    @property
    def service_disabled(self) -> bool:
        return self.status == 403 and self.reason in _DISABLED_REASONS


def parse_error(status: int, body: Any, retry_after: float | None = None) -> ApiError:
    """Google's error JSON: ErrorInfo in error.details (AIP-193) or the legacy error.errors[].reason."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ApiError(status, None, f"HTTP {status}", retry_after=retry_after)
    reason, service = None, None
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.ErrorInfo"):
            reason = detail.get("reason")
            service = (detail.get("metadata") or {}).get("service")
            break
    if reason is None:
        legacy = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
        reason = next((r for r in legacy if r), None) or error.get("status")
    message = first_line(str(error.get("message") or f"HTTP {status}"))
    return ApiError(status, reason, message, service, retry_after=retry_after)


def failure_types() -> tuple[type[BaseException], ...]:
    """What a request can raise without an HTTP answer: requests' errors (urllib3's are wrapped in
    them: timeouts, resets, a body cut off half-way) and google-auth's, from a token refresh."""
    requests = require("requests", "gcp")
    auth_exceptions = require("google.auth.exceptions", "gcp")
    return (requests.exceptions.RequestException, auth_exceptions.GoogleAuthError)


def transport_error(exc: BaseException, timeout: Timeout) -> ApiError:
    """One of :func:`failure_types` as an ApiError.

    Timeouts and dropped connections are retryable; a refresh the token endpoint refused is not
    (google-auth has already retried the token endpoint's own 5xx).
    """
    requests = require("requests", "gcp")
    auth_exceptions = require("google.auth.exceptions", "gcp")
    text = first_line(str(exc))
    if isinstance(exc, requests.exceptions.Timeout):
        connect, read = timeout
        return ApiError(0, "TIMEOUT", f"no answer within {connect:g}s (connect) / {read:g}s (read)", retryable=True)
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return ApiError(0, "CONNECTION_ERROR", text, retryable=True)
    if isinstance(exc, auth_exceptions.TransportError):
        return ApiError(0, "TOKEN_UNREACHABLE", text, retryable=True)
    if isinstance(exc, auth_exceptions.GoogleAuthError):
        return ApiError(0, "TOKEN_REFUSED", text, retryable=False)
    return ApiError(0, type(exc).__name__, text, retryable=False)


def _verdict(exc: BaseException) -> float | bool:
    """RetryPolicy's question: is this failure worth another attempt, after how long?"""
    if isinstance(exc, ApiError) and exc.retryable:
        return exc.retry_after if exc.retry_after is not None else True
    return False


class Calls:
    """Runs every API call under the shared retry policy, counting each attempt as an API call."""

    def __init__(
        self,
        policy: RetryPolicy,
        timeout: Timeout,
        context: CollectContext,
        sleep: Callable[[float], None],
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self._context = context
        self._sleep = sleep
        self._lock = threading.Lock()
        self.failures = failure_types()

    def count(self, n: int = 1) -> None:
        with self._lock:
            self._context.count_call(n)

    def run(self, attempt: Callable[[], T]) -> T:
        """``attempt()`` raises ApiError on failure; retried while the policy allows."""

        def counted() -> T:
            self.count()
            return attempt()

        return self.policy.call(counted, _verdict, sleep=self._sleep)


def load_credentials(calls: Calls) -> tuple[Any, Any]:
    """Application Default Credentials, read-only scoped, plus a cloud-platform-scoped twin.

    IAM v1 and Cloud SQL Admin v1 do not list the read-only scope; their calls fall back to the
    broad scope only when Google answers ACCESS_TOKEN_SCOPE_INSUFFICIENT. What the identity may do
    is still limited by its (viewer) roles, not by the scope. The read-only token is fetched once up
    front: credentials that cannot get a token stop the connector with one line, instead of failing
    every call of the run one by one.
    """
    google_auth = require("google.auth", "gcp")
    exceptions = require("google.auth.exceptions", "gcp")
    transport = require("google.auth.transport.requests", "gcp")
    try:
        credentials, _ = google_auth.default(scopes=[READ_ONLY_SCOPE])
        broad, _ = google_auth.default(scopes=[FULL_SCOPE])
    except exceptions.DefaultCredentialsError as exc:
        raise ConnectorError(f"gcp: no Application Default Credentials: {str(exc).splitlines()[0]}") from None
    # google-auth's own refresh passes no timeout (its default is 120 s): bound it with ours.
    token_request = transport.Request()
    answered: list[int] = []  # google-auth's RefreshError drops the HTTP status: keep it for the message

    def request(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", calls.timeout)
        response = token_request(*args, **kwargs)
        answered.append(int(response.status))
        return response

    def refresh() -> None:
        try:
            credentials.refresh(request)
        except calls.failures as exc:
            raise transport_error(exc, calls.timeout) from None

    try:
        calls.run(refresh)
    except ApiError as exc:
        status = f" (HTTP {answered[-1]})" if answered and answered[-1] >= 400 else ""
        raise ConnectorError(f"gcp: could not obtain an access token{status}: {exc}") from None
    return credentials, broad


class RestSession:
    """GET-only JSON calls through google-auth's AuthorizedSession, with retries and call counting."""

    def __init__(
        self, credentials: Any, broad_credentials: Any, calls: Calls, api_endpoint: str | None, pool: int
    ) -> None:
        self._transport = require("google.auth.transport.requests", "gcp")
        self._adapters = require("requests.adapters", "gcp")
        self._pool = pool
        self._session = self._new_session(credentials)
        self._broad_credentials = broad_credentials
        self._broad_session: Any = None
        self._broad_services: set[str] = set()  # services that answered ACCESS_TOKEN_SCOPE_INSUFFICIENT
        self._calls = calls
        self._endpoint = api_endpoint
        self._lock = threading.Lock()

    def _new_session(self, credentials: Any) -> Any:
        session = self._transport.AuthorizedSession(credentials)
        mount_pool(session, self._pool, self._adapters)
        return session

    def url(self, service: str, path: str) -> str:
        return (self._endpoint or SERVICE_HOSTS[service]) + path

    def _broad(self) -> Any:
        with self._lock:
            if self._broad_session is None:
                # One token, fetched here under the lock: otherwise every project thread that needs the
                # broad scope at the same moment would fetch its own.
                self._calls.run(self._refresh_broad)
                self._broad_session = self._new_session(self._broad_credentials)
            return self._broad_session

    def _refresh_broad(self) -> None:
        token_request = self._transport.Request()

        def request(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", self._calls.timeout)  # google-auth's own default is 120 s
            return token_request(*args, **kwargs)

        try:
            self._broad_credentials.refresh(request)
        except self._calls.failures as exc:
            raise transport_error(exc, self._calls.timeout) from None

    def get(self, service: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        if service in self._broad_services:  # it refused the read-only scope once: go straight to the broad one
            return self._calls.run(lambda: self._attempt(self._broad(), service, path, params))
        try:
            return self._calls.run(lambda: self._attempt(self._session, service, path, params))
        except ApiError as exc:
            if exc.status == 403 and exc.reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
                self._broad_services.add(service)
                return self._calls.run(lambda: self._attempt(self._broad(), service, path, params))
            raise

    def _attempt(self, session: Any, service: str, path: str, params: dict[str, Any] | None) -> dict[str, Any]:
        try:
            response = session.get(self.url(service, path), params=params, timeout=self._calls.timeout)
            content = response.content  # read here: a body cut off half-way is a transport error too
        except self._calls.failures as exc:
            raise transport_error(exc, self._calls.timeout) from None
        try:
            body = response.json() if content else {}
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise parse_error(response.status_code, body, retry_after_header(response.headers))
        if not isinstance(body, dict):  # never read an unparsable answer as an empty list
            raise ApiError(response.status_code, "INVALID_RESPONSE", f"GET {path}: the answer is not a JSON object")
        return body

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


def mount_pool(session: Any, size: int, adapters: Any) -> None:
    """Enough pooled connections for the worker threads (requests keeps 10 per host by default, and
    drops the rest with a warning)."""
    if size > 10:
        for prefix in ("https://", "http://"):
            session.mount(prefix, adapters.HTTPAdapter(pool_connections=10, pool_maxsize=size))
