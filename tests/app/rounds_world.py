"""The pool most round tests start from: five leads imported through the real importer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import Settings, get_settings
from app.db import session_scope
from app.leads.importer import import_leads
from app.tables import Lead
from tests.app.factories import write

# Two near Shenzhen Futian, one near Beijing Chaoyang, one for HNW near Beijing (BJ-CY serves only
# mass|affluent, so it must travel to Shenzhen), one with nothing to locate it.
LEADS = """external_id,lat,lon,tier
SZ1,22.55,114.06,mass
SZ2,22.53,114.03,mass
BJ1,39.93,116.45,affluent
BJ-HNW,39.90,116.40,hnw
NOWHERE,,,mass
"""


@pytest.fixture
def pooled(
    engine: Engine, settings: Settings, branch_ids: dict[str, int], tmp_path: Path
) -> dict[str, int]:
    with session_scope(engine) as session:
        import_leads(
            session,
            path=write(tmp_path, "leads.csv", LEADS),
            actor="test",
            secret=settings.customer_key,
            channel="app",
        )
    with session_scope(engine) as session:
        return {
            lead.external_id: lead.id for lead in session.exec(select(Lead)) if lead.id is not None
        }


@pytest.fixture
def round_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """`o2o` commands in this process, on the test's database."""
    monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()
