"""Request-scoped dependencies: settings, engine and the one transaction per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.config import Settings
from app.db import session_scope


async def get_app_settings(request: Request) -> Settings:  # async: no threadpool hop
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.engine) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
# "function" scope: commit happens before the response is sent, so a 200 means it is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
