"""Small helpers turning GitHub answers into evidence facts."""

from __future__ import annotations

from typing import Any

# Hypermedia links (``hooks_url``, ``git_refs_url``...) are navigation, not facts; they would make up most
# of every stored repository. ``html_url`` is kept because auditors follow it.
_KEEP_URLS = frozenset({"html_url"})


def without_hypermedia(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: without_hypermedia(item)
            for key, item in value.items()
            if key in _KEEP_URLS or not (key == "url" or key.endswith("_url"))
        }
    if isinstance(value, list):
        return [without_hypermedia(item) for item in value]
    return value


def error_reason(exc: BaseException) -> str:
    """A short secret-free reason: HTTP status and GitHub's message, or the exception type."""
    status = getattr(exc, "status", None)
    data = getattr(exc, "data", None)
    message = data.get("message") if isinstance(data, dict) else None
    if status is not None:
        return f"HTTP {status}: {message}" if message else f"HTTP {status}"
    # requests' RetryError wraps urllib3's MaxRetryError, whose reason names the last status.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return f"{type(exc).__name__}: {reason}" if reason is not None else type(exc).__name__


def message_of(exc: BaseException) -> str:
    data = getattr(exc, "data", None)
    return str(data.get("message") or "") if isinstance(data, dict) else ""


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None
