"""Periods on one time axis: day, month, two months (双月, the bimonthly evaluation), quarter, year and year-to-date, with 环比 and 同比 offsets.

Every period other than a day is a whole number of calendar months, which lets the engine answer
all of them from the county-month rollup.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

Grain = Literal["day", "month", "bimonth", "quarter", "year", "ytd"]

_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "day"),
    (re.compile(r"^(\d{4})-(\d{2})-ytd$", re.I), "ytd"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})-b([1-6])$", re.I), "bimonth"),
    (re.compile(r"^(\d{4})-q([1-4])$", re.I), "quarter"),
    (re.compile(r"^(\d{4})$"), "year"),
]


class PeriodError(ValueError):
    pass


def add_months(d: dt.date, n: int) -> dt.date:
    m = d.year * 12 + d.month - 1 + n
    return dt.date(m // 12, m % 12 + 1, 1)


def month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


@dataclass(frozen=True, order=True)
class Period:
    grain: Grain
    start: dt.date  # first day
    end: dt.date  # last day (inclusive)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Period:
        s = str(text).strip()
        for pat, grain in _PATTERNS:
            m = pat.match(s)
            if not m:
                continue
            try:
                if grain == "day":
                    return cls.day(dt.date(int(m[1]), int(m[2]), int(m[3])))
                if grain == "month":
                    return cls.month(int(m[1]), int(m[2]))
                if grain == "ytd":
                    return cls.ytd(int(m[1]), int(m[2]))
                if grain == "quarter":
                    return cls.quarter(int(m[1]), int(m[2]))
                if grain == "bimonth":
                    return cls.bimonth(int(m[1]), int(m[2]))
                return cls.year(int(m[1]))
            except ValueError as exc:
                raise PeriodError(f"invalid period {text!r}: {exc}") from None
        raise PeriodError(
            f"invalid period {text!r}: use 2024-06-03 (day), 2024-06 (month), 2024-B3 (May-June), 2024-Q2 (quarter), "
            "2024 (year) or 2024-06-YTD (year to date)"
        )

    @classmethod
    def day(cls, d: dt.date) -> Period:
        return cls("day", d, d)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12:
            raise PeriodError(f"month must be 1-12, got {month}")
        s = dt.date(year, month, 1)
        return cls("month", s, month_end(s))

    @classmethod
    def quarter(cls, year: int, q: int) -> Period:
        s = dt.date(year, 3 * (q - 1) + 1, 1)
        return cls("quarter", s, month_end(add_months(s, 2)))

    @classmethod
    def bimonth(cls, year: int, b: int) -> Period:
        """The b-th two-month period of the year (B1 = Jan-Feb … B6 = Nov-Dec)."""
        if not 1 <= b <= 6:
            raise PeriodError(f"two-month period must be 1-6, got {b}")
        s = dt.date(year, 2 * (b - 1) + 1, 1)
        return cls("bimonth", s, month_end(add_months(s, 1)))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls("year", dt.date(year, 1, 1), dt.date(year, 12, 31))

    @classmethod
    def ytd(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12:
            raise PeriodError(f"month must be 1-12, got {month}")
        return cls("ytd", dt.date(year, 1, 1), month_end(dt.date(year, month, 1)))

    # -- properties ---------------------------------------------------------------------------
    @property
    def months(self) -> list[dt.date]:
        """First days of the calendar months the period covers (one for a day)."""
        out, m = [], self.start.replace(day=1)
        while m <= self.end:
            out.append(m)
            m = add_months(m, 1)
        return out

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.grain == "day":
            return self.start.isoformat()
        if self.grain == "month":
            return f"{self.start:%Y-%m}"
        if self.grain == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.grain == "bimonth":
            return f"{self.start.year}-B{(self.start.month - 1) // 2 + 1}"
        if self.grain == "year":
            return str(self.start.year)
        return f"{self.end:%Y-%m}-YTD"

    def __str__(self) -> str:
        return self.label

    # -- offsets ------------------------------------------------------------------------------
    def previous(self) -> Period:
        """环比: the period just before, of the same grain (YTD: through the previous month)."""
        if self.grain == "day":
            return Period.day(self.start - dt.timedelta(days=1))
        if self.grain == "month":
            p = add_months(self.start, -1)
            return Period.month(p.year, p.month)
        if self.grain == "quarter":
            p = add_months(self.start, -3)
            return Period.quarter(p.year, (p.month - 1) // 3 + 1)
        if self.grain == "bimonth":
            p = add_months(self.start, -2)
            return Period.bimonth(p.year, (p.month - 1) // 2 + 1)
        if self.grain == "year":
            return Period.year(self.start.year - 1)
        if self.end.month == 1:
            return Period.ytd(self.end.year - 1, 12)
        return Period.ytd(self.end.year, self.end.month - 1)

    def year_ago(self) -> Period:
        """同比: the same period one year earlier."""
        if self.grain == "day":
            try:
                return Period.day(self.start.replace(year=self.start.year - 1))
            except ValueError:  # 29 February
                return Period.day(self.start.replace(year=self.start.year - 1, day=28))
        y = self.start.year - 1
        if self.grain == "month":
            return Period.month(y, self.start.month)
        if self.grain == "quarter":
            return Period.quarter(y, (self.start.month - 1) // 3 + 1)
        if self.grain == "bimonth":
            return Period.bimonth(y, (self.start.month - 1) // 2 + 1)
        if self.grain == "year":
            return Period.year(y)
        return Period.ytd(y, self.end.month)


def last_complete_month(today: dt.date | None = None) -> Period:
    today = today or dt.date.today()
    p = add_months(today.replace(day=1), -1)
    return Period.month(p.year, p.month)


REPORT_DUE_DAY = 15  # a month's county report is due on this day of the following month


def report_due(month: dt.date) -> dt.date:
    """The day a month's county reports are due."""
    return add_months(month.replace(day=1), 1).replace(day=REPORT_DUE_DAY)


def latest_due_month(today: dt.date | None = None) -> dt.date:
    """The newest month whose county reports are due by `today`: the one definition behind "the latest
    month" (engine.latest_month, the pages' default, the CLI, the pack, the scheduler's freshness job)."""
    today = today or dt.date.today()
    return add_months(today.replace(day=1), -1 if today.day >= REPORT_DUE_DAY else -2)
