"""HTTP: the OAuth2 password flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from app.auth import authenticate, issue_token
from app.deps import SessionDep, SettingsDep
from app.errors import Unauthorized

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/token", response_model=Token)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    user = authenticate(session, username=form.username, password=form.password)
    if user is None:
        raise Unauthorized("wrong username or password, or the account is deactivated")
    return Token(
        access_token=issue_token(user, settings=settings),
        expires_in=settings.access_token_minutes * 60,
    )
