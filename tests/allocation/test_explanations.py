"""A lead's explanation is a code with its values; the files say it in English."""

from __future__ import annotations

from allocation.explanations import CHEAPEST_FULL, ENGLISH, NEAREST_FULL, in_english
from allocation.model import PairSpec, Reason
from allocation.report import explanation_messages, explanations
from allocation.solve import solve
from coded_messages import message
from tests.allocation.factories import branch, lead, problem


def test_a_lead_moved_off_its_full_nearest_branch_says_so_as_a_code() -> None:
    p = problem(
        [branch("NEAR", 30.0, 120.0, 1), branch("FAR", 30.0, 120.3, 5)],
        [lead("L0", 30.0, 120.0), lead("L1", 30.0, 120.01)],
    )
    plan = solve(p)
    moved = plan.assignment(problem=p, index=1)
    assert moved.message == message(NEAREST_FULL, branch="NEAR")
    assert plan.assignment(problem=p, index=0).message is None
    assert explanation_messages(problem=p, plan=plan) == [None, moved.message]
    assert explanations(problem=p, plan=plan) == ["", "nearest eligible branch NEAR was full"]


def test_in_pair_mode_the_cheapest_listed_branch_was_full() -> None:
    p = problem(
        [branch("CHEAP", 30.0, 120.0, 1), branch("DEAR", 30.0, 120.3, 5)],
        [lead("L0", 30.0, 120.0), lead("L1", 30.0, 120.01)],
        pairs=[PairSpec("L0", "CHEAP", 1.0), PairSpec("L1", "CHEAP", 2.0),
               PairSpec("L1", "DEAR", 9.0)],
    )  # fmt: skip
    moved = solve(p).assignment(problem=p, index=1)
    assert moved.branch_code == "DEAR"
    assert moved.message == message(CHEAPEST_FULL, branch="CHEAP")
    assert moved.explanation == "cheapest listed branch CHEAP was full"


def test_an_unassigned_lead_is_explained_by_its_reason_as_before() -> None:
    p = problem([branch("B0", 30.0, 120.0, 2)], [lead("L0", None, None)])
    said = solve(p).assignment(problem=p, index=0).message
    assert said == message("plan.no_location")
    assert in_english(said) == Reason.NO_LOCATION.value


def test_a_branch_passed_over_with_room_names_the_rule_that_passed_it_over() -> None:
    assert ENGLISH.render(message("plan.nearest_had_room", branch="A", why="load_balance")) == (
        "nearest eligible branch A had room (load balance)"
    )
    assert ENGLISH.render(message("plan.nearest_had_room", branch="A", why="round_robin")) == (
        "nearest eligible branch A had room (round_robin rule)"
    )


def test_every_unassigned_reason_has_a_code() -> None:
    assert {f"plan.{r.value}" for r in Reason} <= ENGLISH.codes
