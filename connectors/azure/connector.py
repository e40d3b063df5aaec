"""The Azure connector: subscriptions and their resources through ARM, Entra ID through Graph."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ClassVar

from connectors.base import (
    CollectionError,
    Connector,
    ConnectorError,
    EvidenceItem,
    EvidenceKind,
    require,
)

from . import arm, entra, kinds
from .client import Api, AzureApiError, make_credential
from .settings import AzureSettings

# Subscriptions are read in parallel; ARM throttles per principal, so keep the fan-out modest.
MAX_PARALLEL_SUBSCRIPTIONS = 8

Record = EvidenceItem | CollectionError


class AzureConnector(Connector[AzureSettings]):
    name = "azure"
    extra = "azure"
    settings_model = AzureSettings
    evidence_kinds: ClassVar[tuple[EvidenceKind, ...]] = kinds.EVIDENCE_KINDS
    permissions = (
        "Azure RBAC: Reader on every collected subscription (or a management group above them)",
        "Azure RBAC: Security Reader on every collected subscription (Defender for Cloud pricings, security "
        "contacts, secure scores and alerts)",
        "Microsoft Graph application permission User.Read.All (users)",
        "Microsoft Graph application permission AuditLog.Read.All (MFA registration details, sign-in activity)",
        "Microsoft Graph application permission Policy.Read.All (security defaults, Conditional Access)",
    )

    @classmethod
    def simulated_estate(cls, now: datetime) -> Iterator[Record]:
        from .demo import simulated_estate

        return simulated_estate(now)

    def collect(self) -> Iterator[Record]:
        settings = self.settings
        exceptions = require("azure.core.exceptions", "azure")
        credential = make_credential(settings)
        arm_api = Api(settings.arm_endpoint, credential, self.context.count_call, settings)
        graph_api = Api(settings.graph_endpoint, credential, self.context.count_call, settings)
        try:
            yield from self._collect_arm(arm_api)
            self.context.progress("azure: Entra ID tenant and users")
            yield from entra.collect_tenant(graph_api, settings.tenant_id)
            yield from entra.collect_users(graph_api, settings.tenant_id)
        except exceptions.ClientAuthenticationError as exc:
            # No token at all: nothing of this connector can be collected.
            raise ConnectorError(
                f"azure: cannot authenticate to tenant {settings.tenant_id}: {_auth_reason(exc)}"
            ) from None
        finally:
            arm_api.close()
            graph_api.close()
            credential.close()

    def _collect_arm(self, arm_api: Api) -> Iterator[Record]:
        settings = self.settings
        requested = None if settings.all_subscriptions else settings.subscriptions
        try:
            subscriptions, errors = arm.list_subscriptions(arm_api, requested)
        except AzureApiError as exc:
            yield from (CollectionError(kind, f"subscriptions: {exc}") for kind in kinds.SUBSCRIPTION_KINDS)
            return
        yield from errors
        self.context.progress(f"azure: {len(subscriptions)} subscription(s)")
        if not subscriptions:
            return
        workers = min(MAX_PARALLEL_SUBSCRIPTIONS, len(subscriptions))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="annexa-azure") as pool:
            futures = [pool.submit(arm.collect_subscription, arm_api, sub) for sub in subscriptions]
            # Results come back in subscription order, so runs are deterministic.
            for sub, future in zip(subscriptions, futures, strict=True):
                records: list[Any] = future.result()
                self.context.progress(f"azure: subscription {sub.get('subscriptionId')} collected")
                yield from records


def _auth_reason(exc: BaseException) -> str:
    """One line: DefaultAzureCredential's summary plus the credential that actually failed and why.

    Its message lists every credential it tried; the ones merely unavailable (no managed identity
    here, no CLI installed) are noise, the one that failed (EnvironmentCredential: a 401, a timeout)
    is the reason."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    failed = next((line for line in lines[1:] if "failed" in line.lower() and ":" in line), None)
    return f"{lines[0]} {failed}" if failed else lines[0]
