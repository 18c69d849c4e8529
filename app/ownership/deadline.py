"""The follow-up deadline: how long a branch has to contact a customer before it is reclaimed.

The deadline is `O2O_FOLLOWUP_DEADLINE_HOURS` hours. With `O2O_WORK_CALENDAR` set, only hours of
working days count (Asia/Shanghai dates): Monday to Friday, minus the calendar's holidays, plus
its make-up working days (调休). China's official holidays change every year, so the calendar is
a data file HQ maintains, not code:

    date,kind
    2027-02-06,holiday
    2027-02-14,workday

`O2O_WORK_CALENDAR=weekdays` counts Monday to Friday with no file. Because counting working time
is monotonic, "past the deadline" is one comparison: assigned before `cutoff(now)`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from app.config import Settings
from app.errors import InvalidInput
from ledger.periods import SHANGHAI

_DAY = timedelta(days=1)
_KINDS = ("holiday", "workday")


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


@dataclass(frozen=True)
class FollowUp:
    """The deadline rule: `hours`, counted on every day or only on the calendar's working days."""

    hours: int
    calendar: WorkCalendar | None = None

    def cutoff(self, now: datetime) -> datetime:
        """Assignments made before this instant have had their `hours` by `now`."""
        if self.calendar is None:
            return now - timedelta(hours=self.hours)
        return _working_cutoff(now, timedelta(hours=self.hours), self.calendar)


def _working_cutoff(now: datetime, span: timedelta, calendar: WorkCalendar) -> datetime:
    """Walk back from `now` day by day until `span` of working time is used up."""
    end = now.astimezone(SHANGHAI)
    day = end.date()
    for _ in range(3_660):  # ten years: a calendar with no working day cannot loop forever
        start = datetime.combine(day, time(), tzinfo=SHANGHAI)
        available = end - start if calendar.is_working(day) else timedelta()
        if available >= span:
            return end - span
        span -= available
        end, day = start, day - _DAY
    raise InvalidInput("the work calendar has no working day in ten years")


def followup_rule(settings: Settings) -> FollowUp:
    """The deadline rule the settings describe (the calendar file is read once per change)."""
    source = settings.work_calendar
    stamp = Path(source).stat().st_mtime if source and source != "weekdays" else 0.0
    return FollowUp(settings.followup_deadline_hours, _cached_calendar(source, stamp))


@lru_cache(maxsize=4)
def _cached_calendar(source: str | None, _stamp: float) -> WorkCalendar | None:
    return load_calendar(source)


def load_calendar(source: str | None) -> WorkCalendar | None:
    """None (every hour counts), `weekdays`, or a CSV file of holidays and make-up workdays."""
    if not source:
        return None
    if source == "weekdays":
        return WorkCalendar()
    path = Path(source)
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            rows = list(csv.DictReader(stream))
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the work calendar ({exc.strerror})") from exc
    holidays: set[date] = set()
    workdays: set[date] = set()
    for line, row in enumerate(rows, start=2):
        day, kind = _calendar_row(row, where=f"{path.name}:{line}")
        (holidays if kind == "holiday" else workdays).add(day)
    return WorkCalendar(frozenset(holidays), frozenset(workdays))


def _calendar_row(row: dict[str, str | None], *, where: str) -> tuple[date, str]:
    text, kind = (row.get("date") or "").strip(), (row.get("kind") or "").strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{where}: date: '{text}' is not a date (YYYY-MM-DD)") from None
    if kind not in _KINDS:
        raise InvalidInput(f"{where}: kind: '{kind}' is not one of {', '.join(_KINDS)}")
    return day, kind
