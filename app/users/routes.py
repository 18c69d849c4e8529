"""HTTP: the OAuth2 password flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from app.auth import issue_token
from app.client_address import client_address
from app.deps import SessionDep, SettingsDep
from app.errors import Unauthorized
from app.users.login import sign_in

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/token", response_model=Token)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    user = sign_in(
        session,
        settings=settings,
        username=form.username,
        password=form.password,
        client=client_address(request, settings),
    )
    if user is None:
        raise Unauthorized("wrong username or password, or the account is deactivated")
    return Token(
        access_token=issue_token(user, settings=settings),
        expires_in=settings.access_token_minutes * 60,
    )
