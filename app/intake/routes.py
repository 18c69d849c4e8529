"""HTTP: POST /api/v1/intake/leads, for channel systems holding a channel key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from app.deps import SessionDep, SettingsDep
from app.intake import keys
from app.intake.schemas import IntakeBatch, IntakeResult
from app.intake.service import take_leads

router = APIRouter(prefix="/api/v1/intake", tags=["intake"])
ApiKey = Annotated[str | None, Header(alias="X-API-Key", max_length=80)]


@router.post("/leads", response_model=IntakeResult)
def intake_leads(
    batch: IntakeBatch, session: SessionDep, settings: SettingsDep, api_key: ApiKey = None
) -> IntakeResult:
    """One lead or up to 1,000, all or nothing; the key decides the channel."""
    channel, key_id = keys.channel_of(session, token=api_key)
    return take_leads(
        session, channel=channel, key_id=key_id, batch=batch, secret=settings.customer_key
    )
