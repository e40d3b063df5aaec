"""Post a drift summary to a webhook after a scheduled run (generic JSON or Slack incoming webhook).

The webhook URL is a secret for Slack (it carries the token): it is never logged or stored.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from .config import NotifyConfig, Settings


def build_payload(drift: dict[str, Any], fmt: str) -> dict[str, Any]:
    regressions = drift["regressions"]
    lines = [f"control {c['id']}: {c['from']} → {c['to']}" for c in regressions["controls"]]
    lines += [f"{f['check']} on {f['resource']}: {f['from']} → {f['to']}" for f in regressions["findings"]]
    if fmt == "slack":
        head = (
            f":rotating_light: Annexa: {drift['summary']['regressions']} regression(s) for "
            f"{drift['organization'] or 'your organization'} (run {drift['to_run']})"
        )
        shown = "\n".join(f"• {line}" for line in lines[:20])
        more = f"\n…and {len(lines) - 20} more" if len(lines) > 20 else ""
        return {"text": f"{head}\n{shown}{more}".strip()}
    return {
        "schema": "annexa/notification@1",
        "organization": drift["organization"],
        "from_run": drift["from_run"],
        "to_run": drift["to_run"],
        "summary": drift["summary"],
        "regressions": regressions,
    }


def should_notify(drift: dict[str, Any], config: NotifyConfig) -> bool:
    return config.on == "always" or bool(drift["summary"]["regressions"])


def post(config: NotifyConfig, payload: dict[str, Any]) -> int:
    """POST the payload; returns the HTTP status. Raises OSError (with the URL left out) on failure."""
    request = urllib.request.Request(
        config.webhook_url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "annexa"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=config.timeout_seconds) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise OSError(f"webhook answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OSError(f"webhook not reachable: {reason}") from None


def notify_latest(settings: Settings) -> tuple[str, dict[str, Any]] | None:
    """Post the drift of the latest run when ``notify:`` is configured and its condition holds.

    Returns what happened, for a log line or a console line: ("notification sent" | "notification
    failed", details), or None when nothing was due (no notify config, a first run, no regression).
    Shared by `annexa run` and the agent so that a CronJob running `annexa run` notifies too.
    """
    from .drift import compute_drift
    from .store import NoRunError, Store

    config = settings.model.notify
    if config is None:
        return None
    try:
        with Store(settings.store_path) as store:
            drift = compute_drift(store, None, None)
    except NoRunError:
        return None  # the first run has nothing to compare with
    if not should_notify(drift, config):
        return None
    try:
        status = post(config, build_payload(drift, config.format))
    except OSError as exc:
        return "notification failed", {"error": str(exc)}
    return "notification sent", {"http_status": status, "regressions": drift["summary"]["regressions"]}
