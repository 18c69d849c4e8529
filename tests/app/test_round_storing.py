"""A round's assignment rows as COPY text: psycopg's own text for the same rows, byte for byte."""

from __future__ import annotations

import psycopg  # noqa: F401  (psycopg's copy module needs the package loaded first)
import pytest
from psycopg._copy_base import format_row_text
from psycopg.adapt import Transformer

from allocation.explanations import not_nearest, unassigned
from allocation.model import Reason
from app.messages import SAME_CUSTOMER
from app.rounds import storing
from app.rounds.solving import Outcome
from app.rounds.storing import ExplanationColumns, copy_blocks, row
from coded_messages import message


def _outcomes() -> list[Outcome]:
    far = not_nearest(branch="B-01", full=True, pairs=False, why="lower total distance")
    left = unassigned(Reason.CAPACITY_EXHAUSTED)
    values = [0.1, 1e-05, 1e20, 5.0, 123456789.12345679, 0.30000000000000004, 2.5e-300, 0.0]
    out = []
    for i in range(40):
        placed = i % 5 != 0
        distance = values[i % len(values)] if placed else None
        out.append(
            Outcome(
                lead_id=10**12 + i, branch_id=i % 7 + 1 if placed else None,
                distance_km=distance, cost=None if distance is None else -distance / 3,
                reason=None if placed else Reason.CAPACITY_EXHAUSTED.value,
                explanation=(None, far, left)[i % 3] if placed else left,
                follows_lead_id=i - 1 if i % 4 == 0 and i else None,
                lead_class=(None, "mass", "hnw!B-01", "客户\ttab\\back\nline")[i % 4],
            )
        )  # fmt: skip
    out.append(out[1]._replace(explanation=message(SAME_CUSTOMER, lead=7), follows_lead_id=7))
    return out


def _customers(outcomes: list[Outcome]) -> dict[int, int]:
    return {o.lead_id: 3 * 10**11 + o.lead_id % 97 for o in outcomes}


def _psycopg_text(round_id: int, outcomes: list[Outcome], customers: dict[int, int]) -> bytes:
    columns, out, tx = ExplanationColumns(), bytearray(), Transformer()
    for o in outcomes:
        format_row_text(row(round_id, o, customers[o.lead_id], columns(o.explanation)), tx, out)
    return bytes(out)


@pytest.mark.parametrize("rows_per_block", [1, 7, 50_000])
def test_the_copy_text_is_psycopgs_byte_for_byte(
    rows_per_block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storing, "STORE_REPORT_ROWS", rows_per_block)
    outcomes = _outcomes()
    customers = _customers(outcomes)
    heard: list[tuple[str, int, int | None]] = []
    blocks = list(
        copy_blocks(42, outcomes, customers=customers, progress=lambda *said: heard.append(said))
    )
    assert b"".join(blocks) == _psycopg_text(42, outcomes, customers)
    assert len(blocks) == -(-len(outcomes) // rows_per_block)
    assert heard[-1] == ("store", len(outcomes), len(outcomes))


def test_text_values_are_escaped_as_psycopg_escapes_them() -> None:
    awkward = "a\\b\tc\nd\re\x08f\x0cg\x0bh 中文 \\N"
    out = bytearray()
    format_row_text((awkward, None, ""), Transformer(), out)
    assert storing._formatted((awkward, None, "")).encode() + b"\n" == bytes(out)
