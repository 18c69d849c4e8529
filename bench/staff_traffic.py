"""The open-loop traffic of bench/staff_load.py: what staff do, when, and how long it took.

Arrivals are a Poisson process of the aggregate rate (the sum of every staff member's own
exponential think time); each arrival is one action of a uniformly chosen staff member.
Latency runs from the arrival's *scheduled* time to the end of the response, so a server (or
a generator) that falls behind is charged for the wait: no coordinated omission.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from bench.staff_world import Staff

# Share of each action in the mix. Updates (contacted, converted, return) are 25%.
MIX = {"list": 0.60, "open": 0.15, "contacted": 0.14, "converted": 0.08, "return": 0.03}
UPDATES = ("contacted", "converted", "return")
# The success status of each action; 409 (the lead changed under us) is an expected refusal.
SUCCESS = {"list": 200, "open": 200, "contacted": 200, "converted": 200, "return": 204}
EXPECTED_REFUSALS = (409,)
REASONS = ("客户已有其他券商账户", "电话空号", "客户要求不再联系", "不在本营业部服务范围")


@dataclass(slots=True)
class Results:
    """Latencies (ms) per action, split into warm-up and measured, and what went wrong."""

    measured_from: float
    latency: dict[str, list[float]] = field(default_factory=dict)
    warmup: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    max_dispatch_lag_ms: float = 0.0

    def record(self, action: str, scheduled: float, finished: float, outcome: str) -> None:
        if scheduled < self.measured_from:
            self.warmup[action] += 1
            return
        self.latency.setdefault(action, []).append((finished - scheduled) * 1000)
        if outcome == "refused":
            self.refused[action] += 1
        elif outcome != "ok":
            self.errors[f"{action}: {outcome}"] += 1


def pick_request(staff: Staff, rng: random.Random) -> tuple[str, str, str, dict[str, str] | None]:
    """(action, method, path, json body) for one arrival; updates change the deck at once."""
    action = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    if action == "open" and staff.deck:
        return action, "GET", f"/api/v1/leads/{rng.choice(list(staff.deck))}", None
    if action in UPDATES:
        allowed = ("assigned",) if action == "contacted" else ("assigned", "contacted")
        open_ids = [lead for lead, status in staff.deck.items() if status in allowed]
        if open_ids:
            lead = rng.choice(open_ids)
            # Updated before sending so that no second arrival acts on the same state.
            if action == "contacted":
                staff.deck[lead] = "contacted"
            else:
                del staff.deck[lead]
            body = {"reason": rng.choice(REASONS)} if action == "return" else None
            return action, "POST", f"/api/v1/leads/{lead}/{action}", body
    return "list", "GET", "/api/v1/leads?" + _list_query(rng), None


def _list_query(rng: random.Random) -> str:
    """A page of 50 as staff ask for it: mostly open work, various orders, some second pages."""
    status = rng.choices(["", "assigned", "contacted", "converted"], weights=[3, 5, 2, 1])[0]
    sort = rng.choices(["oldest", "newest", "id"], weights=[5, 3, 2])[0]
    offset = 50 if rng.random() < 0.2 else 0
    query = f"limit=50&sort={sort}&offset={offset}"
    return query + (f"&status={status}" if status else "")


@dataclass(slots=True)
class Gates:
    """What a request waits for after its arrival; the wait counts in its latency.

    `people`: one lock per user, because a person waits for one page before the next (and so
    a user's actions reach the server in the order they were drawn). `connections`: the pool
    bound, kept here and not inside httpx, whose pool slows down badly with many waiters.
    """

    people: dict[str, asyncio.Lock]
    connections: asyncio.Semaphore


class Sender(Protocol):
    async def request(
        self, method: str, path: str, *, headers: dict[str, str], body: object | None = None
    ) -> int: ...


class HttpxSender:
    """httpx behind the same call as bench/lean_http.py (`--client httpx`)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(
        self, method: str, path: str, *, headers: dict[str, str], body: object | None = None
    ) -> int:
        response = await self.client.request(method, path, headers=headers, json=body)
        return response.status_code


async def act(
    client: Sender,
    staff: Staff,
    request: tuple[str, str, str, dict[str, str] | None],
    *,
    scheduled: float,
    gates: Gates,
    results: Results,
) -> None:
    action, method, path, body = request
    headers = {"Authorization": f"Bearer {staff.token}"}
    async with gates.people[staff.username], gates.connections:
        try:
            outcome = _outcome(
                action, await client.request(method, path, headers=headers, body=body)
            )
        except (httpx.HTTPError, OSError, EOFError, TimeoutError, ValueError) as exc:
            outcome = type(exc).__name__  # timeouts and broken connections are errors too
    results.record(action, scheduled, asyncio.get_running_loop().time(), outcome)


def _outcome(action: str, status: int) -> str:
    if status == SUCCESS[action]:
        return "ok"
    return "refused" if status in EXPECTED_REFUSALS else f"HTTP {status}"


async def run_open_loop(
    client: Sender,
    staff: list[Staff],
    *,
    rate: float,
    warmup_s: float,
    measure_s: float,
    connections: int,
    drain_s: float,
    seed: int,
) -> Results:
    """Send arrivals at their scheduled times for warm-up + measurement, then drain.

    Requests still unanswered `drain_s` after the last arrival are cancelled and counted as
    errors, so an overloaded server cannot make the run last for ever.
    """
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    gates = Gates({s.username: asyncio.Lock() for s in staff}, asyncio.Semaphore(connections))
    start = loop.time() + 0.2
    results = Results(measured_from=start + warmup_s)
    end = start + warmup_s + measure_s
    pending: dict[asyncio.Task[None], tuple[str, float]] = {}
    scheduled = start
    while True:
        scheduled += rng.expovariate(rate)
        if scheduled >= end:
            break
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            results.max_dispatch_lag_ms = max(results.max_dispatch_lag_ms, -delay * 1000)
        member = rng.choice(staff)
        request = pick_request(member, rng)
        task = asyncio.create_task(
            act(client, member, request, scheduled=scheduled, gates=gates, results=results)
        )
        pending[task] = (request[0], scheduled)
        task.add_done_callback(lambda done: pending.pop(done, None))
    await _drain(pending, drain_s=drain_s, results=results)
    return results


async def _drain(
    pending: dict[asyncio.Task[None], tuple[str, float]], *, drain_s: float, results: Results
) -> None:
    if not pending:
        return
    _, late = await asyncio.wait(list(pending), timeout=drain_s)
    now = asyncio.get_running_loop().time()
    for task in late:
        action, scheduled = pending[task]
        task.cancel()
        results.record(action, scheduled, now, "unfinished at the end")
    await asyncio.gather(*late, return_exceptions=True)
