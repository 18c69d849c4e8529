"""Per-channel API keys: issued once in full, stored as a hash, rotated and revoked by HQ.

A key reads `o2o_<key id>_<secret>`. The key id is public (it names the key in lists and in
the audit log); the 256-bit secret is compared by its SHA-256, which is enough for a random
secret of that size (a slow password hash protects guessable secrets, not these).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import audit
from app.bulk import plain_rows
from app.errors import InvalidInput, NotFound, Unauthorized
from app.imports.fields import CellError, parse_text
from app.tables import ChannelKey
from app.tables.base import utcnow

_SHAPE = re.compile(r"o2o_([a-z0-9]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key_id: str
    channel: str
    token: str  # shown once: only its hash is kept


def issue_key(session: Session, *, channel: str, actor: str) -> IssuedKey:
    channel = _channel_name(channel)
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    session.add(ChannelKey(key_id=key_id, channel=channel, secret_sha256=_digest(secret),
                           created_by=actor[:64]))  # fmt: skip
    audit.record(session, actor=actor, action="channel.key_issued", entity_type="channel",
                 entity_id=channel, detail={"key_id": key_id})  # fmt: skip
    return IssuedKey(key_id=key_id, channel=channel, token=f"o2o_{key_id}_{secret}")


def rotate_keys(session: Session, *, channel: str, actor: str) -> IssuedKey:
    """A new key for the channel; every older key of it stops working at once."""
    for key in _live_keys(session, channel=_channel_name(channel)):
        _revoke(session, key, actor=actor)
    return issue_key(session, channel=channel, actor=actor)


def revoke_key(session: Session, *, key_id: str, actor: str) -> None:
    key = session.exec(select(ChannelKey).where(ChannelKey.key_id == key_id)).first()
    if key is None or key.revoked_at is not None:
        raise NotFound(f"no live channel key '{key_id}'")
    _revoke(session, key, actor=actor)


def list_keys(session: Session) -> list[ChannelKey]:
    return list(
        session.exec(select(ChannelKey).order_by(col(ChannelKey.channel), col(ChannelKey.id)))
    )


def channel_of(session: Session, *, token: str | None) -> tuple[str, str]:
    """(channel, key id) of a live key; 401 for anything else, with one message for all."""
    match = _SHAPE.fullmatch(token or "")
    rows = plain_rows(session, _KEY, {"key_id": match.group(1)}) if match else []
    channel, stored, revoked = rows[0] if rows else ("", "0" * 64, None)
    given = _digest(match.group(2)) if match else ""
    if not rows or revoked is not None or not hmac.compare_digest(given, stored):
        raise Unauthorized("invalid or revoked channel key")
    assert match is not None
    return channel, match.group(1)


# Built once: every intake request checks its key.
_KEY = sa_select(
    col(ChannelKey.channel), col(ChannelKey.secret_sha256), col(ChannelKey.revoked_at)
).where(col(ChannelKey.key_id) == bindparam("key_id"))


def _live_keys(session: Session, *, channel: str) -> list[ChannelKey]:
    query = select(ChannelKey).where(
        ChannelKey.channel == channel, col(ChannelKey.revoked_at).is_(None)
    )
    return list(session.exec(query))


def _revoke(session: Session, key: ChannelKey, *, actor: str) -> None:
    key.revoked_at = utcnow()
    session.add(key)
    audit.record(session, actor=actor, action="channel.key_revoked", entity_type="channel",
                 entity_id=key.channel, detail={"key_id": key.key_id})  # fmt: skip


def _channel_name(value: str) -> str:
    try:
        name = parse_text(value.strip(), max_length=64)
    except CellError as exc:
        raise InvalidInput(f"channel: {exc}") from None
    if not name:
        raise InvalidInput("channel: a channel name is required")
    return name


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
