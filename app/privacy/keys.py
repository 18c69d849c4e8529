"""Reading O2O_DATA_KEY (kept free of database imports: app.config uses it)."""

from __future__ import annotations

import base64
import binascii
import re


def parse_data_key(text: str) -> bytes:
    """32 bytes given as 64 hex digits or as base64 (standard or URL-safe)."""
    text = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        key = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error as exc:
        raise ValueError("O2O_DATA_KEY must be 32 bytes as 64 hex digits or base64") from exc
    if len(key) != 32:
        raise ValueError(f"O2O_DATA_KEY must be 32 bytes, got {len(key)}")
    return key
