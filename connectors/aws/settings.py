"""Settings of the AWS connector (CONTRACT §2: regions, profile, accounts_role, endpoint_url), plus how hard
each call tries: botocore's standard retries and the request timeouts."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from connectors.base import ConnectorSettings

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ROLE = re.compile(r"^(arn:aws[a-z-]*:iam::\d{12}:role/)?[\w+=,.@/-]{1,512}$")


class AwsSettings(ConnectorSettings):
    """Scope and endpoint. Credentials are never configured here: they come from boto3's chain."""

    regions: list[str] | None = None  # None: every region enabled for the account (EC2 DescribeRegions)
    profile: str | None = None
    accounts_role: str | None = None  # role name assumed in every member account of the Organization
    endpoint_url: str | None = None  # every service is called there (tests, VPC endpoints, LocalStack)
    max_attempts: int = Field(default=8, ge=1, le=20)  # botocore standard retries: attempts per call, first included
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    read_timeout_seconds: float = Field(default=30.0, gt=0)  # per attempt: a silent endpoint costs this, then a retry

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("regions must list at least one region, or be left out for all enabled regions")
        bad = [r for r in value if not _REGION.match(r)]
        if bad:
            raise ValueError(f"not an AWS region: {', '.join(bad)}")
        return list(dict.fromkeys(value))

    @field_validator("accounts_role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE.match(value):
            raise ValueError("accounts_role is an IAM role name (or path/name), e.g. OrganizationAccountAccessRole")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("endpoint_url must be an http(s) URL")
        return value.rstrip("/")

    def scope(self) -> str:
        parts = []
        if self.profile:
            parts.append(f"profile={self.profile}")
        if self.accounts_role:
            parts.append("organization")
        return ":".join(parts)
