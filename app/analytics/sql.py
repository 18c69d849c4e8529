"""The two expressions the funnel needs that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, cast, func, literal_column
from sqlalchemy.sql.elements import ColumnElement


def shanghai_week(instant: Any, *, dialect: str) -> ColumnElement[Any]:
    """The Monday (Shanghai calendar, UTC+8 all year) of the week an instant falls in, as
    'YYYY-MM-DD' text."""
    if dialect == "sqlite":  # stored as naive UTC text; 'weekday 1' moves forward to a Monday
        return func.date(instant, "+8 hours", "-6 days", "weekday 1")
    local = func.timezone("Asia/Shanghai", instant)
    return func.to_char(func.date_trunc("week", local), literal_column("'YYYY-MM-DD'"))


def seconds_between(start: Any, end: Any, *, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return cast(func.extract("epoch", end - start), Float)
