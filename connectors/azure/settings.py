"""Configuration of the Azure connector (CONTRACT §2 keys), plus how hard it tries: the shared retry policy
and request timeouts."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from connectors.base import ConnectorSettings
from connectors.http import RetrySettings

PUBLIC_AUTHORITY_HOST = "https://login.microsoftonline.com"
PUBLIC_ARM_ENDPOINT = "https://management.azure.com"
PUBLIC_GRAPH_ENDPOINT = "https://graph.microsoft.com"

# Authorities MSAL knows without instance discovery; any other host (a private cloud, a test
# server) gets discovery switched off, or MSAL would ask login.microsoftonline.com about it.
KNOWN_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)


class AzureSettings(ConnectorSettings):
    tenant_id: str
    subscriptions: list[str] = ["all"]
    authority_host: str = PUBLIC_AUTHORITY_HOST
    arm_endpoint: str = PUBLIC_ARM_ENDPOINT
    graph_endpoint: str = PUBLIC_GRAPH_ENDPOINT
    # Every request (each page of a list, each token request) is bounded by these: a silent endpoint
    # costs at most read_timeout_seconds per attempt and never more than retry.deadline_seconds per call.
    retry: RetrySettings = RetrySettings()
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    read_timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("tenant_id")
    @classmethod
    def _tenant_present(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("tenant_id must not be empty")
        return value.strip()

    @field_validator("subscriptions")
    @classmethod
    def _all_or_ids(cls, value: list[str]) -> list[str]:
        ids = [v.strip() for v in value]
        if not ids or any(not v for v in ids):
            raise ValueError("subscriptions must be [all] or a list of subscription ids")
        if "all" in ids and len(ids) > 1:
            raise ValueError("subscriptions: 'all' cannot be combined with explicit ids")
        return ids

    @field_validator("authority_host", "arm_endpoint", "graph_endpoint")
    @classmethod
    def _https_only(cls, value: str) -> str:
        # Bearer tokens travel only over TLS; azure-core refuses anything else anyway.
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError("must be an https:// URL")
        return value.rstrip("/")

    @property
    def all_subscriptions(self) -> bool:
        return self.subscriptions == ["all"]

    @property
    def instance_discovery_disabled(self) -> bool:
        return (urlsplit(self.authority_host).hostname or "") not in KNOWN_AUTHORITY_HOSTS

    def scope(self) -> str:
        return self.tenant_id
