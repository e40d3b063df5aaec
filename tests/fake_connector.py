"""A connector for engine tests: yields what its settings say, fails where told to."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from connectors.base import (
    CollectionError,
    Connector,
    ConnectorError,
    ConnectorSettings,
    EvidenceItem,
    EvidenceKind,
)


class FakeSettings(ConnectorSettings):
    users: list[dict[str, Any]] = []
    buckets: list[dict[str, Any]] = []
    fail_kinds: list[str] = []
    crash: bool = False
    delay_s: float = 0.0
    token: SecretStr | None = None
    # Event-driven pauses for tests: create `started_file`, then wait until `release_file` exists.
    started_file: str | None = None
    release_file: str | None = None
    # item name -> {field: reason}: facts the simulated API could not read
    unknown: dict[str, dict[str, str]] = {}


class FakeConnector(Connector[FakeSettings]):
    name = "fake"
    extra = "fake"
    settings_model = FakeSettings
    evidence_kinds = (
        EvidenceKind("fake.iam.user", "name", "a user", {"name": "login", "mfa": "has MFA"}),
        EvidenceKind("fake.s3.bucket", "name", "a bucket", {"name": "bucket name", "public": "is public"}),
    )
    permissions = ("fake:Read",)
    secret_env = ("FAKE_API_SECRET",)
    secret_file_env = ("FAKE_KEY_FILE",)

    def collect(self) -> Iterator[EvidenceItem | CollectionError]:
        settings = self.settings
        if settings.delay_s:
            time.sleep(settings.delay_s)
        if settings.started_file:
            Path(settings.started_file).write_text("started")
        if settings.release_file:
            deadline = time.monotonic() + 120
            while not Path(settings.release_file).exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        if settings.crash:
            token = settings.token.get_secret_value() if settings.token else ""
            # Like an SDK quoting its credential back: the config token, the env secret, the key file.
            echoed = [token, os.environ.get("FAKE_API_SECRET", "")]
            if os.environ.get("FAKE_KEY_FILE"):
                echoed.append(Path(os.environ["FAKE_KEY_FILE"]).read_text())
            raise ConnectorError(f"simulated crash (credentials {' / '.join(echoed)} rejected)")
        for kind, rows in ((f"{self.name}.iam.user", settings.users), (f"{self.name}.s3.bucket", settings.buckets)):
            if kind in settings.fail_kinds:
                yield CollectionError(kind, f"{kind}: AccessDenied (simulated)")
                continue
            for row in rows:
                self.context.count_call()
                item = EvidenceItem(kind, row["name"], dict(row))
                for name, reason in settings.unknown.get(row["name"], {}).items():
                    item.mark_unknown(name, reason)
                if item.unknown:
                    yield CollectionError(kind, f"{row['name']}: unreadable", tuple(item.unknown), (item.id,))
                yield item

    @classmethod
    def simulated_estate(cls, now: datetime) -> Iterator[EvidenceItem | CollectionError]:
        yield EvidenceItem("fake.iam.user", "alice", {"name": "alice", "mfa": True})
        yield EvidenceItem("fake.iam.user", "bob", {"name": "bob", "mfa": False})


class OtherConnector(FakeConnector):
    """A second connector, to show runs where a connector is added or removed."""

    name = "other"
    evidence_kinds = (EvidenceKind("other.iam.user", "name", "a user elsewhere", {"name": "login", "mfa": "has MFA"}),)
