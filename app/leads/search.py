"""Finding a lead by what a user has at hand: a mobile number, its last four digits, a name or
an external id (issue 17.4).

Mobile numbers are sealed (AES-GCM with a random nonce), so SQL cannot compare them:
- a full number is found through its keyed hash, the customer key every lead of the person
  shares (an index lookup, for HQ and auditors over every lead);
- a branch searches its own leads only (a few thousand), so their numbers are opened and
  compared in the process: the last four digits, or the whole number.
Anything else matches a name containing the text, or an external id equal to it.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, false, or_, select
from sqlmodel import Session, col

from allocation.locality.mobile import normalise_mobile
from app.auth import Principal
from app.leads.repository import visible_leads
from app.leads.rows import customer_key
from app.privacy.cipher import cipher_for
from app.tables import Customer, Lead

MAX_TEXT = 64
_LAST_FOUR = re.compile(r"\d{4}")


def search_condition(
    session: Session, *, principal: Principal, text: str, secret: bytes
) -> ColumnElement[bool]:
    """The leads the text finds, as a condition to add to a scoped query."""
    text = text.strip()[:MAX_TEXT]
    mobile = normalise_mobile(text)
    if principal.is_branch and (mobile or _LAST_FOUR.fullmatch(text)):
        return _own_numbers_ending(session, principal=principal, digits=mobile or text)
    if mobile:
        key = customer_key(mobile, secret=secret)
        person = select(col(Customer.id)).where(col(Customer.customer_key) == key)
        return col(Lead.customer_id).in_(person)
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(col(Lead.external_id) == text, col(Lead.name).like(pattern, escape="\\"))


def _own_numbers_ending(
    session: Session, *, principal: Principal, digits: str
) -> ColumnElement[bool]:
    sealed = visible_leads(principal).with_only_columns(col(Lead.id), col(Lead.mobile))
    sealed = sealed.where(col(Lead.mobile).is_not(None))
    cipher = cipher_for(session)
    found = [
        lead_id
        for lead_id, stored in session.execute(sealed)
        if (cipher.open(stored) or "").endswith(digits)
    ]
    return col(Lead.id).in_(found) if found else false()
