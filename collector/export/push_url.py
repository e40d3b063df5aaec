"""Where Annexa may send evidence: https anywhere, plain http only to this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_push_url(value: str) -> str:
    """The URL without a trailing slash; a ValueError naming the problem otherwise.

    The token travels with every request, so plain http is refused unless the server is on this
    machine (a local test instance, or a TLS-terminating sidecar on loopback)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL such as https://ciso.example.com")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"plain http to {parts.hostname} would send the token unencrypted: use https (http is accepted "
            "only for localhost / 127.0.0.1 / ::1)"
        )
    if parts.query or parts.fragment:
        raise ValueError("give the instance's base URL, without a query or fragment")
    return value.strip().rstrip("/")
