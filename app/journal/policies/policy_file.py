"""Reading split-policy versions from a JSON or CSV file, every bad field reported.

JSON: one object or a list of objects; CSV: a header row and one policy per row. Fields:
``policy_id``, ``revenue_type``, ``valid_from`` (ISO 8601; without an offset it is
Asia/Shanghai), ``branch_bps``, ``hq_online_bps`` (integers totalling exactly 10,000),
optional ``overlay_bps`` (KPI points per 10,000 fen, default 10,000) and ``reason``. A JSON
item is located by its position (item 1, 2, ...) where a CSV row is located by its line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.errors import FileRejected, RowError
from app.imports.csvfile import ErrorCollector, open_text, read_rows
from coded_messages import Message, message
from ledger.errors import LedgerError
from ledger.periods import parse_timestamp
from ledger.revenue import RevenueType, parse_revenue_type, require_id
from ledger.splits import BPS_TOTAL

REQUIRED = ("policy_id", "revenue_type", "valid_from", "branch_bps", "hq_online_bps")
MAX_REASON = 300


@dataclass(frozen=True, slots=True)
class PolicyDraft:
    """One policy version as submitted, its fields parsed; ``line`` locates it."""

    line: int
    policy_id: str
    revenue_type: RevenueType
    valid_from: datetime
    branch_bps: int
    hq_online_bps: int
    overlay_bps: int
    reason: str


def read_policy_file(path: Path, *, errors: ErrorCollector) -> list[PolicyDraft]:
    """The well-formed policies of the file; each bad field goes to ``errors`` (the caller
    raises once the rules have been checked too, so one run reports every problem). A file
    that cannot be read at all raises :class:`FileRejected` at once."""
    file = errors.file
    if path.suffix.lower() == ".json":
        items = _json_items(path, file=file)
    elif path.suffix.lower() == ".csv":
        with open_text(path) as stream:
            rows = read_rows(stream, file=file, required=REQUIRED)
            items = [(row.line, dict(row.values)) for row in rows]
    else:
        raise _rejected(file, 1, "*", message("policy.file_type"))
    drafts = [draft_from(values, line=line, errors=errors) for line, values in items]
    if not items:
        errors.add(1, "*", message("policy.no_policy"))
    return [draft for draft in drafts if draft is not None]


def _json_items(path: Path, *, file: str) -> list[tuple[int, Mapping[str, Any]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _rejected(file, 1, "*", message("policy.not_json", detail=str(exc))) from None
    items = data if isinstance(data, list) else [data]
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise _rejected(file, number, "*", message("policy.not_object"))
    return list(enumerate(items, start=1))


def _rejected(file: str, line: int, column: str, reason: Message) -> FileRejected:
    return FileRejected(file=file, errors=[RowError.of(file, line, column, reason)], total_errors=1)


class _Refused(ValueError):
    """A field's value refused, said as a code (the pages say it in Chinese)."""

    def __init__(self, said: Message) -> None:
        super().__init__(said.code)
        self.said = said


def draft_from(
    values: Mapping[str, Any], *, line: int, errors: ErrorCollector
) -> PolicyDraft | None:
    """Parse one policy's fields; each bad one goes to ``errors`` and gives ``None``."""
    found: dict[str, Any] = {}
    for field, parse in _PARSERS.items():
        raw = values.get(field)
        if (raw is None or raw == "") and field in _DEFAULTS:
            found[field] = _DEFAULTS[field]
            continue
        if raw is None or raw == "":
            errors.add(line, field, message("policy.required"))
            continue
        try:
            found[field] = parse(raw)
        except (_Refused, LedgerError) as exc:
            errors.add(line, field, exc.said or str(exc))
    if len(found) != len(_PARSERS):
        return None
    return PolicyDraft(line=line, **found)


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise _Refused(message("policy.not_text"))
    return raw.strip()


def _policy_id(raw: Any) -> str:
    return require_id(_text(raw), what="policy_id")


def _revenue_type(raw: Any) -> RevenueType:
    return parse_revenue_type(_text(raw))


def _valid_from(raw: Any) -> datetime:
    return parse_timestamp(_text(raw))


def _bps(raw: Any) -> int:
    """Whole basis points 0..10,000 given as a JSON integer or a decimal digit string."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise _Refused(message("policy.bps_type"))
    text = raw.strip() if isinstance(raw, str) else str(raw)
    if not text.isdigit() or not text.isascii():
        raise _Refused(message("policy.not_bps", text=raw, max=BPS_TOTAL))
    value = int(text)
    if value > BPS_TOTAL:
        raise _Refused(message("policy.bps_too_large", value=value, max=BPS_TOTAL))
    return value


def _overlay_bps(raw: Any) -> int:
    """Overlay points per 10,000 fen: any whole non-negative number (not a share)."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise _Refused(message("policy.bps_type"))
    text = raw.strip() if isinstance(raw, str) else str(raw)
    if not text.isdigit() or not text.isascii() or len(text) > 9:
        raise _Refused(message("policy.not_overlay", text=raw))
    return int(text)


def _reason(raw: Any) -> str:
    reason = _text(raw)
    if len(reason) > MAX_REASON or not reason.isprintable():
        raise _Refused(message("policy.bad_reason", max=MAX_REASON))
    return reason


_PARSERS = {
    "policy_id": _policy_id,
    "revenue_type": _revenue_type,
    "valid_from": _valid_from,
    "branch_bps": _bps,
    "hq_online_bps": _bps,
    "overlay_bps": _overlay_bps,
    "reason": _reason,
}
_DEFAULTS: dict[str, Any] = {"overlay_bps": BPS_TOTAL, "reason": ""}
