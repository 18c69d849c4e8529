"""What routing knows of branch loads without counting them (app/ownership/load_floor.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from app.tables.base import BigIntKey


class BranchLoadSeen(SQLModel, table=True):
    """A branch's load as last counted exactly (`holdings.branch_load`) by routing."""

    __tablename__ = "branch_load_seen"

    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    customers: int


class BranchLoadDrop(SQLModel, table=True):
    """A branch whose load may have fallen: written by the database's triggers on `lead`
    (migration 0022), removed by routing when it counts the branch again. Insert-only for
    everyone else: no row lock is taken, so no writer waits on another here."""

    __tablename__ = "branch_load_drop"
    __table_args__ = (Index("ix_branch_load_drop_branch_id", "branch_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    branch_id: int


class BranchLoadRise(SQLModel, table=True):
    """A branch whose load may have risen (migration 0026's triggers on `lead`): with no rise
    and no drop recorded, the stored count is the load. `txid`: the writing transaction on
    PostgreSQL, so routing can remove the rise of its own placement and no other."""

    __tablename__ = "branch_load_rise"
    __table_args__ = (Index("ix_branch_load_rise_branch_id", "branch_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    branch_id: int
    txid: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
