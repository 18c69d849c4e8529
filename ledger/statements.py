"""Per-branch monthly statements, rendered canonically and hashed.

A statement covers one branch revenue account for one posting period: the opening balance
(everything posted in earlier periods), one line per posting of the period, and the closing
balance. Amounts are shown credit-positive, the normal side of a revenue account, so a refund
is a negative line. Lines whose ``occurred_at`` lies in an earlier period are flagged as
prior-period adjustments.

:func:`render_statement` produces canonical UTF-8 bytes (fixed header, LF line ends, lines in
a fixed order, timestamps in Shanghai time) and :func:`statement_sha256` hashes them, so a
statement regenerated from the same postings is identical byte for byte.
Text cells a spreadsheet would run as a formula (an ``event_id`` such as ``=1+1``) get the
apostrophe of :func:`spreadsheet_cells.escape_cell`, as exports do; no other cell changes, so
statements without such cells keep their bytes and hashes.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ledger.accounts import Account, branch_revenue
from ledger.entries import EntryKind
from ledger.errors import StatementError
from ledger.money import require_int
from ledger.periods import Period, format_timestamp, period_of
from ledger.records import PostingRecord, entry_id_key
from spreadsheet_cells import escape_cell

FORMAT_VERSION = "o2o-ledger-statement/1"
LINE_COLUMNS = (
    "entry_id",
    "event_id",
    "kind",
    "occurred_at",
    "posted_at",
    "occurred_period",
    "amount_fen",
    "prior_period_adjustment",
)


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One posting on the statement; ``amount_fen`` is credit-positive."""

    entry_id: str
    event_id: str | None
    kind: EntryKind
    occurred_at: datetime
    posted_at: datetime
    amount_fen: int
    prior_period_adjustment: bool


@dataclass(frozen=True, slots=True)
class Statement:
    branch_code: str
    period: Period
    opening_fen: int
    lines: tuple[StatementLine, ...]

    @property
    def account(self) -> Account:
        return branch_revenue(self.branch_code)

    @property
    def movement_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.movement_fen


def build_statement(
    *, branch_code: str, period: Period, opening_fen: int, records: Iterable[PostingRecord]
) -> Statement:
    """The statement of ``branch_code`` for ``period``.

    ``opening_fen`` is the credit-positive balance of the account over all earlier periods
    (for example the previous statement's closing). ``records`` must be exactly the postings
    to that account in that period; anything else is a :class:`StatementError`.
    """
    account = branch_revenue(branch_code)
    require_int(opening_fen, what="opening_fen")
    lines = []
    for record in records:
        if record.account != account or record.period != period:
            raise StatementError(
                f"posting of entry {record.entry_id!r} ({record.account}, {record.period}) "
                f"does not belong on the statement of {account} for {period}"
            )
        lines.append(_line(record))
    lines.sort(key=lambda line: (line.posted_at, entry_id_key(line.entry_id)))
    return Statement(
        branch_code=branch_code, period=period, opening_fen=opening_fen, lines=tuple(lines)
    )


def _line(record: PostingRecord) -> StatementLine:
    return StatementLine(
        entry_id=record.entry_id,
        event_id=record.event_id,
        kind=record.kind,
        occurred_at=record.occurred_at,
        posted_at=record.posted_at,
        amount_fen=-record.amount,
        prior_period_adjustment=record.prior_period_adjustment,
    )


def render_statement(statement: Statement) -> bytes:
    """Canonical bytes of ``statement``: same statement, same bytes, on any machine."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("format", FORMAT_VERSION))
    writer.writerow(("account", escape_cell(statement.account.code)))
    writer.writerow(("branch_code", escape_cell(statement.branch_code)))
    writer.writerow(("period", str(statement.period)))
    writer.writerow(("unit", statement.account.unit.value))
    writer.writerow(("opening_fen", statement.opening_fen))
    writer.writerow(LINE_COLUMNS)
    for line in statement.lines:
        writer.writerow(
            (
                escape_cell(line.entry_id),
                escape_cell(line.event_id or ""),
                line.kind.value,
                format_timestamp(line.occurred_at),
                format_timestamp(line.posted_at),
                str(period_of(line.occurred_at)),
                line.amount_fen,
                "true" if line.prior_period_adjustment else "false",
            )
        )
    writer.writerow(("line_count", len(statement.lines)))
    writer.writerow(("movement_fen", statement.movement_fen))
    writer.writerow(("closing_fen", statement.closing_fen))
    return buffer.getvalue().encode("utf-8")


def statement_sha256(statement: Statement) -> str:
    """Hex SHA-256 of :func:`render_statement`; store it to prove a statement unchanged."""
    return hashlib.sha256(render_statement(statement)).hexdigest()
