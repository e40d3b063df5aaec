"""Okta SDK set-up and a small read-only request layer over the SDK's own request executor.

Every request goes through ``okta.client.Client``'s request executor and HTTP client (its
authentication: SSWS token or OAuth private-key JWT, its aiohttp session), but evidence is read as
raw JSON rather than through the generated pydantic models: the models reject unknown enum values
for a whole page and drop the raw field names the checks rely on. The SDK's own retry loop is
switched off (it crashes on a 429 without rate-limit headers and cannot be counted); this layer
retries instead, paces itself from ``X-Rate-Limit-Remaining``/``X-Rate-Limit-Reset`` before Okta
refuses, and reports every HTTP request to ``context.count_call``.
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

from .settings import OktaSettings

# The SDK refuses http:// org URLs unless this variable is set; it has no constructor switch that works.
HTTPS_CHECK_ENV = "OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"
_ENV_LOCK = threading.Lock()
RETRYABLE = frozenset({429, 503, 504})
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
# Path segments that are object ids, so that /users/00u1/factors and /users/00u2/factors share one bucket.
_ID_SEGMENT = re.compile(r"/(00|0o|0p|0a|aut|pol|rul)[A-Za-z0-9]{6,}")


class OktaApiError(Exception):
    """An Okta answer that is not a success, or a request that could not be made."""

    def __init__(self, status: int | None, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason


def build_client(settings: OktaSettings) -> Any:
    """An ``okta.client.Client`` for the configured org, with the SDK's retries and cache off."""
    okta_client = require("okta.client", "okta")
    config: dict[str, Any] = {
        "orgUrl": settings.org_url,
        "rateLimit": {"maxRetries": 0},
        "requestTimeout": int(settings.request_timeout),
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
    """Read-only GETs with strict pagination, pacing and retries. Raises OktaApiError."""

    client: Any
    context: CollectContext
    settings: OktaSettings
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    requests_sent: int = 0
    retries: int = 0
    slowdowns: int = 0
    gates: dict[str, RateGate] = field(default_factory=dict)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """One resource or page: (parsed JSON body, response headers)."""
        url = path + ("?" + urlencode(params) if params else "")
        bucket = _ID_SEGMENT.sub("/{id}", path)
        attempt = 0
        while True:
            await self._pace(bucket)
            response, body, error = await self._send(url)
            status = getattr(response, "status", None)
            if response is not None:
                self._observe(bucket, response.headers)
            if status is not None and 200 <= status < 300 and error is None:
                return _parse_json(path, status, body), response.headers
            if status in RETRYABLE and attempt < self.settings.max_retries:
                attempt += 1
                self.retries += 1
                await self.sleep(self._retry_wait(response.headers, attempt))
                continue
            raise _api_error(path, status, body, error, attempt)

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
                raise OktaApiError(None, f"{path}: expected a JSON list, got {type(body).__name__}")
            items.extend(body)
            next_after = next_cursor(headers.getall("Link", []))
            # The System Log keeps offering rel="next" for polling; an empty page ends the read.
            if not next_after or not body:
                return items
            if next_after == after:
                raise OktaApiError(None, f"{path}: the next-page cursor did not advance")
            after = next_after

    async def _send(self, url: str) -> tuple[Any, Any, Any]:
        executor = self.client.get_request_executor()
        self.requests_sent += 1
        self.context.count_call()
        try:
            request, error = await executor.create_request("GET", url)
            if error is not None:  # OAuth token request refused
                return None, None, error
            return await executor.execute(request)
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            # SDK internals that crash instead of answering are recorded, never allowed to stop the run.
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

    def _retry_wait(self, headers: Any, attempt: int) -> float:
        reset = _min_header(headers, "X-Rate-Limit-Reset")
        if reset is not None:
            # Reset has one-second resolution: one more second avoids a second refusal at the boundary.
            wait = max(0.0, reset - _server_now(headers) + 1.0) if reset >= _server_now(headers) else 0.0
        else:
            wait = self.settings.retry_backoff * (2 ** (attempt - 1))
        return min(wait, self.settings.max_rate_limit_wait)


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
        raise OktaApiError(status, f"{path}: HTTP {status} answer is not JSON") from None


def _api_error(path: str, status: int | None, body: Any, error: Any, attempts: int) -> OktaApiError:
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
    if status is None:
        detail = f"{type(error).__name__}: {error}" if error is not None else "no response"
        return OktaApiError(None, f"{path}: request failed ({detail})")
    text = f"{path}: HTTP {status}" + (f" {code}" if code else "") + (f": {summary}" if summary else "")
    if status in RETRYABLE and attempts:
        text += f" (still refused after {attempts} retries)"
    return OktaApiError(status, text, code)


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
