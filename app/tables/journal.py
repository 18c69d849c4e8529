"""The commission ledger: revenue events, import batches, journal entries, postings, periods.

Money is BIGINT fen everywhere. The invariants that must hold whatever code writes here are
enforced by the database itself (migration 0002 adds the triggers that autogenerate cannot
see); the constraints below are the part both dialects express declaratively:

* an entry is *sealed* by inserting its header after its postings: a posting's
  ``(entry_id, line_count)`` references the header's ``(id, posting_count)`` through a
  DEFERRABLE foreign key, line numbers are unique and within ``1..line_count``, so an entry
  can never hold more postings than its header declares, and a posting without a header
  fails at commit;
* one entry per business key, one crediting entry per event (its key is derived from the
  event id), at most one reversal per entry (``reverses`` is unique);
* amounts are non-zero integers: ``amount = CAST(amount AS BIGINT)`` is trivially true on
  PostgreSQL (the column is BIGINT) and refuses REAL or TEXT values on SQLite, whose column
  affinity would otherwise store them as given.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.tables.base import BigIntKey, UTCDateTime, utcnow
from app.tables.lead import Lead

ENTRY_KINDS = ("credit", "reversal", "adjustment")
REVENUE_TYPES = ("brokerage_commission", "product_fee", "margin_interest", "advisory_fee", "other")
PERIOD_CHECK = "length(period) = 7 AND substr(period, 5, 1) = '-'"
# The unit is a function of the account code (KPI accounts are channel:* and kpi:*).
UNIT_CHECK = (
    "unit = CASE WHEN account LIKE 'channel:%' OR account LIKE 'kpi:%' THEN 'KPI' ELSE 'CNY' END"
)

# Revenue rows name a lead by external_id alone when the file has no channel column; the
# unique (channel, external_id) index cannot serve that lookup. Declared here, on the lead
# table, so that migration 0002 and autogenerate agree.
LEAD_EXTERNAL_ID_INDEX = Index("ix_lead_external_id", Lead.__table__.c.external_id)  # type: ignore[attr-defined]


def _integral(column: str) -> str:
    return f"{column} = CAST({column} AS BIGINT)"


class RevenueBatchRow(SQLModel, table=True):
    """One revenue import and its reconciliation: imported = branches + HQ + suspense."""

    __tablename__ = "revenue_batch"
    __table_args__ = (
        CheckConstraint("imported_fen = branches_fen + hq_fen + suspense_fen", name="reconciles"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    file_name: str = Field(max_length=255)
    file_sha256: str = Field(max_length=64)
    actor: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    row_count: int
    new_events: int
    imported_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    branches_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    hq_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    suspense_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


class RevenueEventRow(SQLModel, table=True):
    """A revenue event as imported; ``event_id`` is unique for ever.

    An event credited by the default rule carries its credit (migration 0031): ``period``
    (the posting month), ``owner_code`` (NULL: suspense) and ``kpi_channel`` (NULL: no KPI
    overlay); the row is then its own journal entry (same id space on PostgreSQL) and the
    views ``ledger_entry`` / ``ledger_posting`` derive its header and legs. ``period`` NULL:
    the event's entry is stored in ``journal_entry`` (split policies, SQLite, older events).
    A replay is told from a conflict by comparing the content columns (migration 0033).
    """

    __tablename__ = "revenue_event"
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_non_zero"),
        CheckConstraint(_integral("amount_fen"), name="amount_integral"),
        CheckConstraint(
            "revenue_type IN (" + ", ".join(f"'{t}'" for t in REVENUE_TYPES) + ")",
            name="type_known",
        ),
        ForeignKeyConstraint(
            ["batch_id"], ["revenue_batch.id"], deferrable=True, initially="DEFERRED"
        ),
        Index("ix_revenue_event_batch_id", "batch_id", "id"),
        # ix_revenue_event_credit_period, ix_revenue_event_credit_suspense (partial) and the
        # credit columns' CHECKs (a trigger on SQLite): migration 0031.
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    event_id: str = Field(max_length=128, unique=True)
    external_id: str = Field(max_length=128)
    channel: str | None = Field(default=None, max_length=64)  # as given in the file
    lead_id: int = Field(sa_column=Column(BigIntKey, ForeignKey("lead.id"), nullable=False))
    revenue_type: str = Field(max_length=32)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    batch_id: int = Field(sa_column=Column(BigIntKey, nullable=False))
    line: int
    period: str | None = Field(default=None, max_length=7)
    owner_code: str | None = Field(default=None, max_length=32)
    kpi_channel: str | None = Field(default=None, max_length=64)


class JournalEntryRow(SQLModel, table=True):
    """An entry header; inserting it seals the postings already written under its id."""

    __tablename__ = "journal_entry"
    __table_args__ = (
        UniqueConstraint("id", "posting_count"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in ENTRY_KINDS) + ")", name="kind_known"
        ),
        CheckConstraint("posting_count >= 2", name="two_postings_at_least"),
        CheckConstraint("(kind = 'reversal') = (reverses IS NOT NULL)", name="reversal_names"),
        CheckConstraint(
            "kind <> 'credit' OR business_key = 'revenue:' || event_id", name="credit_key"
        ),
        CheckConstraint(
            "kind <> 'reversal' OR business_key = 'reversal:' || reverses", name="reversal_key"
        ),
        CheckConstraint(PERIOD_CHECK, name="period_format"),
        # (period, posted_at) only: with ``id`` in it too, a planner without statistics would
        # answer "id = ?" from this index rather than the primary key (see migration 0002).
        Index("ix_journal_entry_period_posted", "period", "posted_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    business_key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=16)
    event_id: str | None = Field(
        default=None,
        sa_column=Column(
            # ix_journal_entry_event_id (partial: entries other than credits): migration 0009
            String(128),
            ForeignKey("revenue_event.event_id"),
            nullable=True,
        ),
    )
    reverses: str | None = Field(
        default=None,
        sa_column=Column(
            String(300), ForeignKey("journal_entry.business_key"), nullable=True, unique=True
        ),
    )
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    posted_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    period: str = Field(max_length=7)
    posting_count: int
    memo: str = Field(default="", max_length=300)


class JournalPostingRow(SQLModel, table=True):
    """One leg of an entry: signed amount, debit positive, in the account's unit."""

    __tablename__ = "journal_posting"
    __table_args__ = (
        ForeignKeyConstraint(
            ["entry_id", "line_count"],
            ["journal_entry.id", "journal_entry.posting_count"],
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint("line_no BETWEEN 1 AND line_count", name="line_in_range"),
        CheckConstraint("amount <> 0", name="amount_non_zero"),
        CheckConstraint(_integral("amount"), name="amount_integral"),
        CheckConstraint(UNIT_CHECK, name="unit_of_account"),
        # ix_journal_posting_branch_account (partial, branch accounts only): migration 0008.
    )

    entry_id: int = Field(sa_column=Column(BigIntKey, primary_key=True))
    line_no: int = Field(sa_column=Column(Integer, primary_key=True))
    line_count: int
    account: str = Field(max_length=100)
    unit: str = Field(max_length=3)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))


class ClosedPeriodRow(SQLModel, table=True):
    """A closed month: nothing is ever posted into it again."""

    __tablename__ = "ledger_closed_period"
    __table_args__ = (CheckConstraint(PERIOD_CHECK, name="period_format"),)

    period: str = Field(sa_column=Column(String(7), primary_key=True))
    closed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    closed_by: str = Field(max_length=64)


class StatementRow(SQLModel, table=True):
    """A branch's statement for a closed month: canonical bytes and their SHA-256."""

    __tablename__ = "ledger_statement"
    __table_args__ = (UniqueConstraint("branch_code", "period"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    branch_code: str = Field(max_length=32)
    period: str = Field(
        sa_column=Column(String(7), ForeignKey("ledger_closed_period.period"), nullable=False)
    )
    sha256: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    line_count: int
    closing_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
