"""Configuration of one Okta organization (CONTRACT §2 keys plus OAuth service-app auth and tuning)."""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import ConnectorSettings
from connectors.http import RetryPolicy, RetrySettings

LOOPBACK_HOSTS = frozenset({"localhost"})
DEFAULT_SCOPES = (
    "okta.users.read",
    "okta.groups.read",
    "okta.factors.read",
    "okta.policies.read",
    "okta.roles.read",
    "okta.authenticators.read",
    "okta.apps.read",
    "okta.logs.read",
)
# Needed by the device assurance and ThreatInsight facts. Not in the default: Okta refuses a token
# request naming a scope the app was not granted, so adding them would stop every existing service app
# at its next run; without them only those two facts are denied (their checks `error`, naming the call).
COVERAGE_SCOPES = ("okta.deviceAssurance.read", "okta.threatInsight.read")
# Okta's rate-limit windows are one minute: a 429 may ask for up to ~60 s, so the shared policy's 60 s cap
# and deadline are raised. These are the defaults of ``retry:`` for any key it leaves out.
OKTA_RETRY_DEFAULTS = {
    "max_attempts": 5,
    "initial_backoff_seconds": 2.0,
    "max_backoff_seconds": 60.0,
    "deadline_seconds": 180.0,
    "max_retry_after_seconds": 120.0,
}
# The flat keys that existed before ``retry:`` and the ``retry:`` key each one sets.
LEGACY_RETRY_KEYS = {
    "max_retries": "max_attempts",
    "retry_backoff": "initial_backoff_seconds",
    "max_rate_limit_wait": "max_retry_after_seconds",
}


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 and localhost: the only hosts allowed over plain http (local test servers)."""
    if not host:
        return False
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class OktaSettings(ConnectorSettings):
    """Authenticate with an API token (SSWS) or as an OAuth 2.0 service app with a private key."""

    org_url: str = Field(min_length=1)
    token: SecretStr | None = None
    # OAuth service app: the private key never sits in the config file, only the NAME of the variable holding it.
    client_id: str | None = None
    private_key_env: str | None = None
    key_id: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    # Re-runs fetch factors only for users the System Log names; a full sweep at least this often.
    full_sweep_days: int = Field(default=7, ge=0, le=90)
    factor_concurrency: int = Field(default=8, ge=1, le=50)
    page_limit: int = Field(default=200, ge=1, le=200)
    # Retry and pacing (connectors/http.py's shared policy). ``retry:`` is the policy; the older flat keys
    # still work and set the matching ``retry:`` key (see LEGACY_RETRY_KEYS). Tests lower the waits to ~0.
    retry: RetrySettings | None = None
    max_retries: int = Field(default=4, ge=0, le=19)  # retries after the first try
    retry_backoff: float = Field(default=2.0, ge=0)  # first backoff, doubled per retry when Okta names no wait
    max_rate_limit_wait: float = Field(default=120.0, ge=0)  # longest wait for a rate-limit reset
    rate_limit_reserve: int = Field(default=5, ge=0)
    # Seconds: one try (connect and answer), and the connection alone. Fractions are fine (aiohttp timeouts).
    request_timeout: float = Field(default=30.0, gt=0)
    connect_timeout: float = Field(default=10.0, gt=0)

    @field_validator("org_url")
    @classmethod
    def _https_unless_loopback(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("org_url must be an absolute URL such as https://example.okta.com")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ValueError("org_url must use https (plain http is accepted only for loopback test servers)")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError("org_url must be the organization's base URL, without a path")
        return f"{parts.scheme}://{parts.netloc}"

    @model_validator(mode="after")
    def _one_auth_method(self) -> OktaSettings:
        if self.token is not None and (self.client_id is not None or self.private_key_env is not None):
            raise ValueError("set either token or client_id/private_key_env, not both")
        if self.token is None and (self.client_id is None or self.private_key_env is None):
            raise ValueError("set token, or both client_id and private_key_env (OAuth service app)")
        if self.token is not None and not self.token.get_secret_value().strip():
            raise ValueError("token is empty")
        given = self.retry.model_fields_set if self.retry is not None else set()
        for legacy, key in LEGACY_RETRY_KEYS.items():
            if legacy in self.model_fields_set and key in given:
                raise ValueError(f"set either {legacy} or retry.{key}, not both")
        return self

    @property
    def retry_settings(self) -> RetrySettings:
        """Okta's defaults, overridden by the flat keys given, overridden by the ``retry:`` keys given."""
        values: dict[str, float | int] = dict(OKTA_RETRY_DEFAULTS)
        if "max_retries" in self.model_fields_set:
            values["max_attempts"] = self.max_retries + 1
        if "retry_backoff" in self.model_fields_set:
            values["initial_backoff_seconds"] = self.retry_backoff
        if "max_rate_limit_wait" in self.model_fields_set:
            values["max_retry_after_seconds"] = self.max_rate_limit_wait
        if self.retry is not None:
            values.update({key: getattr(self.retry, key) for key in self.retry.model_fields_set})
        return RetrySettings.model_validate(values)

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.retry_settings.policy()

    @property
    def host(self) -> str:
        return urlsplit(self.org_url).netloc

    @property
    def is_loopback(self) -> bool:
        return is_loopback(urlsplit(self.org_url).hostname)

    def scope(self) -> str:
        return self.host
