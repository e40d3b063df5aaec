"""One shared botocore session, a cache of clients per (account, service, region), and error helpers.

Clients are created under a lock (botocore sessions are not thread-safe) and shared afterwards
(clients are). Every HTTP attempt, retries included, is reported to ``context.count_call``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from connectors.base import CollectContext

from .settings import AwsSettings

# Page sizes per operation name (e.g. {"list_accounts": 2}); empty means each service's default.
# Tests lower them to cross page boundaries; production leaves AWS's defaults.
PAGE_SIZES: dict[str, int] = {}


@dataclass(frozen=True)
class Account:
    """One account in scope and the credentials that reach it (None: the base credential chain)."""

    account_id: str
    partition: str
    credentials: Mapping[str, str] | None = None


class AwsCallError(Exception):
    """An AWS error already formatted as ``<code> <message>`` (no secrets: AWS never echoes them)."""


def error_text(exc: BaseException) -> str:
    """``<code> <message>`` for a ClientError, else the exception class and text."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        code = err.get("Code") or str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?"))
        message = (err.get("Message") or "").strip().splitlines()
        first = message[0] if message else ""
        if first.startswith("<"):  # an HTML error page from a proxy or an endpoint without the service
            first = "(the endpoint answered with an HTML error page)"
        return f"{code} {first}".strip()
    if type(exc).__name__ == "ResponseParserError":  # its text repeats the raw body
        return "ResponseParserError the answer is not an AWS response (does the endpoint implement this call?)"
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__} {lines[0] if lines else ''}".strip()


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def plain(value: Any) -> Any:
    """A JSON-serialisable copy of an SDK response: datetimes as ISO-8601 Z, no ResponseMetadata."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def strip_account_host(request: Any, **_: Any) -> None:
    """S3 Control prefixes the account id to the host; a custom endpoint has no such subdomain."""
    parts = urlsplit(request.url)
    host = parts.hostname or ""
    label = host.split(".", 1)[0]
    if label.isdigit() and len(label) == 12 and "." in host:
        request.url = urlunsplit(parts._replace(netloc=parts.netloc.split(".", 1)[1]))


class ClientFactory:
    """Creates and caches boto3 clients on one botocore session; counts every HTTP attempt."""

    def __init__(self, boto3: Any, settings: AwsSettings, context: CollectContext, pool_size: int) -> None:
        botocore_session = require_botocore_session()
        if settings.profile:
            botocore_session.set_config_variable("profile", settings.profile)
        self.session = boto3.session.Session(botocore_session=botocore_session)
        from botocore.config import Config

        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.read_timeout_seconds,
            max_pool_connections=max(10, pool_size),
            user_agent_extra="annexa",
        )
        self._endpoint = settings.endpoint_url
        self._context = context
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, str], Any] = {}
        self.home_region = self.session.region_name or "us-east-1"

    @property
    def endpoint_overridden(self) -> bool:
        return bool(
            self._endpoint or os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3_CONTROL")
        )

    def client(self, account: Account | None, service: str, region: str | None = None) -> Any:
        region = region or self.home_region
        key = (account.account_id if account and account.credentials else "", service, region)
        with self._lock:
            cached = self._clients.get(key)
            if cached is not None:
                return cached
            creds = dict(account.credentials) if account and account.credentials else {}
            client = self.session.client(
                service,
                region_name=region,
                endpoint_url=self._endpoint,
                config=self._config,
                aws_access_key_id=creds.get("AccessKeyId"),
                aws_secret_access_key=creds.get("SecretAccessKey"),
                aws_session_token=creds.get("SessionToken"),
            )
            client.meta.events.register("before-send", self._count)
            if service == "s3control" and self.endpoint_overridden:
                client.meta.events.register("before-sign.s3-control.*", strip_account_host)
            self._clients[key] = client
            return client

    def _count(self, **_: Any) -> None:
        with self._lock:
            self._context.count_call()


def aws_exceptions() -> tuple[type[BaseException], ...]:
    """What an AWS call raises for a service answer or a transport failure (retries exhausted).

    ResponseParserError is an answer botocore could not parse (e.g. a bare "Not Found" body from a
    server that lacks the endpoint); it is not a BotoCoreError, so it is named here.
    """
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    return (ClientError, BotoCoreError, ResponseParserError)


_LOADER: Any = None  # botocore's model loader, shared by every run of the process


def require_botocore_session() -> Any:
    """A fresh botocore session (its own credentials and config) on the process's shared model loader.

    A new loader re-reads and re-parses each service's JSON model (tens of milliseconds per client);
    the models never change within a process, so an agent's later runs and a run's member accounts
    reuse what the first client loaded."""
    global _LOADER
    from botocore.session import get_session

    session = get_session()
    if _LOADER is None:
        _LOADER = session.get_component("data_loader")
    else:
        session.register_component("data_loader", _LOADER)
    return session


def pages(client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a paginated operation; an error on any page propagates."""
    config = {"PageSize": PAGE_SIZES[operation]} if operation in PAGE_SIZES else {}
    yield from client.get_paginator(operation).paginate(PaginationConfig=config, **kwargs)


def paginate(client: Any, operation: str, result_key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item of a paginated list (all pages); an error on any page propagates, never a short list."""
    for page in pages(client, operation, **kwargs):
        yield from page.get(result_key) or []
