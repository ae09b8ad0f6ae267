"""Dates of recurring sales: weekly (drive) and monthly (buying group), in the collective's time zone.

Pure functions of dates: the recurring-schedule service turns their output into sales. Times are local
wall-clock times in Europe/Paris; each occurrence is computed from its own calendar date, so a change to or
from summer time never shifts an opening by an hour.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Occurrence:
    opens_at: datetime
    closes_at: datetime
    distribution_date: date
    distribution_starts_at: datetime
    distribution_ends_at: datetime


def local(day: date, at: time, tz: ZoneInfo = PARIS) -> datetime:
    """The aware datetime of a wall-clock time on a calendar day."""
    return datetime.combine(day, at, tzinfo=tz)


@dataclass(frozen=True)
class WeeklyRule:
    """Opens on `open_weekday` at `open_time`, closes on the next `close_weekday` at `close_time`, and the
    distribution is on the next `distribution_weekday` after closing (Monday = 0)."""

    open_weekday: int = 5  # Saturday
    open_time: time = time(8, 0)
    close_weekday: int = 1  # Tuesday
    close_time: time = time(23, 59)
    distribution_weekday: int = 4  # Friday
    distribution_start: time = time(17, 0)
    distribution_end: time = time(19, 0)

    def occurrences(self, after: datetime, tz: ZoneInfo = PARIS) -> Iterator[Occurrence]:
        """Every occurrence whose opening is at or after `after`, in order."""
        start = after.astimezone(tz).date()
        open_day = start + timedelta(days=(self.open_weekday - start.weekday()) % 7)
        while True:
            opens_at = local(open_day, self.open_time, tz)
            if opens_at >= after:
                close_day = open_day + timedelta(days=(self.close_weekday - open_day.weekday()) % 7 or 7)
                distribution_day = close_day + timedelta(
                    days=(self.distribution_weekday - close_day.weekday()) % 7 or 7
                )
                yield Occurrence(
                    opens_at=opens_at,
                    closes_at=local(close_day, self.close_time, tz),
                    distribution_date=distribution_day,
                    distribution_starts_at=local(distribution_day, self.distribution_start, tz),
                    distribution_ends_at=local(distribution_day, self.distribution_end, tz),
                )
            open_day += timedelta(days=7)


def _day_in_month(year: int, month: int, day: int) -> date:
    """`day` of the month, or its last day in a shorter month (the 31st in February → the 28th/29th)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class MonthlyRule:
    """Opens on day `open_day` of each month, closes on day `close_day` (same month, or the next one when
    it comes before the opening day), distribution `distribution_after_days` days after closing."""

    open_day: int = 1
    open_time: time = time(8, 0)
    close_day: int = 15
    close_time: time = time(23, 59)
    distribution_after_days: int = 7
    distribution_start: time = time(14, 0)
    distribution_end: time = time(18, 0)

    def occurrences(self, after: datetime, tz: ZoneInfo = PARIS) -> Iterator[Occurrence]:
        local_after = after.astimezone(tz)
        year, month = local_after.year, local_after.month
        while True:
            open_day = _day_in_month(year, month, self.open_day)
            opens_at = local(open_day, self.open_time, tz)
            if opens_at >= after:
                close_year, close_month = (year, month)
                if self.close_day < self.open_day:
                    close_year, close_month = (year + 1, 1) if month == 12 else (year, month + 1)
                close_day = _day_in_month(close_year, close_month, self.close_day)
                distribution_day = close_day + timedelta(days=self.distribution_after_days)
                yield Occurrence(
                    opens_at=opens_at,
                    closes_at=local(close_day, self.close_time, tz),
                    distribution_date=distribution_day,
                    distribution_starts_at=local(distribution_day, self.distribution_start, tz),
                    distribution_ends_at=local(distribution_day, self.distribution_end, tz),
                )
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
