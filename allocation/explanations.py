"""Why a lead went where it went, as codes; and how the files (CSV, REPORT.json) say it in English.

A lead at its nearest eligible branch needs no explanation (None). An unassigned lead's is its
reason (`plan.no_location`, ...). A lead placed elsewhere names the nearest eligible branch (or,
in pair mode, the cheapest listed one) and whether it was full or, rarely, passed over with room
and why: the load balance, equal cost, or a baseline's rule. The pages say the same in Chinese
(`app/web/messages.py`).
"""

from __future__ import annotations

from allocation.model import Method, Reason
from coded_messages import Catalogue, Message, message

NEAREST_FULL = "plan.nearest_full"
NEAREST_HAD_ROOM = "plan.nearest_had_room"
CHEAPEST_FULL = "plan.cheapest_full"
CHEAPEST_HAD_ROOM = "plan.cheapest_had_room"
# Why a branch with room was passed over: the optimiser's reasons, or a baseline's rule.
LOAD_BALANCE, EQUAL_COST, LEAD_VALUE = "load_balance", "equal_cost", "lead_value"
_WHY = {LOAD_BALANCE: "load balance", EQUAL_COST: "equal cost", LEAD_VALUE: "lead value"}


def unassigned(reason: Reason) -> Message:
    return message(f"plan.{reason.value}")


def not_nearest(*, branch: str, full: bool, pairs: bool, why: str) -> Message:
    """`why` (load_balance, equal_cost or a baseline's method) matters only when not full."""
    if full:
        return message(CHEAPEST_FULL if pairs else NEAREST_FULL, branch=branch)
    return message(CHEAPEST_HAD_ROOM if pairs else NEAREST_HAD_ROOM, branch=branch, why=why)


def passed_over_because(*, method: Method, balance_weight: float, valued: bool = False) -> str:
    """`valued`: a value objective (issue 15.4) ranked the branches, not distance alone."""
    if method != "optimal":
        return method
    if balance_weight > 0:
        return LOAD_BALANCE
    return LEAD_VALUE if valued else EQUAL_COST


ENGLISH = Catalogue(
    {
        **{f"plan.{reason.value}": reason.value for reason in Reason},
        NEAREST_FULL: "nearest eligible branch {branch} was full",
        NEAREST_HAD_ROOM: "nearest eligible branch {branch} had room ({why})",
        CHEAPEST_FULL: "cheapest listed branch {branch} was full",
        CHEAPEST_HAD_ROOM: "cheapest listed branch {branch} had room ({why})",
    },
    values={"why": lambda why: _WHY.get(why, f"{why} rule")},
)


def in_english(said: Message | None) -> str:
    """The text the files carry (empty for a lead at its nearest branch)."""
    return "" if said is None else ENGLISH.render(said)
