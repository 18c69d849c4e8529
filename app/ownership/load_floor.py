"""Full branches known without counting them: what routing needs at 1.3M leads (issue 16.2).

Counting a branch's load (`holdings.branch_load`, the one capacity count) reads its thousands
of follow-up leads. After a round most branches are full and a new lead's preferred branches
come first, so routing counted branch after branch (9 counts, 0.5-1.3 s per intake).

A load rises and falls with the leads, and it can only fall through a lead write that the
database records (migration 0022's triggers add the branch to `branch_load_drop`: a lead leaving
follow-up there, or a customer of the branch converting). So an exact count routing stored in
`branch_load_seen` remains a floor of the load while no drop of that branch is recorded, and a
branch whose floor reaches its capacity is full: skipped exactly, without counting. A branch
that might have room is always counted exactly before it is given a customer.

Only routing reads and writes these rows, with every active branch row locked (one router at a
time). It removes a branch's recorded drops BEFORE counting it: a drop committed between the
count and the removal would otherwise be lost with the count not seeing it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.ownership.holdings import branch_load, room_left
from app.tables import Branch, BranchLoadDrop, BranchLoadSeen


def known_full(session: Session, branches: Iterable[Branch]) -> set[int]:
    """Ids of the branches whose stored floor reaches their capacity, no drop recorded since."""
    capacity = {b.id: b.capacity for b in branches if b.id is not None}
    dropped = select(BranchLoadDrop.id).where(
        col(BranchLoadDrop.branch_id) == col(BranchLoadSeen.branch_id)
    )
    query = select(BranchLoadSeen).where(~dropped.exists())
    return {
        seen.branch_id
        for seen in session.exec(query)
        if seen.branch_id in capacity and seen.customers >= capacity[seen.branch_id]
    }


def count_and_keep(session: Session, branch: Branch) -> int:
    """The branch's exact load, stored as its new floor (its recorded drops consumed first)."""
    assert branch.id is not None
    session.execute(delete(BranchLoadDrop).where(col(BranchLoadDrop.branch_id) == branch.id))
    load = branch_load(session, branch.id)
    seen = session.get(BranchLoadSeen, branch.id)
    if seen is None:
        seen = BranchLoadSeen(branch_id=branch.id, customers=load)
    seen.customers = load
    session.add(seen)
    return load


def has_room_counted(session: Session, branch: Branch) -> bool:
    """May the (locked) branch take one more customer? Counted exactly, the floor kept."""
    return room_left(branch, load=count_and_keep(session, branch)) > 0


def overstated_floors(session: Session) -> dict[int, tuple[int, int]]:
    """The consistency check: branches whose floor, with no drop recorded, exceeds the load
    counted from the leads now ({branch id: (floor, load)}); empty when the floors hold."""
    dropped = set(session.exec(select(BranchLoadDrop.branch_id)))
    found = {}
    for seen in session.exec(select(BranchLoadSeen)):
        if seen.branch_id in dropped:
            continue
        load = branch_load(session, seen.branch_id)
        if seen.customers > load:
            found[seen.branch_id] = (seen.customers, load)
    return found
