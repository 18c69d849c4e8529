"""Leads pushed by channel systems: the lead import's rules, one request at a time.

A batch is all or nothing, idempotent by (channel, external_id), validated and located exactly
as a row of a lead file is (the same parser and staging path, app/leads/importer.ingest_rows),
and a returning customer joins its owner at once. A new customer is routed at once at the last
round's prices (app/routing/service.py) unless HQ switched routing off. Errors name
`leads[i].field`.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app import audit
from app.imports.csvfile import CsvRow
from app.intake.schemas import IntakeBatch, IntakeLead, IntakeOutcome, IntakeResult
from app.leads.importer import ingest_rows
from app.routing.service import route_new_leads
from app.tables import Branch, Lead

SOURCE = "leads"  # errors read "leads:<item number>: <field>: <reason>"


def take_leads(
    session: Session, *, channel: str, key_id: str, batch: IntakeBatch, secret: bytes
) -> IntakeResult:
    known = _existing_ids(session, channel=channel, batch=batch)
    rows = [CsvRow(line=i, values=_cells(x)) for i, x in enumerate(batch.leads, start=1)]
    done = ingest_rows(session, rows, source=SOURCE, actor=f"channel:{channel}", secret=secret,
                       channel=channel)  # fmt: skip
    created = _created_ids(session, channel=channel, batch=batch, known=known)
    routed = route_new_leads(session, lead_ids=created, actor=f"channel:{channel}")
    routed_ids = {lead_id for r in routed for lead_id in r.lead_ids}
    outcomes = _outcomes(session, channel=channel, batch=batch, known=known, routed=routed_ids)
    detail: dict[str, object] = {"key_id": key_id, "rows": done.rows, "created": done.inserted,
                                 "linked": done.linked, "routed": len(routed_ids)}  # fmt: skip
    audit.record(session, actor=f"channel:{channel}", action="intake.leads", entity_type="lead",
                 detail=detail)  # fmt: skip
    return IntakeResult(channel=channel, created=done.inserted, unchanged=done.rows - done.inserted,
                        linked=done.linked, routed=len(routed_ids), leads=outcomes)  # fmt: skip


def _cells(lead: IntakeLead) -> dict[str, str]:
    """The item as the cells of a CSV row (numbers in their shortest exact text)."""
    values = lead.model_dump(exclude_none=True)
    return {name: repr(v) if isinstance(v, float) else str(v) for name, v in values.items()}


def _existing_ids(session: Session, *, channel: str, batch: IntakeBatch) -> set[str]:
    wanted = [x.external_id.strip() for x in batch.leads]
    query = select(Lead.external_id).where(
        Lead.channel == channel, col(Lead.external_id).in_(wanted)
    )
    return set(session.exec(query))


def _created_ids(
    session: Session, *, channel: str, batch: IntakeBatch, known: set[str]
) -> list[int]:
    """Leads this request created: only those are routed (a re-sent lead changes nothing)."""
    fresh = [x.external_id.strip() for x in batch.leads if x.external_id.strip() not in known]
    if not fresh:
        return []
    query = select(Lead.id).where(Lead.channel == channel, col(Lead.external_id).in_(fresh))
    return [lead_id for lead_id in session.exec(query) if lead_id is not None]


def _outcomes(
    session: Session, *, channel: str, batch: IntakeBatch, known: set[str], routed: set[int]
) -> list[IntakeOutcome]:
    wanted = [x.external_id.strip() for x in batch.leads]
    query = (
        select(Lead, Branch.code)
        .join(Branch, col(Lead.branch_id) == col(Branch.id), isouter=True)
        .where(Lead.channel == channel, col(Lead.external_id).in_(wanted))
    )
    found = {lead.external_id: (lead, code) for lead, code in session.exec(query)}
    return [
        IntakeOutcome(
            external_id=external_id,
            lead_id=found[external_id][0].id or 0,
            outcome="unchanged" if external_id in known else "created",
            status=found[external_id][0].status,
            branch_code=found[external_id][1],
            routed=found[external_id][0].id in routed,
        )
        for external_id in wanted
    ]
