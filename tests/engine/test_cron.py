"""Crontab parsing: standard weekday numbering (0 and 7 are Sunday), errors for malformed strings."""

from __future__ import annotations

import pytest

from collector.cron import CronError, parse_crontab


@pytest.mark.parametrize(
    ("expression", "weekdays"),
    [
        ("0 0 * * 0", "sun"),
        ("0 0 * * 7", "sun"),
        ("0 0 * * 1-5", "mon,tue,wed,thu,fri"),
        ("0 0 * * sat,sun", "sun,sat"),
        ("0 0 * * */2", "sun,tue,thu,sat"),
        ("*/15 * * * *", "*"),
    ],
)
def test_weekdays_follow_crontab(expression: str, weekdays: str) -> None:
    assert parse_crontab(expression).day_of_week == weekdays


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "* * * *",
        "* * * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 8",
        "5-1 * * * *",
        "a * * * *",
        "*/0 * * * *",
        "1,,2 * * * *",
    ],
)
def test_malformed(expression: str) -> None:
    with pytest.raises(CronError):
        parse_crontab(expression)
