"""A round as a job: solve (and commit) in a worker, resumable after the worker dies.

The preview's id is remembered as soon as it is stored, so a restarted job does not solve again:
it commits that preview (when asked to), or finds the commit already happened (the commit is
one transaction: it either did or did not).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import session_scope
from app.jobs.service import start_job
from app.jobs.work import JobKind, Work
from app.rounds.committing import committable
from app.rounds.lock import refuse_if_held
from app.rounds.objective import RoundObjective
from app.rounds.service import RoundParams, commit_round, get_round_row, run_round

PREVIEW_PHASES = ("pool", "solve", "store")


def job_params(*, params: RoundParams, commit: bool, round_id: int | None = None) -> dict[str, Any]:
    return {
        "balance_weight": params.balance_weight,
        "max_distance_km": params.max_distance_km,
        "time_limit_s": params.time_limit_s,
        "objective": _objective_json(params.objective),
        "reserve_for_arrivals": params.reserve_for_arrivals,
        "commit": commit,
        "round_id": round_id,
    }


def _objective_json(objective: RoundObjective) -> dict[str, Any]:
    weights = objective.tier_weights_km
    return {"mode": objective.mode, "price_per_km_fen": objective.price_per_km_fen,
            "tier_weights_km": None if weights is None else dict(weights)}  # fmt: skip


def _phases(params: Mapping[str, Any]) -> tuple[str, ...]:
    if params.get("round_id") is not None:
        return ("commit",)
    return (*PREVIEW_PHASES, "commit") if params["commit"] else PREVIEW_PHASES


def _run(work: Work) -> None:
    settings, actor, params = work.settings, work.requested_by, work.params
    round_id = params.get("round_id") or work.result.get("round_id")
    if round_id is None:
        run_round(
            work.engine, settings=settings, actor=actor, commit=params["commit"],
            params=RoundParams(
                balance_weight=params["balance_weight"],
                max_distance_km=params["max_distance_km"],
                time_limit_s=params["time_limit_s"],
                objective=RoundObjective(**params.get("objective", {})),
                reserve_for_arrivals=params.get("reserve_for_arrivals"),
            ),
            progress=work.progress, on_stored=lambda stored: work.remember("round_id", stored),
        )  # fmt: skip
        return
    work.remember("round_id", round_id)
    if params["commit"] and _status(work, round_id) != "committed":
        commit_round(
            work.engine, settings=settings, actor=actor, round_id=round_id, progress=work.progress
        )


def _status(work: Work, round_id: int) -> str:
    with session_scope(work.engine) as session:
        return get_round_row(session, round_id).status


ROUND_JOB = JobKind(name="round", lane="round", phases=_phases, run=_run)


def start_round_job(
    engine: Engine, *, settings: Settings, actor: str, params: RoundParams, commit: bool,
    round_id: int | None = None,
) -> int:  # fmt: skip
    """Queue a round (or the commit of preview `round_id`); refused while a round runs, and a
    commit at once when the round is not a preview that may be committed."""
    if round_id is not None:
        with session_scope(engine) as session:
            committable(session, round_id=round_id)
    refuse_if_held(engine)
    return start_job(
        engine, settings=settings, kind=ROUND_JOB, actor=actor,
        params=job_params(params=params, commit=commit, round_id=round_id),
    )  # fmt: skip
