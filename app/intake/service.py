"""Leads pushed by channel systems: the lead import's rules, one request at a time.

A batch is all or nothing, idempotent by (channel, external_id), validated and located exactly
as a row of a lead file is (the same parser and staging path, app/leads/importer.ingest_rows),
and a returning customer joins its owner at once. A new customer is routed at once at the last
round's prices (app/routing/service.py) unless HQ switched routing off. Errors name
`leads[i].field`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app import audit
from app.bulk import plain_rows
from app.imports.csvfile import CsvRow
from app.intake.schemas import IntakeBatch, IntakeLead, IntakeOutcome, IntakeResult
from app.leads.importer import ingest_rows
from app.routing.service import route_new_leads
from app.tables import Branch, Lead

SOURCE = "leads"  # errors read "leads:<item number>: <field>: <reason>"


def take_leads(
    session: Session, *, channel: str, key_id: str, batch: IntakeBatch, secret: bytes
) -> IntakeResult:
    rows = [CsvRow(line=i, values=_cells(x)) for i, x in enumerate(batch.leads, start=1)]
    done = ingest_rows(session, rows, source=SOURCE, actor=f"channel:{channel}", secret=secret,
                       channel=channel, new_lead_ids=True)  # fmt: skip
    created = list(done.new_lead_ids or ())  # only these are routed: a re-sent lead changes nothing
    stored = _stored(session, channel=channel, batch=batch)
    routed = route_new_leads(session, lead_ids=created, actor=f"channel:{channel}")
    routed_to = {lead_id: r.branch_code for r in routed for lead_id in r.lead_ids}
    outcomes = _outcomes(batch=batch, stored=stored, created=set(created), routed_to=routed_to)
    detail: dict[str, object] = {"key_id": key_id, "rows": done.rows, "created": done.inserted,
                                 "linked": done.linked, "routed": len(routed_to)}  # fmt: skip
    audit.record(session, actor=f"channel:{channel}", action="intake.leads", entity_type="lead",
                 detail=detail)  # fmt: skip
    return IntakeResult(channel=channel, created=done.inserted, unchanged=done.rows - done.inserted,
                        linked=done.linked, routed=len(routed_to), leads=outcomes)  # fmt: skip


def _cells(lead: IntakeLead) -> dict[str, str]:
    """The item as the cells of a CSV row (numbers in their shortest exact text)."""
    values = lead.model_dump(exclude_none=True)
    return {name: repr(v) if isinstance(v, float) else str(v) for name, v in values.items()}


@dataclass(frozen=True, slots=True)
class _Stored:
    lead_id: int
    external_id: str
    status: str
    branch_code: str | None


_STORED = (
    sa_select(col(Lead.id), col(Lead.external_id), col(Lead.status), col(Branch.code))
    .join(Branch, col(Lead.branch_id) == col(Branch.id), isouter=True)
    .where(
        col(Lead.channel) == bindparam("channel"),
        col(Lead.external_id).in_(bindparam("external_ids", expanding=True)),
    )
    .order_by(col(Lead.id))
)


def _stored(session: Session, *, channel: str, batch: IntakeBatch) -> dict[str, _Stored]:
    """The batch's leads as stored after the import, by external id (plain rows: routing
    then updates them without ORM objects to keep in step)."""
    wanted = [x.external_id.strip() for x in batch.leads]
    rows = plain_rows(session, _STORED, {"channel": channel, "external_ids": wanted})
    return {row[1]: _Stored(*row) for row in rows}


def _outcomes(
    *, batch: IntakeBatch, stored: dict[str, _Stored], created: set[int], routed_to: dict[int, str]
) -> list[IntakeOutcome]:
    outcomes = []
    for external_id in (x.external_id.strip() for x in batch.leads):
        lead = stored[external_id]
        routed = lead.lead_id in routed_to
        outcomes.append(
            IntakeOutcome(
                external_id=external_id,
                lead_id=lead.lead_id,
                outcome="created" if lead.lead_id in created else "unchanged",
                status="assigned" if routed else lead.status,
                branch_code=routed_to[lead.lead_id] if routed else lead.branch_code,
                routed=routed,
            )
        )
    return outcomes
