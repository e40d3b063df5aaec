"""HTTP access to ARM and Microsoft Graph: azure-identity credential + azure-core pipelines.

Only GET requests are sent (the credential's token POST aside). Every list follows ``nextLink`` /
``@odata.nextLink`` to the end; a failure on any page raises :class:`AzureApiError`, so a caller
never mistakes a partial list for a complete one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from connectors.base import require

from .settings import AzureSettings

USER_AGENT = "annexa-azure/0.1"


class AzureApiError(Exception):
    """A request that failed for good (after retries): status, service error code and message."""

    def __init__(self, status: int | None, code: str, message: str) -> None:
        self.status = status
        self.code = code
        super().__init__(f"{status or 'network'} {code}: {message}".strip())

    @property
    def not_found(self) -> bool:
        return self.status == 404


class TenantCredential:
    """Asks the wrapped credential for tokens of the configured tenant (azure-core token protocol)."""

    def __init__(self, inner: Any, tenant_id: str) -> None:
        self._inner = inner
        self._tenant_id = tenant_id

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        kwargs.setdefault("tenant_id", self._tenant_id)
        return self._inner.get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, options: dict[str, Any] | None = None) -> Any:
        merged: dict[str, Any] = {"tenant_id": self._tenant_id, **(options or {})}
        return self._inner.get_token_info(*scopes, options=merged)

    def close(self) -> None:
        self._inner.close()


def pipeline_options(settings: AzureSettings) -> dict[str, Any]:
    """azure-core transport and retry keywords from the settings, shared by the credential and the APIs.

    azure-core's RetryPolicy already retries 408/429/500/502/503/504 and honours Retry-After; only its
    numbers come from the shared policy, so Azure gives up when the other connectors would."""
    retry = settings.retry
    return {
        "connection_timeout": settings.connect_timeout_seconds,
        "read_timeout": settings.read_timeout_seconds,
        "retry_total": retry.max_attempts - 1,
        "retry_backoff_factor": retry.initial_backoff_seconds,
        "retry_backoff_max": retry.max_backoff_seconds,
        "timeout": retry.deadline_seconds,
    }


def _retry_policy(policies: Any, settings: AzureSettings) -> Any:
    """azure-core's RetryPolicy that gives up, instead of sleeping, when Retry-After asks for longer than
    ``retry.max_retry_after_seconds`` (an hour-long Retry-After would otherwise stall the run for an hour)."""
    limit = settings.retry.max_retry_after_seconds
    options = pipeline_options(settings)

    class BoundedRetryPolicy(policies.RetryPolicy):
        def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
            wait = self.get_retry_after(response)
            if wait is not None and wait > limit:
                return False
            return bool(super().is_retry(settings, response))

    return BoundedRetryPolicy(
        retry_total=options["retry_total"],
        retry_backoff_factor=options["retry_backoff_factor"],
        retry_backoff_max=options["retry_backoff_max"],
        timeout=options["timeout"],
    )


def make_credential(settings: AzureSettings) -> TenantCredential:
    """DefaultAzureCredential (env service principal, workload identity, managed identity, CLI...)."""
    identity = require("azure.identity", "azure")
    kwargs: dict[str, Any] = {
        "authority": settings.authority_host,
        "additionally_allowed_tenants": [settings.tenant_id],
        # The same timeouts and retry numbers for the token requests (the bound on Retry-After is ours).
        **pipeline_options(settings),
    }
    if settings.instance_discovery_disabled:
        kwargs["disable_instance_discovery"] = True
    return TenantCredential(identity.DefaultAzureCredential(**kwargs), settings.tenant_id)


def _origin(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or 443


def _error_from_response(response: Any) -> AzureApiError:
    code, message = "", ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            code = str(error.get("code") or "")
            message = str(error.get("message") or "")
        elif isinstance(body.get("message"), str):
            message = body["message"]
    return AzureApiError(response.status_code, code or (response.reason or "error"), message[:300])


class Api:
    """One service endpoint (ARM or Graph) reached through an azure-core PipelineClient."""

    def __init__(
        self, endpoint: str, credential: Any, count_call: Callable[[int], None], settings: AzureSettings
    ) -> None:
        core = require("azure.core", "azure")
        policies = require("azure.core.pipeline.policies", "azure")
        self._rest = require("azure.core.rest", "azure")
        self._exceptions = require("azure.core.exceptions", "azure")
        transport = require("azure.core.pipeline.transport", "azure")
        self.endpoint = endpoint
        self._origin = _origin(endpoint)
        lock = threading.Lock()

        def count_attempt(request: Any) -> None:
            with lock:  # collect() fans out over threads; the context counter is a plain int
                count_call(1)

        counter = policies.SansIOHTTPPolicy()
        counter.on_request = count_attempt
        self._client = core.PipelineClient(
            base_url=endpoint,
            policies=[
                policies.HeadersPolicy({"Accept": "application/json"}),
                policies.UserAgentPolicy(USER_AGENT),
                _retry_policy(policies, settings),
                policies.BearerTokenCredentialPolicy(credential, f"{endpoint}/.default"),
                counter,
            ],
            transport=transport.RequestsTransport(
                connection_timeout=settings.connect_timeout_seconds, read_timeout=settings.read_timeout_seconds
            ),
        )

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith("https://"):
            # Links come from the service; never send our bearer token to another host.
            if _origin(path_or_url) != self._origin:
                raise AzureApiError(None, "UnexpectedHost", "a next link points at another host")
            return path_or_url
        return f"{self.endpoint}{path_or_url}"

    def get(self, path_or_url: str, params: dict[str, str] | None = None) -> Any:
        """GET one JSON document; raises AzureApiError on any non-2xx answer."""
        request = self._rest.HttpRequest("GET", self._url(path_or_url), params=params or None)
        try:
            response = self._client.send_request(request)
        except self._exceptions.ClientAuthenticationError:
            raise
        except self._exceptions.AzureError as exc:
            raise AzureApiError(None, type(exc).__name__, str(exc).splitlines()[0][:300]) from exc
        if not 200 <= response.status_code < 300:
            raise _error_from_response(response)
        return response.json()

    def list(self, path: str, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a collection, following nextLink (ARM) or @odata.nextLink (Graph)."""
        page = self.get(path, params)
        while True:
            yield from page.get("value") or []
            link = page.get("nextLink") or page.get("@odata.nextLink")
            if not link:
                return
            page = self.get(link)

    def close(self) -> None:
        self._client.close()
