"""The customer a lead belongs to: found by its keyed mobile hash, or one of its own."""

from __future__ import annotations

from sqlmodel import Session

from app.leads.rows import solo_customer_key
from app.tables import Customer


def solo_customer(session: Session, *, channel: str, external_id: str) -> int:
    """Create the customer of a lead that links to nobody (no mobile number); returns its id.
    Imports and intake create these set-based (app/leads/staging.py); this is for one lead."""
    customer = Customer(customer_key=solo_customer_key(channel, external_id))
    session.add(customer)
    session.flush()
    assert customer.id is not None
    return customer.id
