"""Okta SDK set-up and a small read-only request layer over the SDK's own request executor.

Every request goes through ``okta.client.Client``'s request executor and HTTP client (its
authentication: SSWS token or OAuth private-key JWT, its aiohttp session), but evidence is read as
raw JSON rather than through the generated pydantic models: the models reject unknown enum values
for a whole page and drop the raw field names the checks rely on. The SDK's own retry loop is
switched off (it crashes on a 429 without rate-limit headers, never retries a 500 and cannot be
counted); this layer retries through the shared policy of connectors/http.py instead (bounded attempts
and a per-call deadline; a 429 waits for ``X-Rate-Limit-Reset``, others honour ``Retry-After``), paces
itself from ``X-Rate-Limit-Remaining``/``X-Rate-Limit-Reset`` before Okta refuses, and reports every
HTTP request to ``context.count_call``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from connectors.base import CollectContext, ConnectorError, require
from connectors.http import RETRYABLE_STATUSES, RetryPolicy, retry_after_header

from .settings import OktaSettings

# The SDK refuses http:// org URLs unless this variable is set; it has no constructor switch that works.
HTTPS_CHECK_ENV = "OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"
_ENV_LOCK = threading.Lock()
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
# Path segments that are object ids, so that /users/00u1/factors and /users/00u2/factors share one bucket.
_ID_SEGMENT = re.compile(r"/(00|0o|0p|0a|aut|pol|rul)[A-Za-z0-9]{6,}")


class OktaApiError(Exception):
    """An Okta answer that is not a success, or a request that could not be made."""

    def __init__(
        self,
        status: int | None,
        reason: str,
        code: str | None = None,
        *,
        retry_after: float | None = None,
        transient: bool = True,
        token: bool = False,
        path: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason
        self.retry_after = retry_after  # seconds the server asked to wait before a retry
        self.transient = transient  # False: retrying cannot help (a malformed answer)
        self.token = token  # the OAuth token request failed: no API request can succeed
        self.path = path  # the request path, when the error answers one request

    @property
    def endpoint(self) -> str:
        """The request path with object ids replaced by ``{id}``: one endpoint for all users' factors."""
        return endpoint_of(self.path) if self.path else ""

    @property
    def detail(self) -> str:
        """The reason without the request, for grouping the same failure of many items."""
        _, sep, rest = self.reason.partition(": ")
        return rest if sep else self.reason


def endpoint_of(path: str) -> str:
    return _ID_SEGMENT.sub("/{id}", path)


def build_client(settings: OktaSettings) -> Any:
    """An ``okta.client.Client`` for the configured org, with the SDK's retries and cache off."""
    okta_client = require("okta.client", "okta")
    config: dict[str, Any] = {
        "orgUrl": settings.org_url,
        "rateLimit": {"maxRetries": 0},
        # The SDK hands this to aiohttp.ClientTimeout(total=...), which takes fractions of a second; the
        # HTTP client below adds the connect timeout, which the SDK has no setting for.
        "requestTimeout": settings.request_timeout,
        "httpClient": _timed_http_client(settings.request_timeout, settings.connect_timeout),
        "cache": {"enabled": False},
        "logging": {"enabled": False},
    }
    if settings.token is not None:
        config.update(authorizationMode="SSWS", token=settings.token.get_secret_value())
    else:
        assert settings.private_key_env is not None
        private_key = os.environ.get(settings.private_key_env)
        if not private_key:
            raise ConnectorError(
                f"okta: environment variable {settings.private_key_env} (OAuth service app private key) is not set"
            )
        config.update(
            authorizationMode="PrivateKey",
            clientId=settings.client_id,
            scopes=list(settings.scopes),
            privateKey=private_key,
        )
        if settings.key_id:
            config["kid"] = settings.key_id
    if not settings.is_loopback:
        return _construct(okta_client, config)
    # Loopback test servers speak plain http; the switch is process-wide, so it is set only while
    # this client is being validated and restored right after.
    with _ENV_LOCK:
        before = os.environ.get(HTTPS_CHECK_ENV)
        os.environ[HTTPS_CHECK_ENV] = "true"
        try:
            return _construct(okta_client, config)
        finally:
            if before is None:
                os.environ.pop(HTTPS_CHECK_ENV, None)
            else:
                os.environ[HTTPS_CHECK_ENV] = before


def _timed_http_client(total: float, connect: float) -> type:
    """The SDK's HTTP client (its documented extension point) with a connect timeout as well."""
    http_client = require("okta.http_client", "okta")
    aiohttp = require("aiohttp", "okta")
    timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect)

    class TimedHTTPClient(http_client.HTTPClient):  # type: ignore[name-defined]
        def __init__(self, http_config: dict[str, Any]) -> None:
            super().__init__(http_config)
            self._timeout = timeout

    return TimedHTTPClient


def _construct(okta_client: Any, config: dict[str, Any]) -> Any:
    try:
        return okta_client.Client(config)
    except ValueError as exc:  # the SDK's config validator; its text never contains the token
        first = next((line for line in str(exc).splitlines() if line.strip() and line != "Errors:"), str(exc))
        raise ConnectorError(f"okta: invalid client configuration: {first.strip()}") from None


@dataclass
class RateGate:
    """What Okta last said about one rate-limit bucket."""

    remaining: int | None = None
    resets_at: float = 0.0  # time.monotonic() when the bucket refills


@dataclass
class Api:
    """Read-only GETs with strict pagination, pacing and the shared retry policy. Raises OktaApiError.

    Every call (one resource or one page) is bounded twice: by the policy's attempts and by its
    deadline, which also cuts short a try still waiting for an answer. Each try is bounded by
    ``request_timeout`` and ``connect_timeout`` in the HTTP client itself.
    """

    client: Any
    context: CollectContext
    settings: OktaSettings
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    requests_sent: int = 0
    retries: int = 0
    slowdowns: int = 0
    gates: dict[str, RateGate] = field(default_factory=dict)
    policy: RetryPolicy = field(init=False)

    def __post_init__(self) -> None:
        self.policy = self.settings.retry_policy

    async def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """One resource or page: (parsed JSON body, response headers)."""
        url = path + ("?" + urlencode(params) if params else "")
        bucket = endpoint_of(path)
        start = time.monotonic()
        tries = 0

        async def attempt() -> tuple[Any, Any]:
            nonlocal tries
            if tries:
                self.retries += 1
            tries += 1
            await self._pace(bucket)
            left = self.policy.deadline - (time.monotonic() - start)
            if left <= 0:
                reason = f"GET {path}: no answer within the {self.policy.deadline:g} s deadline"
                raise OktaApiError(None, reason, transient=False, path=path)
            try:
                async with asyncio.timeout(left):
                    response, body, error = await self._send(url)
            except TimeoutError:
                reason = f"GET {path}: no answer within the {self.policy.deadline:g} s deadline"
                raise OktaApiError(None, reason, transient=False, path=path) from None
            status = getattr(response, "status", None)
            if response is not None:
                self._observe(bucket, response.headers)
            if status is not None and 200 <= status < 300 and error is None:
                return _parse_json(path, status, body), response.headers
            raise _api_error(path, status, body, error, response)

        try:
            return await self.policy.call_async(attempt, _retry_after)
        except OktaApiError as exc:
            if tries > 1:
                exc.reason += f" (still failing after {tries - 1} {'retry' if tries == 2 else 'retries'})"
                exc.args = (exc.reason,)
            raise

    async def get_all(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Every page of a list, following ``rel="next"`` Link headers by their ``after`` cursor.

        An error on any page raises: a partial list is never returned as if it were complete.
        """
        query = dict(params or {})
        items: list[Any] = []
        after: str | None = None
        while True:
            page_query = {**query, "after": after} if after else query
            body, headers = await self.get(path, page_query)
            if not isinstance(body, list):
                reason = f"GET {path}: expected a JSON list, got {type(body).__name__}"
                raise OktaApiError(None, reason, transient=False, path=path)
            items.extend(body)
            next_after = next_cursor(headers.getall("Link", []))
            # The System Log keeps offering rel="next" for polling; an empty page ends the read.
            if not next_after or not body:
                return items
            if next_after == after:
                reason = f"GET {path}: the next-page cursor did not advance"
                raise OktaApiError(None, reason, transient=False, path=path)
            after = next_after

    async def _send(self, url: str) -> tuple[Any, Any, Any]:
        executor = self.client.get_request_executor()
        self.requests_sent += 1
        self.context.count_call()
        try:
            request, error = await executor.create_request("GET", url)
            if error is not None:  # the OAuth token request failed
                return None, None, _TokenFailure(error)
            return await executor.execute(request)
        except (AttributeError, TypeError, KeyError, ValueError, SyntaxError) as exc:
            # SDK internals that crash instead of answering (a malformed key parsed by literal_eval raises
            # SyntaxError) are recorded, never allowed to stop the run.
            return None, None, exc

    async def _pace(self, bucket: str) -> None:
        """Wait for the bucket to refill when few requests are left, instead of running into a 429."""
        gate = self.gates.get(bucket)
        if gate is None or gate.remaining is None:
            return
        now = time.monotonic()
        if gate.remaining <= self.settings.rate_limit_reserve and now < gate.resets_at:
            self.slowdowns += 1
            await self.sleep(min(gate.resets_at - now, self.settings.max_rate_limit_wait))
            gate.remaining = None  # unknown until the next answer; requests in flight may refill it
            return
        gate.remaining -= 1  # reserve one for this request: concurrent callers must not all see the same count

    def _observe(self, bucket: str, headers: Any) -> None:
        remaining = _min_header(headers, "X-Rate-Limit-Remaining")
        reset = _min_header(headers, "X-Rate-Limit-Reset")
        if remaining is None or reset is None:
            return
        wait = max(0.0, reset - _server_now(headers))
        self.gates[bucket] = RateGate(int(remaining), time.monotonic() + wait)


@dataclass(frozen=True)
class _TokenFailure:
    """The SDK's error for a failed OAuth token request, kept apart from the API's own answers."""

    error: Any


def _retry_after(exc: BaseException) -> float | bool:
    """The retry verdict for RetryPolicy: False (give up), True (back off), or seconds to wait."""
    if not isinstance(exc, OktaApiError) or not exc.transient:
        return False
    if exc.status is None:
        return True  # no answer (timeout, connection reset): worth another try within the bounds
    if exc.status not in RETRYABLE_STATUSES:
        return False
    return exc.retry_after if exc.retry_after is not None else True


def _wait_named_by(status: int, headers: Any) -> float | None:
    """Seconds the server asks to wait: X-Rate-Limit-Reset on a 429 (Okta sends it on every answer, but
    only a 429 means the bucket is empty), else Retry-After."""
    if headers is None:
        return None
    if status == 429:
        reset = _min_header(headers, "X-Rate-Limit-Reset")
        if reset is not None:
            now = _server_now(headers)
            # Reset has one-second resolution: one more second avoids a second refusal at the boundary.
            return max(0.0, reset - now + 1.0) if reset >= now else 0.0
    return retry_after_header(headers)


def next_cursor(link_headers: list[str]) -> str | None:
    """The ``after`` cursor of the ``rel="next"`` link, or None on the last page."""
    for header in link_headers:
        for match in _NEXT_LINK.finditer(header):
            values = parse_qs(urlsplit(match.group(1)).query).get("after")
            if not values:
                raise OktaApiError(None, f"next link without an after cursor: {match.group(1)}")
            return values[0]
    return None


def _parse_json(path: str, status: int, body: Any) -> Any:
    if body in (None, ""):
        return None
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        reason = f"GET {path}: HTTP {status} answer is not JSON"
        raise OktaApiError(status, reason, transient=False, path=path) from None


def _api_error(path: str, status: int | None, body: Any, error: Any, response: Any) -> OktaApiError:
    token = isinstance(error, _TokenFailure)
    request = f"GET {path}"
    if token:
        request, error = "POST /oauth2/v1/token", error.error
    code = summary = None
    try:
        parsed = json.loads(body) if isinstance(body, str) and body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        code = parsed.get("errorCode") or parsed.get("error")
        summary = parsed.get("errorSummary") or parsed.get("error_description") or parsed.get("message")
    if status is None:
        status = getattr(error, "status", None)
        code = code or getattr(error, "error_code", None)
        summary = summary or getattr(error, "error_summary", None)
    if status is None:
        detail = _describe(error) if error is not None else "no response"
        return OktaApiError(None, f"{request}: request failed ({detail})", token=token, path=path)
    text = f"{request}: HTTP {status}" + (f" {code}" if code else "") + (f": {_scrub(summary)}" if summary else "")
    headers = getattr(response, "headers", None) or getattr(error, "headers", None)
    return OktaApiError(status, text, code, retry_after=_wait_named_by(status, headers), token=token, path=path)


def _describe(error: Any) -> str:
    """A failed request in one line: timeouts carry no text of their own."""
    if isinstance(error, TimeoutError):
        return "TimeoutError: no answer within request_timeout"
    text = str(error).strip()
    return f"{type(error).__name__}: {_scrub(text)}" if text else type(error).__name__


# Okta error bodies sometimes quote the request's Authorization header back; never keep a credential.
_CREDENTIAL = re.compile(r"\b(SSWS|Bearer|DPoP)\s+[A-Za-z0-9._~+/=-]{6,}")


def _scrub(text: str) -> str:
    return _CREDENTIAL.sub(lambda m: f"{m.group(1)} ***", str(text))


def _min_header(headers: Any, name: str) -> float | None:
    values = []
    for raw in headers.getall(name, []):
        try:
            values.append(float(raw))
        except ValueError:
            continue
    return min(values) if values else None


def _server_now(headers: Any) -> float:
    """The server's clock (Date header), since X-Rate-Limit-Reset is in the server's epoch seconds."""
    date = headers.get("Date")
    if date:
        try:
            return parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            pass
    return time.time()
