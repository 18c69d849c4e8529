"""API shapes of the funnel."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from app.analytics.funnel import Funnel, Stages


class StagesRead(BaseModel):
    acquired: int
    assigned: int
    contacted: int
    converted: int
    revenue_fen: int
    conversion: float | None  # converted / assigned
    conversion_low: float | None  # 95 % Wilson interval
    conversion_high: float | None
    mean_hours_to_contact: float | None
    contacted_within_day: int
    overdue: int

    @classmethod
    def of(cls, stages: Stages) -> StagesRead:
        low, high = stages.conversion_interval or (None, None)
        return cls(
            acquired=stages.acquired, assigned=stages.assigned, contacted=stages.contacted,
            converted=stages.converted, revenue_fen=stages.revenue_fen,
            conversion=stages.conversion, conversion_low=low, conversion_high=high,
            mean_hours_to_contact=stages.mean_hours_to_contact,
            contacted_within_day=stages.contacted_within_day, overdue=stages.overdue,
        )  # fmt: skip


class KeyRow(StagesRead):
    key: str | None  # channel, branch code or tier; null: no branch (in the pool)


class WeekRow(StagesRead):
    week: date  # the Monday (Shanghai) of the acquisition week


class CellRow(StagesRead):
    week: date
    key: str | None


class FunnelRead(BaseModel):
    by: str
    start: date
    end: date
    total: StagesRead
    keys: list[KeyRow]
    weeks: list[WeekRow]
    cells: list[CellRow]

    @classmethod
    def of(cls, funnel: Funnel) -> FunnelRead:
        def read(stages: Stages) -> dict[str, object]:
            return StagesRead.of(stages).model_dump()

        q = funnel.query
        return cls(
            by=q.by, start=q.start, end=q.end, total=StagesRead.of(funnel.total),
            keys=[KeyRow(key=k, **read(s)) for k, s in funnel.by_key],
            weeks=[WeekRow(week=date.fromisoformat(w), **read(s)) for w, s in funnel.by_week],
            cells=[CellRow(week=date.fromisoformat(c.week), key=c.key, **read(c.stages))
                   for c in funnel.cells],
        )  # fmt: skip
