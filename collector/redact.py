"""Secrets never leave the process: every line Annexa prints, logs or stores passes through here.

Secrets come from two places: values written in annexa.yaml (``token: ${GITHUB_TOKEN}``, the webhook
URL) and the environment variables and files each connector's credential chain reads by itself
(``AZURE_CLIENT_SECRET``, ``GOOGLE_APPLICATION_CREDENTIALS``' key file, ``AWS_SECRET_ACCESS_KEY`` …),
which SDKs echo in their own error text (a 401 from a token endpoint quoting the secret back). Each
connector declares the latter (``secret_env``, ``secret_file_env``); :func:`register_connector`
collects their values, and :func:`redact` masks every known value wherever text is produced.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MASK = "***"
_MIN_LENGTH = 6  # shorter values ("true", a region) would mask ordinary words
_MAX_FILE_BYTES = 1_000_000
# Keys of JSON credential files (Google service-account keys, Azure/Okta/GitHub key files) whose
# values are secret; the rest (client_email, project_id) identifies the principal and is kept.
_SECRET_JSON_KEYS = ("private_key", "private_key_id", "client_secret", "refresh_token", "password", "secret")

_lock = threading.Lock()
_values: set[str] = set()


def add(values: Iterable[str | None]) -> None:
    """Remember secret values to mask from now on; a multi-line one (a PEM key held in an environment
    variable) line by line too, as :func:`redact` promises: an SDK may quote one line of it."""
    with _lock:
        for value in values:
            if value and len(value) >= _MIN_LENGTH:
                _values.add(value)
                if "\n" in value:
                    _values.update(
                        line.strip()
                        for line in value.splitlines()
                        if len(line.strip()) >= 16 and not line.startswith("-----")
                    )


def redact(text: str) -> str:
    """``text`` with every known secret value (and each line of a multi-line one) masked."""
    if not text:
        return text
    with _lock:
        values = sorted(_values, key=len, reverse=True)  # longest first: a secret containing another
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def env_secrets(names: Iterable[str]) -> list[str]:
    return [os.environ[name] for name in names if os.environ.get(name)]


def file_secrets(names: Iterable[str]) -> list[str]:
    """Secret material inside the files that environment variables name (key files, certificates)."""
    out: list[str] = []
    for name in names:
        location = os.environ.get(name)
        if not location:
            continue
        out.extend(secrets_in_file(Path(location)))
    return out


def secrets_in_file(path: Path) -> list[str]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES)
    except OSError:
        return []
    text = raw.decode("utf-8", errors="replace")
    found: list[str] = []
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        found.extend(_secret_json_values(document))
    else:
        found.append(text.strip())
    # A PEM block may be quoted line by line (or with escaped newlines) in an SDK's message.
    for value in list(found):
        for line in value.replace("\\n", "\n").splitlines():
            if len(line.strip()) >= 16 and not line.startswith("-----"):
                found.append(line.strip())
    return found


def _secret_json_values(document: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key, value in document.items():
        if isinstance(value, dict):
            out.extend(_secret_json_values(value))
        elif isinstance(value, str) and any(part in key.lower() for part in _SECRET_JSON_KEYS):
            out.append(value)
    return out


def register_connector(cls: Any) -> list[str]:
    """Remember the secrets a connector's credential chain will read; returns them for that run."""
    values = env_secrets(getattr(cls, "secret_env", ())) + file_secrets(getattr(cls, "secret_file_env", ()))
    add(values)
    return [v for v in values if len(v) >= _MIN_LENGTH]


class RedactingFilter(logging.Filter):
    """Masks secrets in every log record (message and arguments), SDK loggers included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _values:
            record.msg = redact(record.getMessage())
            record.args = None
            if record.exc_info:
                import traceback

                record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
                record.exc_info = None
        return True


def install_log_filter() -> None:
    """Attach the filter to the root handlers and to every handler created later."""
    root = logging.getLogger()
    flt = RedactingFilter()
    for handler in root.handlers:
        handler.addFilter(flt)
    if not getattr(logging, "_annexa_redacting", False):
        original = logging.Handler.__init__

        def init(self: logging.Handler, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            self.addFilter(flt)

        logging.Handler.__init__ = init  # type: ignore[method-assign]
        logging._annexa_redacting = True  # type: ignore[attr-defined]
