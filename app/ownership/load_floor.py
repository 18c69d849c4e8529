"""Branch loads known without counting them: what routing needs at 1.3M leads (issue 16.2).

Counting a branch's load (`holdings.branch_load`, the one capacity count) reads its thousands
of follow-up leads: 26-28 ms at 1.3M leads, a third of a routed intake.

A load rises and falls with the leads, and the database records every write that may move it,
whoever writes: a possible fall in `branch_load_drop` (migration 0022), a possible rise in
`branch_load_rise` (0026). So an exact count routing stored in `branch_load_seen` is
- the load itself while neither is recorded for the branch since: routing uses it as it is;
- a floor of the load while no drop is recorded: a branch whose floor reaches its capacity is
  full, skipped without counting;
- otherwise nothing, and the branch is counted again before it is given a customer.

Only routing reads and writes the stored counts, with every active branch row locked (one
router at a time). It removes a branch's records BEFORE counting it: one committed between the
count and the removal would otherwise be lost with the count not seeing it. After placing a
customer it removes the rise its own placement recorded (its transaction's, no other) and
stores the count plus one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, insert, literal, union_all, update
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session, col, select

from app.bulk import plain_rows
from app.ownership.holdings import branch_load, branch_loads
from app.tables import Branch, BranchLoadDrop, BranchLoadRise, BranchLoadSeen


@dataclass(slots=True)
class LoadBook:
    """The stored counts and the branches recorded as touched since, read once per routing."""

    seen: dict[int, int]
    dropped: set[int]
    risen: set[int]

    def known_full(self, branch_id: int, capacity: int) -> bool:
        floor = self.seen.get(branch_id)
        return floor is not None and branch_id not in self.dropped and floor >= capacity

    def exact(self, branch_id: int) -> int | None:
        if branch_id in self.dropped or branch_id in self.risen:
            return None
        return self.seen.get(branch_id)

    def keep(self, branch_id: int, load: int) -> None:
        self.seen[branch_id] = load
        self.dropped.discard(branch_id)
        self.risen.discard(branch_id)


_BOOK = union_all(
    select(literal("seen"), BranchLoadSeen.branch_id, BranchLoadSeen.customers),
    select(literal("drop"), BranchLoadDrop.branch_id, literal(0)).distinct(),
    select(literal("rise"), BranchLoadRise.branch_id, literal(0)).distinct(),
)


def read_book(session: Session) -> LoadBook:
    """One query: a routed intake is a few milliseconds of round trips."""
    book = LoadBook(seen={}, dropped=set(), risen=set())
    for kind, branch_id, customers in plain_rows(session, _BOOK):
        if kind == "seen":
            book.seen[branch_id] = customers
        else:
            (book.dropped if kind == "drop" else book.risen).add(branch_id)
    return book


def known_full(session: Session, branches: Iterable[Branch]) -> set[int]:
    """Ids of the branches whose stored floor reaches their capacity, no drop recorded since."""
    book = read_book(session)
    return {b.id for b in branches if b.id is not None and book.known_full(b.id, b.capacity)}


def load_now(session: Session, branch_id: int, book: LoadBook) -> int:
    """The (locked) branch's exact load: the stored count if untouched since, else counted."""
    stored = book.exact(branch_id)
    if stored is not None:
        return stored
    return count_and_keep(session, branch_id, book)


def count_and_keep(session: Session, branch_id: int, book: LoadBook) -> int:
    """The branch's exact load, stored as its new count (its recorded touches consumed first)."""
    for record in (BranchLoadDrop, BranchLoadRise):
        session.execute(delete(record).where(col(record.branch_id) == branch_id))
    load = branch_load(session, branch_id)
    _store(session, branch_id, load, stored_before=branch_id in book.seen)
    book.keep(branch_id, load)
    return load


_OF_BRANCH: BindParameter[int] = bindparam("of_branch")
# Built once: a routed intake runs them, and building them cost more than running them.
_DROP_OWN_RISE = {
    # PostgreSQL: the rise recorded by this transaction. SQLite: one writer at a time, so
    # every rise of the branch since the count is this transaction's.
    "postgresql": delete(BranchLoadRise).where(
        col(BranchLoadRise.branch_id) == _OF_BRANCH, col(BranchLoadRise.txid) == func.txid_current()
    ),
    "sqlite": delete(BranchLoadRise).where(col(BranchLoadRise.branch_id) == _OF_BRANCH),
}
_UPDATE_SEEN = (
    update(BranchLoadSeen)
    .where(col(BranchLoadSeen.branch_id) == _OF_BRANCH)
    .values(customers=bindparam("load"))
)
_INSERT_SEEN = insert(BranchLoadSeen).values(branch_id=_OF_BRANCH, customers=bindparam("load"))
# What `placed_one_customer` runs, by dialect and by whether the branch had a stored count:
# on PostgreSQL the removal and the store are one statement (one round trip of a routed
# intake); SQLite has no writing CTE.
_PLACED = {
    ("postgresql", True): (_UPDATE_SEEN.add_cte(_DROP_OWN_RISE["postgresql"].cte("gone")),),
    ("postgresql", False): (_INSERT_SEEN.add_cte(_DROP_OWN_RISE["postgresql"].cte("gone")),),
    ("sqlite", True): (_DROP_OWN_RISE["sqlite"], _UPDATE_SEEN),
    ("sqlite", False): (_DROP_OWN_RISE["sqlite"], _INSERT_SEEN),
}


def placed_one_customer(
    session: Session, branch_id: int, book: LoadBook, *, load_before: int
) -> None:
    """Routing gave the branch one new customer: its count is one more, and the rise that its
    own placement recorded tells nothing new."""
    connection = session.connection()
    params = {"of_branch": branch_id, "load": load_before + 1}
    for statement in _PLACED[(connection.dialect.name, branch_id in book.seen)]:
        connection.execute(statement, params)
    book.keep(branch_id, load_before + 1)


def _store(session: Session, branch_id: int, load: int, *, stored_before: bool) -> None:
    statement = _UPDATE_SEEN if stored_before else _INSERT_SEEN
    session.connection().execute(statement, {"of_branch": branch_id, "load": load})


def recount_all(session: Session) -> None:
    """Store every branch's exact load and consume every record: a round commit, which holds
    every branch row and has just changed most loads, so that the intakes after it count no
    branch again (a count is 15-28 ms at 1.3M leads; all of them at once, 1.3-1.6 s).
    The records go first, as in `count_and_keep`: one committed before the count is then
    seen by it, one committed after it survives."""
    for record in (BranchLoadDrop, BranchLoadRise, BranchLoadSeen):
        session.execute(delete(record))
    loads = branch_loads(session)
    branch_ids = session.exec(select(Branch.id)).all()
    rows = [{"branch_id": b, "customers": loads.get(b, 0)} for b in branch_ids if b is not None]
    if rows:
        session.execute(insert(BranchLoadSeen), rows)


def misstated_counts(session: Session) -> dict[int, tuple[str, int, int]]:
    """The consistency check: branches whose stored count says more than the leads allow, as
    {branch id: (what it claims, stored, load counted now)}: a floor (no drop recorded) above
    the load, or an exact count (nothing recorded) that is not the load. Empty when they hold."""
    book = read_book(session)
    found = {}
    for branch_id, stored in book.seen.items():
        if branch_id in book.dropped:
            continue
        load = branch_load(session, branch_id)
        if stored > load:
            found[branch_id] = ("floor", stored, load)
        elif branch_id not in book.risen and stored != load:
            found[branch_id] = ("exact", stored, load)
    return found
