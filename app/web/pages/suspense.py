"""The suspense workbench (issue 17.3): revenue nobody owned, and the corrections waiting for a
second finance user's approval."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.journal import service
from app.journal.schemas import CorrectionRequestRead
from app.journal.suspense import SuspenseFilter, SuspensePage, suspense_page
from app.web.messages import in_chinese
from app.web.pages.users import branch_codes
from coded_messages import message
from ledger.errors import InvalidAmountError
from ledger.money import parse_amount

PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class SuspenseView:
    found: SuspensePage
    page: int
    pages: int
    search: str  # as typed, shown back in the filter
    min_yuan: str
    filter_error: str | None  # said beside the amount field; the list is then unfiltered
    pending: list[CorrectionRequestRead]
    branches: list[tuple[str, str]]
    threshold_fen: int

    @property
    def params(self) -> dict[str, str]:
        """The filter as query parameters, kept by the page links."""
        return {k: v for k, v in (("q", self.search), ("min_yuan", self.min_yuan)) if v}


def suspense_view(
    session: Session, *, search: str, min_yuan: str, page: int, threshold_fen: int
) -> SuspenseView:
    min_fen, error = _min_fen(min_yuan)
    where = SuspenseFilter(search=search.strip(), min_fen=min_fen)
    found = suspense_page(session, where=where, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    pages = max(-(-found.total // PER_PAGE), 1)
    if page > pages:  # past the last page (the list shrank, or a typed page): the last page
        page = pages
        found = suspense_page(session, where=where, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return SuspenseView(
        found=found, page=page, pages=pages, search=search, min_yuan=min_yuan,
        filter_error=error, pending=service.list_corrections(session, pending_only=True).items,
        branches=branch_codes(session), threshold_fen=threshold_fen,
    )  # fmt: skip


def _min_fen(text: str) -> tuple[int, str | None]:
    if not text.strip():
        return 0, None
    try:
        fen = parse_amount(text)
    except InvalidAmountError:
        fen = -1
    if fen < 0:
        return 0, in_chinese(message("suspense.bad_amount"))
    return fen, None
