"""Configuration of one GitHub organization (CONTRACT §2 keys plus App auth and retry tuning)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from connectors.base import ConnectorSettings

DEFAULT_BASE_URL = "https://api.github.com"


class GitHubSettings(ConnectorSettings):
    """One organization per connector entry; authenticate with a token or as a GitHub App installation."""

    organization: str = Field(min_length=1)
    token: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    # GitHub App: the private key never sits in the config file, only the NAME of the variable holding it.
    app_id: int | None = None
    app_private_key_env: str | None = None
    installation_id: int | None = None
    # Retry tuning. Production defaults follow GitHub's guidance; tests lower them to ~0.
    max_retries: int = Field(default=5, ge=0)
    secondary_rate_wait: float = Field(default=60.0, ge=0)
    max_rate_limit_wait: float = Field(default=900.0, ge=0)
    request_timeout: float = Field(default=30.0, gt=0)
    # Answers GitHub sends without an ETag (404 "Branch not protected", "no analysis found") are re-asked
    # after a push to the repository or after this many hours; 0 asks them on every run.
    recheck_hours: float = Field(default=24.0, ge=0)

    @model_validator(mode="after")
    def _one_auth_method(self) -> GitHubSettings:
        app_fields = (self.app_id, self.app_private_key_env, self.installation_id)
        if self.token is not None and any(value is not None for value in app_fields):
            raise ValueError("set either token or app_id/app_private_key_env/installation_id, not both")
        if self.token is None and not all(value is not None for value in app_fields):
            raise ValueError("set token, or all of app_id, app_private_key_env and installation_id")
        return self

    def scope(self) -> str:
        return self.organization
