"""Pydantic's validation errors in plain sentences, with an example of the right form.

Pydantic says "Input should be a valid dictionary or instance of CheckOverride"; a user editing YAML
needs "must be a mapping of keys, e.g. checks: {aws.iam.user_mfa_enabled: {enabled: false}}". The
offending value is never echoed: it may have come from a ${VAR} holding a secret.
"""

from __future__ import annotations

from typing import Any

EXAMPLES = {  # a right form for keys users commonly get wrong
    "regions": "regions: [eu-central-1, us-east-1]",
    "organization_id": 'organization_id: "123456789012"',
    "account_id": 'account_id: "123456789012"',
    "accounts": 'accounts: ["123456789012"]',
    "projects": "projects: [my-project-id]",
    "subscriptions": "subscriptions: [00000000-0000-0000-0000-000000000000]",
    "controls": "controls: [A.5.1, A.8.5]",
    "clauses": "clauses: ['9.2']",
}


def plain_message(err: Any) -> str:
    """One sentence for one pydantic error (an item of ``ValidationError.errors()``)."""
    kind = str(err.get("type", ""))
    loc = [p for p in err.get("loc", ()) if isinstance(p, str) and not p.startswith("function-")]
    key = loc[-1] if loc else ""
    example = EXAMPLES.get(key)
    hint = f", e.g. {example}" if example else ""
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of keys (key: value){hint}"
    if kind in ("list_type", "tuple_type", "set_type"):
        return "must be a list" + (hint or (f", e.g. {key}: [a, b]" if key else ""))
    if kind == "string_type":
        return "must be text; quote numbers and dates" + (hint or (f', e.g. {key}: "…"' if key else ""))
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    if kind in ("float_type", "float_parsing"):
        return "must be a number"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"):
        return "must be a date, YYYY-MM-DD"
    message = str(err.get("msg", "")).removeprefix("Value error, ")
    if kind == "literal_error":
        return message.replace("Input should be", "must be", 1)
    if message.startswith("Input should be "):
        return "must be " + message.removeprefix("Input should be ")
    return message
