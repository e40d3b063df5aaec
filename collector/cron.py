"""Standard 5-field crontab parsing (pure; no scheduler import).

apscheduler 3.x numbers weekdays from Monday = 0, where crontab uses Sunday = 0 (and 7). Converting
the weekday field to names here makes ``0 0 * * 0`` fire on Sunday, as every cron user expects.

apscheduler also requires every field to match, where cron fires when EITHER the day of month or the
weekday matches if both are restricted (``0 0 1 * 1``: the 1st and every Monday). ``day_or_weekday``
tells the scheduler to combine two triggers for that case. As in Vixie cron and cronie, a field that
starts with ``*`` (``*/2`` too) counts as unrestricted.
"""

from __future__ import annotations

from dataclasses import dataclass

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RANGES = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12), "day_of_week": (0, 7)}


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class CronFields:
    minute: str
    hour: str
    day: str
    month: str
    day_of_week: str  # apscheduler-safe: weekday names, or "*"
    day_or_weekday: bool = False  # both restricted: fire when either matches


def parse_crontab(expression: str) -> CronFields:
    parts = expression.split()
    if len(parts) != 5:
        raise CronError(f"expected 5 fields (minute hour day month weekday), got {len(parts)} in {expression!r}")
    names = ("minute", "hour", "day", "month", "day_of_week")
    for name, part in zip(names, parts, strict=True):
        _expand(name, part)  # validates every field
    minute, hour, day, month, dow = parts
    either = not day.startswith(("*", "?")) and not dow.startswith(("*", "?"))
    day = "*" if day == "?" else day
    if dow not in ("*", "?"):
        days = sorted({d % 7 for d in _expand("day_of_week", dow)})
        dow = ",".join(_DAY_NAMES[d] for d in days)
    else:
        dow = "*"
    return CronFields(minute, hour, day, month, dow, either)


def _expand(name: str, field: str) -> set[int]:
    low, high = _RANGES[name]
    values: set[int] = set()
    for item in field.split(","):
        if not item:
            raise CronError(f"empty entry in the {name} field {field!r}")
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"bad step {step_text!r} in the {name} field")
            step = int(step_text)
        if base in ("*", "?"):
            start, end = low, (6 if name == "day_of_week" else high)
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _value(name, a), _value(name, b)
            if start > end:
                raise CronError(f"range {base!r} runs backwards in the {name} field")
        else:
            start = _value(name, base)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return values


def _value(name: str, text: str) -> int:
    lowered = text.lower()
    if name == "day_of_week" and lowered in _DAY_NAMES:
        return _DAY_NAMES.index(lowered)
    if name == "month" and lowered in _MONTH_NAMES:
        return _MONTH_NAMES.index(lowered) + 1
    if not text.isdigit():
        raise CronError(f"{text!r} is not a valid {name.replace('_', ' ')}")
    value = int(text)
    low, high = _RANGES[name]
    if not low <= value <= high:
        raise CronError(f"{value} is outside {low}-{high} in the {name.replace('_', ' ')} field")
    return value


def week_minutes(expression: str) -> list[int]:
    """Minutes of the week (Sunday 00:00 = 0) at which the schedule fires, day of month ignored: enough
    to tell how far apart its runs are meant to be."""
    minute, hour, _day, _month, dow = expression.split()
    days = {d % 7 for d in _expand("day_of_week", dow)}
    return sorted(d * 1440 + h * 60 + m for d in days for h in _expand("hour", hour) for m in _expand("minute", minute))
