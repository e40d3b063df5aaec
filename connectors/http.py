"""One retry policy for every connector: bounded attempts, exponential backoff with jitter, ``Retry-After``
as seconds or an HTTP date, and a deadline per call.

Each SDK has its own hook (PyGithub's requester, the okta request executor, azure-core's pipeline, a
``requests`` session for Google, botocore's config); each connector plugs this policy into that hook
so that a throttled or failing endpoint is treated the same everywhere: retried a bounded number of
times within a bounded time, then reported as an error for the facts it serves, never waited on for
minutes. The numbers are settings (``max_attempts``, ``retry_deadline_seconds``) on each connector.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

# 500 is retried too: providers answer it for transient faults, and a persistent one still ends
# within the deadline. 501 (not implemented) and 4xx other than 408/429 are answers, not faults.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class RetrySettings(BaseModel):
    """The knobs of :class:`RetryPolicy`, embedded in connector settings as ``retry:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=5, ge=1, le=20)  # tries per call, the first included
    initial_backoff_seconds: float = Field(default=0.5, ge=0)
    max_backoff_seconds: float = Field(default=20.0, ge=0)
    deadline_seconds: float = Field(default=60.0, gt=0)  # a call never retries past this
    max_retry_after_seconds: float = Field(default=60.0, ge=0)  # a longer Retry-After ends the call

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.max_attempts,
            initial_delay=self.initial_backoff_seconds,
            max_delay=self.max_backoff_seconds,
            deadline=self.deadline_seconds,
            max_retry_after=self.max_retry_after_seconds,
        )


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 20.0
    deadline: float = 60.0
    max_retry_after: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for retry number ``attempt`` (0-based)."""
        base = min(self.max_delay, self.initial_delay * (2**attempt))
        return base * (0.5 + random.random() / 2)  # jitter so concurrent workers do not retry in step

    def wait_before_retry(self, attempt: int, retry_after: float | None, elapsed: float) -> float | None:
        """Seconds to sleep before the next try, or None when the call must give up now.

        Gives up when the attempts are spent, when the server asks for a longer pause than
        ``max_retry_after``, or when the pause would end past the per-call deadline.
        """
        if attempt + 1 >= self.attempts:
            return None
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        delay = max(self.backoff(attempt), retry_after or 0.0)
        if elapsed + delay > self.deadline:
            return None
        return delay

    def call(
        self,
        fn: Callable[[], T],
        retry_after_of: Callable[[BaseException], float | bool | None],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> T:
        """``fn()`` with retries. ``retry_after_of(exc)`` says whether ``exc`` is retryable: ``False``
        means no, ``True`` or ``None`` means yes with backoff, a number means yes after that many seconds."""
        start = clock()
        attempt = 0
        while True:
            try:
                return fn()
            except Exception as exc:
                verdict = retry_after_of(exc)
                if verdict is False:
                    raise
                retry_after = None if verdict is True or verdict is None else float(verdict)
                wait = self.wait_before_retry(attempt, retry_after, clock() - start)
                if wait is None:
                    raise
                sleep(wait)
                attempt += 1

    async def call_async(
        self,
        fn: Callable[[], Awaitable[T]],
        retry_after_of: Callable[[BaseException], float | bool | None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> T:
        start = clock()
        attempt = 0
        while True:
            try:
                return await fn()
            except Exception as exc:
                verdict = retry_after_of(exc)
                if verdict is False:
                    raise
                retry_after = None if verdict is True or verdict is None else float(verdict)
                wait = self.wait_before_retry(attempt, retry_after, clock() - start)
                if wait is None:
                    raise
                await asyncio.sleep(wait)
                attempt += 1


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_after_header(headers: Mapping[str, Any] | None, now: datetime | None = None) -> float | None:
    """The ``Retry-After`` of a response's headers (any capitalisation)."""
    if not headers:
        return None
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            return retry_after_seconds(value, now)
    return None
