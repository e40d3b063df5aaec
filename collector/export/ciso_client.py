"""A small client for CISO Assistant's REST API (Django REST Framework under ``/api/``).

What it handles, from the API's documented and observed behaviour (docs/ciso-assistant.md):

- ``Authorization: Token <personal access token>``; 401 means the token is wrong or expired.
- List endpoints paginate with limit/offset and a ``next`` link, which the server gives as a path
  (``/api/folders/?limit=…&offset=…``), not a URL: it is resolved against the configured origin.
- 429 and 5xx are retried with backoff, honouring ``Retry-After``; a timeout is retried the same way.
- A 403 on an object in a folder created a moment ago is the server's permission cache catching up
  under several workers: 403s are retried for a short grace period before they count as a denial.
- Uploads send the raw bytes with ``Content-Disposition: attachment; filename="…"``.

The token is sent, never printed: every message names the method, the path and the status only.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from connectors.http import RETRYABLE_STATUSES, RetryPolicy, retry_after_header

FORBIDDEN_GRACE_SECONDS = 3.0  # how long a 403 may be the permission cache lagging behind a new folder
_MAX_PAGES = 10_000  # a `next` loop that never ends is the server's fault, not a reason to spin forever


class PushError(Exception):
    """The push cannot go on: one line saying what CISO Assistant answered and what to do."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Retryable(Exception):
    status: int | None
    detail: str
    retry_after: float | None = None


@dataclass
class CisoClient:
    url: str  # the instance's base URL, without a trailing slash
    token: str = field(repr=False)
    timeout: float = 30.0
    verify_tls: bool = True
    ca_bundle: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    calls: int = 0
    writes: int = 0

    def __post_init__(self) -> None:
        context = ssl.create_default_context(cafile=self.ca_bundle)
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
        parts = urlsplit(self.url)
        self._origin = f"{parts.scheme}://{parts.netloc}"

    # -- the verbs ---------------------------------------------------------------------------------

    def list(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every object of a list endpoint, following ``next`` across pages."""
        target: str | None = self._api(path) + (f"?{urlencode(params)}" if params else "")
        pages = 0
        while target is not None:
            page = self._request("GET", target)
            if isinstance(page, list):  # an endpoint without pagination answers the bare list
                yield from page
                return
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise PushError(f"CISO Assistant answered GET {_path(target)} with something that is not a list")
            yield from page["results"]
            pages += 1
            following = page.get("next")
            if not following or pages >= _MAX_PAGES:
                return
            target = urljoin(self._origin + "/", str(following))

    def get(self, path: str) -> Any:
        return self._request("GET", self._api(path))

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return self._request("POST", self._api(path), body)

    def patch(self, path: str, body: Mapping[str, Any]) -> Any:
        return self._request("PATCH", self._api(path), body)

    def upload(self, path: str, filename: str, data: bytes) -> Any:
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
        return self._request("POST", self._api(path), data, headers=headers)

    # -- one request, retried --------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return f"{self.url}/api/{path.lstrip('/')}"

    def _request(
        self, method: str, url: str, body: Mapping[str, Any] | bytes | None = None, headers: Mapping[str, str] = {}
    ) -> Any:
        start = time.monotonic()
        attempt = 0
        while True:
            try:
                return self._once(method, url, body, headers)
            except _Retryable as fault:
                elapsed = time.monotonic() - start
                if fault.status == 403:
                    wait = min(0.25 * (2**attempt), 1.0) if elapsed < FORBIDDEN_GRACE_SECONDS else None
                else:
                    wait = self.retry.wait_before_retry(attempt, fault.retry_after, elapsed)
                if wait is None:
                    raise PushError(self._explain(method, url, fault), fault.status) from None
                self.sleep(wait)
                attempt += 1

    def _once(self, method: str, url: str, body: Mapping[str, Any] | bytes | None, headers: Mapping[str, str]) -> Any:
        data: bytes | None
        if isinstance(body, bytes):
            data = body
        elif body is not None:
            data = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **headers}
        else:
            data = None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Token {self.token}")
        request.add_header("Accept", "application/json")
        for key, value in headers.items():
            request.add_header(key, value)
        self.calls += 1
        if method != "GET":
            self.writes += 1
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            text = _detail(exc.read())
            if exc.code == 403 or exc.code in RETRYABLE_STATUSES:
                raise _Retryable(exc.code, text, retry_after_header(dict(exc.headers))) from None
            raise PushError(self._explain(method, url, _Retryable(exc.code, text)), exc.code) from None
        except TimeoutError:
            raise _Retryable(None, f"no answer within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise _Retryable(None, f"no answer within {self.timeout:g} s") from None
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise PushError(
                    f"CISO Assistant at {self._origin}: TLS certificate not trusted ({reason.verify_message}); "
                    "set exports.ciso_assistant.ca_bundle to your CA's PEM file"
                ) from None
            raise _Retryable(None, f"cannot connect: {reason}") from None
        except (ConnectionError, OSError) as exc:
            raise _Retryable(None, f"connection failed: {exc.__class__.__name__}") from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def _explain(self, method: str, url: str, fault: _Retryable) -> str:
        where = f"CISO Assistant ({self._origin}) {method} {_path(url)}"
        detail = f": {fault.detail}" if fault.detail else ""
        if fault.status is None:
            return f"{where}: {fault.detail}; gave up after retrying (exports.ciso_assistant.retry)"
        if fault.status == 401:
            return f"{where}: 401 the token was refused{detail}; check exports.ciso_assistant.token (expired?)"
        if fault.status == 403:
            return (
                f"{where}: 403 permission denied{detail}; the token's user needs to read and write folders, "
                "perimeters, compliance assessments and evidence (docs/ciso-assistant.md)"
            )
        if fault.status == 404:
            return f"{where}: 404 not found{detail}"
        if fault.status in RETRYABLE_STATUSES:
            return f"{where}: {fault.status}{detail}; gave up after retrying (exports.ciso_assistant.retry)"
        return f"{where}: {fault.status}{detail}"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _detail(raw: bytes) -> str:
    """The server's own words, short: DRF answers ``{"detail": …}`` or ``{"field": ["…"]}``."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace").strip()[:200]
    if isinstance(value, dict):
        if "detail" in value:
            return str(value["detail"])[:200]
        return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in value.items())[:300]
    return str(value)[:200]
