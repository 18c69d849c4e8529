"""The shard simulation's coordinator: one round over K shard databases, with the product's code.

The coordinator reads every shard's pool (app/rounds/pool), solves ONCE on the concatenated pool
with the cluster-wide capacities (app/rounds/solving), stores each shard's part of the round
(app/rounds/service's store), then every shard commits its part in its own process with the
product's commit (app/rounds/committing). The capacity re-check is a per-branch aggregate over
all customers, which no shard sees whole: each shard sends its part (app/rounds/fit.node_loads)
while holding its branch rows locked, the coordinator sums them (fit.overfull) and only then
lets the shards commit. Citus would run that aggregate on the coordinator inside the one
distributed transaction; here each shard's transaction stays open until every shard has done
its part, then all commit (no two-phase commit: the server has max_prepared_transactions 0).
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from sqlmodel import col, select

from allocation.model import AllocationParams
from app.config import Settings
from app.db import make_engine, session_scope
from app.messages import in_english
from app.ownership.deadline import followup_rule
from app.ownership.holdings import branch_loads
from app.rounds import committing, fit
from app.rounds.objective import RoundObjective, objective_spec
from app.rounds.pool import PoolLead, load_pool
from app.rounds.service import RoundParams, _store
from app.rounds.solving import Outcome, SolvedPool, build_instance, snapshot, solve_instance
from app.tables import Branch
from app.tables.base import utcnow
from bench.shard_world import ID_RANGE, engine_for, forget_engines, settings_for


@dataclass(frozen=True)
class ShardRound:
    round_id: int
    seconds: dict[str, float]  # phase -> wall seconds


def shard_of_lead(lead_id: int) -> int:
    return lead_id // ID_RANGE - 1


def solve_and_store(urls: list[str], *, settings: Settings) -> ShardRound:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    lapsed_before = followup_rule(settings).cutoff(utcnow())
    pool: list[PoolLead] = []
    loads: dict[int, int] = {}
    for url in urls:
        with session_scope(engine_for(url)) as session:
            pool += load_pool(session, lapsed_before=lapsed_before)
            for branch_id, n in branch_loads(session, stale_before=lapsed_before).items():
                loads[branch_id] = loads.get(branch_id, 0) + n
    with session_scope(engine_for(urls[0])) as session:  # reference tables
        branches = list(session.exec(select(Branch).order_by(col(Branch.id))))
        objective = objective_spec(session, RoundObjective())
    # pool.remaining_capacity, cluster-wide: a branch's load is the sum of the shards' loads.
    capacities = {b.id or 0: max(b.capacity - loads.get(b.id or 0, 0), 0) for b in branches}
    seconds["read pools"] = time.perf_counter() - started
    started = time.perf_counter()
    instance = build_instance(
        branches=branches, capacities=capacities, pool=pool, params=AllocationParams(),
        objective=objective,
    )  # fmt: skip
    solved = solve_instance(
        instance,
        time_limit_s=settings.round_time_limit_seconds,
        baseline_max_leads=settings.round_baseline_max_leads,
    )
    seconds["solve"] = time.perf_counter() - started
    started = time.perf_counter()
    round_id = _store_parts(urls, solved=solved, instance=snapshot(instance))
    seconds["store"] = time.perf_counter() - started
    return ShardRound(round_id=round_id, seconds=seconds)


def _store_parts(urls: list[str], *, solved: SolvedPool, instance: dict[str, object]) -> int:
    """Each shard stores the round with its own leads' rows; the round id is the same on all."""
    parts: list[list[Outcome]] = [[] for _ in urls]
    for outcome in solved.outcomes:
        parts[shard_of_lead(outcome.lead_id)].append(outcome)
    round_ids = set()
    for url, outcomes in zip(urls, parts, strict=True):
        part = SolvedPool(plan=solved.plan, outcomes=outcomes, report=solved.report)
        with session_scope(engine_for(url)) as session:
            round_ids.add(
                _store(session, actor="bench", params=RoundParams(), solved=part,
                       instance=instance, progress=lambda *_: None)
            )  # fmt: skip
    assert len(round_ids) == 1, f"the shards gave the round different ids: {round_ids}"
    return round_ids.pop()


def commit_on_shards(urls: list[str], *, round_id: int) -> tuple[float, list[float], list[str]]:
    """(wall seconds, each shard's commit seconds, why it was refused: empty if committed).

    Each shard commits in its own process, in steps: lock and report its part of the loads;
    on the coordinator's go, run the product's commit; on a second go, commit the transaction.
    A shard that fails a step answers with the reason and rolls back; so does every shard the
    coordinator then tells to stop."""
    context = multiprocessing.get_context("fork")
    pipes = [context.Pipe() for _ in urls]
    workers = [
        context.Process(target=_commit_worker, args=(url, round_id, child))
        for url, (_, child) in zip(urls, pipes, strict=True)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    parents = [parent for parent, _ in pipes]
    parts = {k: parent.recv() for k, parent in enumerate(parents)}
    problems = _failures(parts)
    if not problems:
        with session_scope(engine_for(urls[0])) as session:
            branches = list(session.exec(select(Branch)))
        problems = [in_english(p) for p in fit.overfull(branches, parts.values())]
    done = _round_trip(parents, _answered(parts), go=not problems)
    problems = problems or _failures(done)
    finished = _round_trip(parents, _answered(done), go=not problems)
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    return wall, [] if problems else list(finished.values()), problems


def _failures(replies: dict[int, Any]) -> list[str]:
    return [f"shard {k}: {r}" for k, r in replies.items() if isinstance(r, str)]


def _answered(replies: dict[int, Any]) -> list[int]:
    return [k for k, r in replies.items() if not isinstance(r, str)]


def _round_trip(parents: list[Connection], shards: list[int], *, go: bool) -> dict[int, Any]:
    for k in shards:
        parents[k].send(go)
    return {k: parents[k].recv() for k in shards}


class _Refused(Exception):
    """The coordinator said no: the shard's transaction rolls back."""


def _commit_worker(url: str, round_id: int, conn: Connection) -> None:
    forget_engines()
    settings = settings_for(url)
    engine = make_engine(settings)
    started = time.perf_counter()
    try:
        with session_scope(engine) as session:
            fit.check_plan_still_fits(session, round_id=round_id)  # locks the branch rows
            conn.send(fit.node_loads(session, round_id=round_id))
            if not conn.recv():
                raise _Refused
            committing.commit(session, round_id=round_id, actor="bench", settings=settings)
            conn.send(time.perf_counter() - started)
            if not conn.recv():
                raise _Refused
        conn.send(time.perf_counter() - started)
    except _Refused:
        conn.send("rolled back")
    except Exception as exc:  # the shard's own refusal (or failure) goes to the coordinator
        conn.send(f"{type(exc).__name__}: {exc}")
    finally:
        engine.dispose()
