"""Settings of the GCP connector (CONTRACT §2: `organization_id` or `projects`, optional `api_endpoint`),
plus how hard it tries: the shared retry policy, request timeouts and the number of worker threads."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from connectors.base import ConnectorSettings
from connectors.http import RetrySettings

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


class GcpSettings(ConnectorSettings):
    """Scope and endpoint. Credentials are never configured here: they come from ADC."""

    organization_id: str | None = None
    projects: list[str] | None = None
    api_endpoint: str | None = None
    # Every call (each page of a list too) is bounded by retry.max_attempts and retry.deadline_seconds.
    retry: RetrySettings = RetrySettings()
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    read_timeout_seconds: float = Field(default=30.0, gt=0)  # per attempt: a silent endpoint costs this
    max_workers: int = Field(default=8, ge=1, le=64)  # projects at once, and detail calls at once

    @field_validator("organization_id")
    @classmethod
    def _numeric_org(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.removeprefix("organizations/")
        if not value.isdigit():
            raise ValueError("organization_id is the numeric organization id, e.g. '123456789012'")
        return value

    @field_validator("projects")
    @classmethod
    def _project_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [p.removeprefix("projects/") for p in value]
        bad = [p for p in cleaned if not _PROJECT_ID.match(p)]
        if bad:
            raise ValueError(f"not a GCP project id: {', '.join(bad)}")
        if not cleaned:
            raise ValueError("projects must list at least one project id")
        return cleaned

    @field_validator("api_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("api_endpoint must be an http(s) base URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_scope(self) -> GcpSettings:
        if (self.organization_id is None) == (self.projects is None):
            raise ValueError("set exactly one of organization_id or projects")
        return self

    def scope(self) -> str:
        if self.organization_id:
            return f"organizations/{self.organization_id}"
        projects = self.projects or []
        return f"{','.join(projects[:3])}{',…' if len(projects) > 3 else ''}"
