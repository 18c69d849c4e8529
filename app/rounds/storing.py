"""A round's assignment rows, written in bulk (one per pooled lead: 1.3M at scale).

On PostgreSQL the rows go as COPY text built here, a line per outcome from a few cached
pieces: psycopg's row formatter costs ~1.7 us a row (dumping each value by its type), ~2.2 s of
the round's Python time at 1.3M. The text is the formatter's own, byte for byte: integers as
`str`, floats as `repr` (what psycopg writes), NULL as \\N, and every text column formatted
once per distinct value, escaped as psycopg escapes it (tests/app/test_round_storing.py
compares the text with psycopg's for the same rows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from sqlmodel import Session

from app.bulk import copy_rows, copy_text
from app.db import is_sqlite
from app.messages import in_english, params_json
from app.progress import Progress
from app.rounds.solving import Outcome
from coded_messages import Message

STORE_REPORT_ROWS = 50_000  # rows per progress report, and per COPY block
ASSIGNMENT_COLUMNS = (
    "round_id",
    "lead_id",
    "customer_id",
    "branch_id",
    "distance_km",
    "cost",
    "reason",
    "explanation",
    "explanation_code",
    "explanation_params",
    "follows_lead_id",
    "lead_class",
)
Explained = tuple[str, str | None, str | None]  # English text, code, values as JSON
NULL = "\\N"


def store_assignments(
    session: Session,
    *,
    round_id: int,
    outcomes: Sequence[Outcome],
    customers: Mapping[int, int],
    progress: Progress,
) -> None:
    """`customers`: each pooled lead's customer, by lead id, as the round read the pool."""
    if is_sqlite(session):
        columns = ExplanationColumns()
        rows = (row(round_id, o, customers[o.lead_id], columns(o.explanation)) for o in outcomes)
        copy_rows(session, table="round_assignment", columns=ASSIGNMENT_COLUMNS, rows=rows)
        progress("store", len(outcomes), len(outcomes))
        return
    blocks = copy_blocks(round_id, outcomes, customers=customers, progress=progress)
    copy_text(session, table="round_assignment", columns=ASSIGNMENT_COLUMNS, blocks=blocks)


def row(round_id: int, o: Outcome, customer_id: int, explained: Explained) -> tuple[object, ...]:
    """One row, values in ASSIGNMENT_COLUMNS order."""
    return (
        round_id,
        o.lead_id,
        customer_id,
        o.branch_id,
        o.distance_km,
        o.cost,
        o.reason,
        *explained,
        o.follows_lead_id,
        o.lead_class,
    )


def copy_blocks(
    round_id: int, outcomes: Sequence[Outcome], *, customers: Mapping[int, int], progress: Progress
) -> Iterator[bytes]:
    """The rows as COPY text, UTF-8, STORE_REPORT_ROWS lines a block."""
    said = _TextColumns()
    total = len(outcomes)
    for lo in range(0, total, STORE_REPORT_ROWS):
        # Positional fields, in Outcome's order (lead, branch, distance, cost, reason,
        # explanation, follows, class): attribute lookups by name cost more per row.
        lines = [
            f"{round_id}\t{lead}\t{customers[lead]}\t{NULL if branch is None else branch}\t"
            f"{_numbers(distance, cost)}\t{said.middle(reason, message)}\t"
            f"{NULL if follows is None else follows}\t{said.text(lead_class)}\n"
            for lead, branch, distance, cost, reason, message, follows, lead_class
            in outcomes[lo : lo + STORE_REPORT_ROWS]
        ]  # fmt: skip
        yield "".join(lines).encode()
        progress("store", min(lo + STORE_REPORT_ROWS, total), total)


def _numbers(
    distance: float | None, cost: float | None, text: Callable[[float], str] = float.__repr__
) -> str:
    """distance_km and cost, as psycopg writes floats (repr; float.__repr__ for a numpy float
    too, whose own repr names its type). A float's repr is most of a line's cost (~0.9 us),
    and under the distance objective the cost is the distance: written once for both."""
    if distance is None:
        return f"{NULL}\t{NULL}" if cost is None else f"{NULL}\t{text(cost)}"
    first = text(distance)
    if cost is None:
        return f"{first}\t{NULL}"
    return f"{first}\t{first if cost == distance and distance else text(cost)}"


class ExplanationColumns:
    """An explanation's columns, worked out once per message object: a few messages (one per
    branch and reason) serve most leads of a pool, which may hold a million."""

    def __init__(self) -> None:
        self._seen: dict[int, Explained] = {}

    def __call__(self, said: Message | None) -> Explained:
        found = self._seen.get(id(said))
        if found is None:
            text = "" if said is None else in_english(said)[:200]
            code = None if said is None else said.code
            found = self._seen[id(said)] = (text, code, params_json(said))
        return found


class _TextColumns:
    """The COPY text of the text columns, worked out once per distinct value."""

    def __init__(self) -> None:
        self._explained = ExplanationColumns()
        self._middles: dict[tuple[str | None, int], str] = {}
        self._texts: dict[str | None, str] = {}

    def middle(self, reason: str | None, said: Message | None) -> str:
        """reason, explanation, explanation_code, explanation_params."""
        key = (reason, id(said))
        found = self._middles.get(key)
        if found is None:
            found = self._middles[key] = _formatted((reason, *self._explained(said)))
        return found

    def text(self, value: str | None) -> str:
        found = self._texts.get(value)
        if found is None:
            found = self._texts[value] = _formatted((value,))
        return found


def _formatted(values: tuple[str | None, ...]) -> str:
    """COPY text of these text values, as psycopg writes them: NULL as \\N, and the
    characters COPY reads as escapes escaped with a backslash."""
    return "\t".join(NULL if v is None else v.translate(_ESCAPES) for v in values)


_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r"}
)
