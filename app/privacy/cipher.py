"""Mobile numbers at rest: AES-GCM under O2O_DATA_KEY, a key the database never holds.

A stored value is ``v1:`` + base64(nonce + ciphertext + tag). The version prefix lets a later
key (``v2:``) be introduced while old rows stay readable. Rows written before encryption hold
the plain 11 digits; they are still read (and sealed by `o2o privacy seal-plain`).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import os
import re
from weakref import WeakKeyDictionary

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from app.tables import Lead

PREFIX = "v1:"
# Binds a ciphertext to its purpose: a sealed mobile cannot be passed off as another field.
_AAD = b"o2o:lead.mobile:v1"
_PLAIN = re.compile(r"^1\d{10}$")
_NONCE_BYTES = 12
_NONCE_SPACE = 1 << (8 * _NONCE_BYTES)


class DataKeyError(RuntimeError):
    """A stored mobile number cannot be opened: wrong O2O_DATA_KEY or a damaged value."""


class MobileCipher:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        # Nonces count up from a random 96-bit start: unique within a process without a
        # system call per row (imports seal hundreds of thousands), and two processes' ranges
        # overlap only with negligible probability. next() on a count is atomic under the GIL.
        self._nonces = itertools.count(int.from_bytes(os.urandom(_NONCE_BYTES), "big"))

    def seal(self, mobile: str | None) -> str | None:
        if mobile is None:
            return None
        nonce = (next(self._nonces) % _NONCE_SPACE).to_bytes(_NONCE_BYTES, "big")
        sealed = self._aead.encrypt(nonce, mobile.encode(), _AAD)
        return PREFIX + binascii.b2a_base64(nonce + sealed, newline=False).decode()

    def open(self, stored: str | None) -> str | None:
        """The plain number; raises DataKeyError rather than ever returning wrong digits."""
        if stored is None:
            return None
        if stored.startswith(PREFIX):
            raw = base64.b64decode(stored[len(PREFIX) :])
            try:
                return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD).decode()
            except InvalidTag as exc:
                raise DataKeyError(
                    "a stored mobile number does not open with O2O_DATA_KEY (wrong key?)"
                ) from exc
        if _PLAIN.match(stored):
            return stored  # written before encryption
        raise DataKeyError("a stored mobile number has an unknown format or key version")


def is_sealed(stored: str | None) -> bool:
    return stored is None or stored.startswith(PREFIX)


_CIPHERS: WeakKeyDictionary[Engine, MobileCipher] = WeakKeyDictionary()


def register(engine: Engine, key: bytes) -> None:
    """Called by `make_engine`: every session on this engine seals and opens with this key."""
    _CIPHERS[engine] = MobileCipher(key)


def cipher_for(session: Session) -> MobileCipher:
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    try:
        return _CIPHERS[engine]
    except KeyError:
        raise DataKeyError(
            "this engine has no data key: create it with app.db.make_engine"
        ) from None


def data_key_problem(session: Session) -> str | None:
    """Why this engine's key cannot open the stored mobile numbers (one sealed row is tried), or
    None. `o2o serve` refuses to start on it: a wrong key would fail every page showing one."""
    if not inspect(session.get_bind()).has_table(Lead.__tablename__):
        return None  # not migrated yet: nothing sealed to open
    stored = session.exec(
        select(Lead.mobile).where(col(Lead.mobile).startswith(PREFIX)).limit(1)
    ).first()
    try:
        cipher_for(session).open(stored)
    except DataKeyError as exc:
        return str(exc)
    return None
