"""A small world for the holding rules: branches near Shenzhen and one far away, leads by CSV.

Everything goes through the product's own services (imports, rounds, follow-up), so the tests
see what users see.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.auth import Principal
from app.branches.importer import import_branches
from app.config import Settings
from app.db import session_scope
from app.leads.importer import import_leads
from app.ownership.holdings import branch_loads
from app.rounds.service import RoundParams, commit_round, run_round
from app.tables import Branch, Lead, Ownership

# NEAR is closest to every Shenzhen lead, then MASS (mass only), then FAR in Beijing.
BRANCHES = """code,name,lat,lon,capacity,tiers
NEAR,福田,22.540,114.050,2,
MASS,南山,22.530,113.930,2,mass
FAR,朝阳,39.920,116.440,5,
"""
HEADER = "external_id,lat,lon,tier,mobile\n"
HQ = Principal(user_id=0, username="hq-test", role="hq", branch_id=None, branch_code=None)


@dataclass(frozen=True)
class World:
    engine: Engine
    settings: Settings
    tmp_path: Path

    def branches(self, content: str = BRANCHES, name: str = "branches.csv") -> None:
        path = self.tmp_path / name
        path.write_text(content, encoding="utf-8")
        with session_scope(self.engine) as session:
            import_branches(session, path=path, actor="test")

    def leads(self, rows: str, name: str = "leads.csv") -> None:
        path = self.tmp_path / name
        path.write_text(HEADER + rows, encoding="utf-8")
        with session_scope(self.engine) as session:
            import_leads(
                session, path=path, actor="test", secret=self.settings.customer_key, channel="app"
            )

    def solve(self, *, commit: bool = False) -> int:
        return run_round(
            self.engine, settings=self.settings, actor="test", params=RoundParams(), commit=commit
        )

    def commit(self, round_id: int) -> None:
        commit_round(self.engine, settings=self.settings, actor="test", round_id=round_id)

    def lead_id(self, external_id: str) -> int:
        with session_scope(self.engine) as session:
            lead = session.exec(select(Lead).where(Lead.external_id == external_id)).one()
            assert lead.id is not None
            return lead.id

    def holders(self) -> dict[str, tuple[str, str | None]]:
        """external_id -> (status, code of the branch the lead shows)."""
        with session_scope(self.engine) as session:
            codes = {b.id: b.code for b in session.exec(select(Branch))}
            return {
                x.external_id: (x.status, codes.get(x.branch_id))
                for x in session.exec(select(Lead).order_by(col(Lead.id)))
            }

    def loads(self) -> dict[str, int]:
        with session_scope(self.engine) as session:
            codes = {b.id: b.code for b in session.exec(select(Branch))}
            return {codes[k]: v for k, v in branch_loads(session).items()}

    def open_owners(self) -> list[tuple[int, str]]:
        """(lead id holding the interval, branch code) of every open ownership interval."""
        with session_scope(self.engine) as session:
            codes = {b.id: b.code for b in session.exec(select(Branch))}
            query = select(Ownership).where(col(Ownership.valid_to).is_(None))
            return sorted((o.lead_id, codes[o.branch_id]) for o in session.exec(query))

    def set_branch(self, code: str, **changes: object) -> None:
        with session_scope(self.engine) as session:
            branch = session.exec(select(Branch).where(Branch.code == code)).one()
            for key, value in changes.items():
                setattr(branch, key, value)
            session.add(branch)
