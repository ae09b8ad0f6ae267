"""The dates of recurring sales, as a coordinator reads them on the calendar (Europe/Paris)."""

from datetime import date, datetime, time, timedelta
from itertools import islice

from orders.sales.recurrence import PARIS, MonthlyRule, WeeklyRule


def _paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_weekly_drive_opens_saturday_closes_tuesday_distributes_friday():
    first, second = islice(WeeklyRule().occurrences(after=_paris(2026, 11, 18, 12, 0)), 2)
    assert first.opens_at == _paris(2026, 11, 21, 8, 0)  # Saturday
    assert first.closes_at == _paris(2026, 11, 24, 23, 59)  # Tuesday
    assert first.distribution_date == date(2026, 11, 27)  # Friday
    assert first.distribution_starts_at == _paris(2026, 11, 27, 17, 0)
    assert first.distribution_ends_at == _paris(2026, 11, 27, 19, 0)
    assert second.opens_at == _paris(2026, 11, 28, 8, 0)


def test_weekly_opening_already_passed_today_goes_to_next_week():
    first = next(WeeklyRule().occurrences(after=_paris(2026, 11, 21, 9, 0)))
    assert first.opens_at == _paris(2026, 11, 28, 8, 0)


def test_weekly_keeps_wall_clock_times_across_summer_time_changes():
    # Summer time ends on Sunday 25 October 2026 and starts on Sunday 28 March 2027.
    october = list(islice(WeeklyRule().occurrences(after=_paris(2026, 10, 15, 0, 0)), 3))
    march = list(islice(WeeklyRule().occurrences(after=_paris(2027, 3, 20, 0, 0)), 2))
    for occurrence in october + march:
        assert occurrence.opens_at.astimezone(PARIS).time() == time(8, 0)
        assert occurrence.closes_at.astimezone(PARIS).time() == time(23, 59)
        assert occurrence.distribution_starts_at.astimezone(PARIS).time() == time(17, 0)
    # The week that crosses the change is one hour longer (or shorter) in absolute time, not on the clock.
    assert october[1].opens_at - october[0].opens_at == timedelta(days=7)
    assert october[1].opens_at.utcoffset() == timedelta(hours=2)  # 24 October: still summer time
    assert october[2].opens_at.utcoffset() == timedelta(hours=1)  # 31 October: winter time
    assert october[1].closes_at.utcoffset() == timedelta(hours=1)  # Tuesday 27 October
    # 27 March 2027 opens in winter time; its Tuesday closing (30 March) is in summer time.
    assert march[1].opens_at.utcoffset() == timedelta(hours=1)
    assert march[1].closes_at.utcoffset() == timedelta(hours=2)


def test_monthly_order_form_opens_first_closes_fifteenth_delivers_a_week_later():
    first, second = islice(MonthlyRule().occurrences(after=_paris(2026, 11, 22, 10, 0)), 2)
    assert first.opens_at == _paris(2026, 12, 1, 8, 0)
    assert first.closes_at == _paris(2026, 12, 15, 23, 59)
    assert first.distribution_date == date(2026, 12, 22)
    assert second.opens_at == _paris(2027, 1, 1, 8, 0)  # across the year end
    assert second.distribution_date == date(2027, 1, 22)


def test_monthly_days_beyond_the_month_end_fall_on_its_last_day():
    rule = MonthlyRule(open_day=20, close_day=31, distribution_after_days=7)
    dates = [
        (o.opens_at.date(), o.closes_at.date(), o.distribution_date)
        for o in islice(rule.occurrences(after=_paris(2027, 1, 1, 0, 0)), 3)
    ]
    assert dates == [
        (date(2027, 1, 20), date(2027, 1, 31), date(2027, 2, 7)),
        (date(2027, 2, 20), date(2027, 2, 28), date(2027, 3, 7)),
        (date(2027, 3, 20), date(2027, 3, 31), date(2027, 4, 7)),
    ]
    leap = next(rule.occurrences(after=_paris(2028, 2, 1, 0, 0)))
    assert leap.closes_at.date() == date(2028, 2, 29)


def test_monthly_closing_before_the_opening_day_is_in_the_next_month():
    rule = MonthlyRule(open_day=25, close_day=5, distribution_after_days=3)
    occurrence = next(rule.occurrences(after=_paris(2026, 12, 1, 0, 0)))
    assert occurrence.opens_at == _paris(2026, 12, 25, 8, 0)
    assert occurrence.closes_at == _paris(2027, 1, 5, 23, 59)
    assert occurrence.distribution_date == date(2027, 1, 8)


def test_monthly_across_summer_time_keeps_local_times():
    occurrences = list(islice(MonthlyRule().occurrences(after=_paris(2027, 2, 15, 0, 0)), 3))
    assert [o.opens_at.utcoffset() for o in occurrences] == [
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=2),
    ]
    assert all(o.opens_at.astimezone(PARIS).time() == time(8, 0) for o in occurrences)
