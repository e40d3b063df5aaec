"""Post a drift summary to a webhook after a scheduled run (generic JSON or Slack incoming webhook).

The webhook URL is a secret for Slack (it carries the token): it is never logged or stored.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from .config import NotifyConfig


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
