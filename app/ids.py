"""Ids in URLs: a number no row can have is invalid input (422), never a database error (500).

Lead ids are 64-bit (BIGINT), round ids 32-bit (INTEGER) on PostgreSQL; SQLite stores 64 bits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1

LeadId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
RoundId = Annotated[int, Path(ge=1, le=INTEGER_MAX)]
NotificationId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]  # a notification or its delivery
JobId = Annotated[int, Path(ge=1, le=INTEGER_MAX)]
