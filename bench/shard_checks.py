"""The shard simulation's verification: the shards together against the single node.

Each check returns the lines it prints and the failures it found; the simulation fails (exit
status 1) when any check does. The capacity-hole demonstration shows, on the real shard
databases and in transactions that roll back, why the commit's capacity check is not
shard-local.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlmodel import Session, select

from app.db import session_scope
from app.errors import StalePreview
from app.messages import in_english
from app.ownership.holdings import branch_loads
from app.rounds import fit
from app.tables import AllocationRound, Branch
from bench.shard_world import ID_RANGE, engine_for


@dataclass
class Verdict:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        self.lines.append(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failures.append(what)


@dataclass(frozen=True)
class RoundFigures:
    pool: int
    assigned: int
    objective: float
    gap: float
    km: float
    leads: int
    customers: int


def round_figures(urls: list[str], *, round_id: int) -> RoundFigures:
    """The round over one node or summed over the shards (the plan's figures are global)."""
    pool = assigned = leads = customers = 0
    km = 0.0
    for url in urls:
        with session_scope(engine_for(url)) as session:
            r = session.get(AllocationRound, round_id)
            assert r is not None
            pool, assigned = pool + r.pool_size, assigned + r.assigned
            objective, gap = r.objective or 0.0, r.gap or 0.0
            km += _scalar(session, _KM, round_id=round_id) or 0.0
            leads += _scalar(session, "SELECT count(*) FROM lead")
            customers += _scalar(session, "SELECT count(*) FROM customer")
    return RoundFigures(pool, assigned, objective, gap, km, leads, customers)


_KM = """SELECT sum(distance_km) FROM round_assignment
         WHERE round_id = :round_id AND branch_id IS NOT NULL"""


def verify(single: RoundFigures, sharded: RoundFigures, shard_urls: list[str]) -> Verdict:
    verdict = Verdict()
    verdict.check(single.leads == sharded.leads, f"leads {single.leads} = {sharded.leads}")
    verdict.check(single.customers == sharded.customers,
                  f"customers {single.customers} = {sharded.customers}")  # fmt: skip
    verdict.check(single.pool == sharded.pool, f"pool {single.pool} = {sharded.pool}")
    verdict.check(single.assigned == sharded.assigned,
                  f"assigned {single.assigned} = {sharded.assigned}")  # fmt: skip
    gap = max(single.gap, sharded.gap) + 1e-9
    for what, a, b in (("objective", single.objective, sharded.objective),
                       ("total km", single.km, sharded.km)):  # fmt: skip
        apart = abs(a - b) / max(abs(a), 1.0)
        verdict.check(
            apart <= gap, f"{what} {a:,.1f} vs {b:,.1f}: {apart:.2e} apart, gap {gap:.1e}"
        )
    _check_capacity(verdict, shard_urls)
    for k, url in enumerate(shard_urls):
        _check_shard(verdict, k, url)
    _check_customers_disjoint(verdict, shard_urls)
    return verdict


def _check_capacity(verdict: Verdict, urls: list[str]) -> None:
    held: dict[int, int] = {}
    for url in urls:
        with session_scope(engine_for(url)) as session:
            for branch_id, n in branch_loads(session).items():
                held[branch_id] = held.get(branch_id, 0) + n
            branches = list(session.exec(select(Branch)))
    over = [b.code for b in branches if held.get(b.id or 0, 0) > b.capacity]
    full = sum(held.get(b.id or 0, 0) == b.capacity for b in branches)
    verdict.check(not over, f"every branch within capacity, summed over shards ({full} full; "
                            f"over: {over or 'none'})")  # fmt: skip


# Each query counts rows that break a rule on one shard; all must be zero.
_SHARD_RULES = {
    "customers with leads at two branches": """SELECT count(*) FROM (SELECT customer_id FROM lead
        WHERE branch_id IS NOT NULL GROUP BY customer_id HAVING count(DISTINCT branch_id) > 1) x""",
    "customers with two open owners": """SELECT count(*) FROM (SELECT customer_id FROM ownership
        WHERE valid_to IS NULL GROUP BY customer_id HAVING count(*) > 1) x""",
    "ownership rows whose lead or customer is not on this shard": """SELECT count(*)
        FROM ownership o WHERE NOT EXISTS (SELECT 1 FROM lead l JOIN customer c
        ON c.id = l.customer_id WHERE l.id = o.lead_id AND c.id = o.customer_id)""",
    "round rows whose lead (or followed lead of the same customer) is not on this shard":
        """SELECT count(*) FROM round_assignment a LEFT JOIN lead l ON l.id = a.lead_id
        LEFT JOIN lead f ON f.id = a.follows_lead_id WHERE l.id IS NULL
        OR (a.follows_lead_id IS NOT NULL AND f.customer_id IS DISTINCT FROM l.customer_id)""",
    "placement rows whose lead is not on this shard or not of that customer": """SELECT
        count(*) FROM lead_placement p LEFT JOIN lead l ON l.id = p.lead_id
        WHERE l.customer_id IS DISTINCT FROM p.customer_id""",
    "rows with an id outside this shard's range": """SELECT
        (SELECT count(*) FROM lead WHERE id / :base <> :k + 1 OR customer_id / :base <> :k + 1)
        + (SELECT count(*) FROM ownership WHERE lead_id / :base <> :k + 1)
        + (SELECT count(*) FROM round_assignment WHERE lead_id / :base <> :k + 1)""",
}  # fmt: skip


def _check_shard(verdict: Verdict, k: int, url: str) -> None:
    with session_scope(engine_for(url)) as session:
        for what, sql in _SHARD_RULES.items():
            n = _scalar(session, sql, base=ID_RANGE, k=k)
            verdict.check(n == 0, f"shard {k}: {n} {what}")


def _check_customers_disjoint(verdict: Verdict, urls: list[str]) -> None:
    seen: set[str] = set()
    shared = 0
    for url in urls:
        with session_scope(engine_for(url)) as session:
            keys = {row[0] for row in session.execute(text("SELECT customer_key FROM customer"))}
        shared += len(keys & seen)
        seen |= keys
    verdict.check(shared == 0, f"{shared} customers found on two shards")


def capacity_hole(urls: list[str], *, round_id: int) -> str:
    """Lower the capacity of the branch the plan spreads most over shards to the largest single
    shard's part (in transactions rolled back): every shard's own commit check passes, the sum
    does not. Returns what happened, in words."""
    parts = []
    for url in urls:
        with session_scope(engine_for(url)) as session:
            parts.append(fit.node_loads(session, round_id=round_id))
    branch_id, total, largest = _most_spread(parts)
    if total == largest:
        return "capacity hole: no branch took customers from two shards; nothing to show"
    passed = 0
    for url in urls:
        with engine_for(url).connect() as conn, conn.begin() as transaction:
            conn.execute(text("UPDATE branch SET capacity = :c WHERE id = :b"),
                         {"c": largest, "b": branch_id})  # fmt: skip
            passed += _own_check_passes(conn, round_id=round_id)
            transaction.rollback()
    with session_scope(engine_for(urls[0])) as session:
        branches = list(session.exec(select(Branch)))
    for branch in branches:
        if branch.id == branch_id:
            branch.capacity = largest
    refusals = [in_english(m) for m in fit.overfull(branches, parts)]
    return (
        f"capacity hole: branch id {branch_id} holds {total} customers after the commit, "
        f"at most {largest} from one shard; its capacity lowered to {largest} "
        f"(rolled back): the shard's own check passed on {passed}/{len(urls)} shards; "
        f"the coordinator's sum refused: {'; '.join(refusals) or 'NOTHING (wrong!)'}"
    )


def _most_spread(parts: list[fit.NodeLoads]) -> tuple[int, int, int]:
    """(branch id, its total load, the largest one shard's part) with the widest spread."""
    best = (0, 0, 0)
    for branch_id in {b for part in parts for b in part.planned}:
        shares = [p.planned.get(branch_id, 0) + p.kept.get(branch_id, 0) for p in parts]
        if sum(shares) - max(shares) > best[1] - best[2]:
            best = (branch_id, sum(shares), max(shares))
    return best


def _own_check_passes(conn, *, round_id: int) -> bool:  # type: ignore[no-untyped-def]
    with Session(bind=conn) as session:
        try:
            fit.check_plan_still_fits(session, round_id=round_id)
        except StalePreview:
            return False
    return True


def _scalar(session, sql: str, **params: object):  # type: ignore[no-untyped-def]
    return session.execute(text(sql), params).scalar_one()
