"""The client address a request is counted under (sign-in lockouts): the peer, unless the peer
is a proxy listed in O2O_TRUSTED_PROXIES, whose X-Forwarded-For is then read from the right,
skipping further trusted proxies. Nothing is trusted by default: a forged header counts nothing.
"""

from __future__ import annotations

from fastapi import Request

from app.config import Settings


def client_address(request: Request, settings: Settings) -> str | None:
    peer = request.client.host if request.client else None
    trusted = {p.strip() for p in settings.trusted_proxies.split(",") if p.strip()}
    if peer is None or peer not in trusted:
        return peer
    forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted:
            return address
    return peer
