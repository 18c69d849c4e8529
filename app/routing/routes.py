"""HTTP: HQ reads and switches routing between rounds (auditors may read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from app.auth import Principal, require_roles
from app.deps import SessionDep
from app.routing.switch import RoutingState, routing_state, switch_routing

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])
HQ = Annotated[Principal, require_roles("hq")]
Reader = Annotated[Principal, require_roles("hq", "auditor")]


class RoutingSwitchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


@router.get("", response_model=RoutingState)
def read_routing(principal: Reader, session: SessionDep) -> RoutingState:
    return routing_state(session)


@router.post("", response_model=RoutingState)
def set_routing(body: RoutingSwitchRequest, principal: HQ, session: SessionDep) -> RoutingState:
    """Switch routing on or off; new leads wait for the next round while it is off."""
    return switch_routing(session, enabled=body.enabled, actor=principal.username)
