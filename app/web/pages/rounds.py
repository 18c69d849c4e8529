"""Allocation rounds as HQ reads them: the list, one round against its baselines, its assignments.

Built on `app.rounds.queries` (the round and its report); the few extra reads (a page of
assignments with the lead and branch names, the round lock, the pool count) live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.messages import from_columns
from app.rounds.pool import POOL_STATUSES
from app.rounds.queries import list_rounds, read_round
from app.rounds.schemas import RoundRead
from app.tables import AllocationRound, Branch, Job, Lead, RoundAssignment, RoundLock
from app.web.labels import km, share
from app.web.pages.round_charts import RoundCharts, round_charts
from app.web.pages.round_shadow import AdvisorGains, advisor_gains
from coded_messages import Message

ROUNDS_PER_PAGE = 20
ASSIGNMENTS_PER_PAGE = 50
METHODS = (
    ("plan", "本轮方案", "最优化求解"),
    ("greedy", "贪心", "就近且有空位"),
    ("round_robin", "轮询", "依次轮流分配"),
    ("weighted_random", "加权随机", "按容量加权随机"),
)


@dataclass(frozen=True, slots=True)
class RunningRound:
    holder: str
    since: datetime | None


@dataclass(frozen=True, slots=True)
class RoundList:
    rounds: list[RoundRead]
    page: int
    pages: int
    total: int
    pool: int
    running: RunningRound | None
    active_job: int | None  # the round job queued or running, if any


def total_km(report: dict[str, Any]) -> float | None:
    value = (report.get("distance") or {}).get("total_km")
    return None if value is None else float(value)


def running_round(session: Session) -> RunningRound | None:
    """Who holds the round lock now (someone is solving or committing), if anyone."""
    lock = session.get(RoundLock, 1)
    if lock is None or lock.holder is None:
        return None
    return RunningRound(holder=lock.holder.split(":")[0], since=lock.acquired_at)


def active_round_job(session: Session) -> int | None:
    active = col(Job.status).in_(("queued", "running"))
    return session.exec(select(Job.id).where(col(Job.lane) == "round", active)).first()


def round_list(session: Session, *, page: int) -> RoundList:
    total = int(session.exec(select(func.count()).select_from(AllocationRound)).one())
    pages = max((total + ROUNDS_PER_PAGE - 1) // ROUNDS_PER_PAGE, 1)
    offset = (min(page, pages) - 1) * ROUNDS_PER_PAGE
    pool = session.exec(
        select(func.count()).select_from(Lead).where(col(Lead.status).in_(POOL_STATUSES))
    ).one()
    return RoundList(
        rounds=list_rounds(session, limit=ROUNDS_PER_PAGE, offset=offset),
        page=min(page, pages), pages=pages, total=total, pool=int(pool),
        running=running_round(session), active_job=active_round_job(session),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    best: bool = False


@dataclass(frozen=True, slots=True)
class CompareRow:
    label: str
    cells: list[Cell]


Figures = dict[str, Any]
# (label, key in a method's figures, format, which way is better: +1 more, -1 less, 0 n/a)
METRICS: tuple[tuple[str, str, str, int], ...] = (
    ("已分配线索", "assigned", "n", 1),
    ("总距离", "total_km", "km", -1),
    ("平均距离", "mean_km", "km", -1),
    ("P95 距离", "p95_km", "km", -1),
    ("同城占比", "same_city_share", "share", 1),
    ("总成本", "objective", "cost", -1),
    ("比本轮方案多花成本", "extra_cost_vs_plan_percent", "extra", 0),
)


def _plan_figures(report: dict[str, Any]) -> Figures:
    distance = report.get("distance") or {}
    return {**distance, "assigned": report.get("assigned"), "objective": report.get("objective"),
            "extra_cost_vs_plan_percent": 0.0}  # fmt: skip


def _baseline_figures(figures: Figures) -> Figures:
    # Without a pairs file the cost of an assignment is its distance: objective minus balance.
    objective, penalty = figures.get("objective"), figures.get("balance_penalty") or 0.0
    km_total = None if objective is None else objective - penalty
    return {**figures, "total_km": km_total}


def _format(value: Any, kind: str) -> str:
    if value is None:
        return "分配数不同，不可比" if kind == "extra" else "—"
    if kind == "n":
        return f"{int(value):,}"
    if kind == "km":
        return km(float(value))
    if kind == "share":
        return share(float(value))
    if kind == "extra":
        return "基准" if value == 0 else f"{float(value):+.1f}%"
    return f"{float(value):,.1f}"


def _row(label: str, values: list[Any], kind: str, better: int) -> CompareRow:
    known = [v for v in values if v is not None]
    best = (max(known) if better > 0 else min(known)) if known and better else None
    return CompareRow(label, [Cell(_format(v, kind), v is not None and v == best) for v in values])


def comparison(report: dict[str, Any]) -> list[CompareRow] | None:
    """The round's figures beside each baseline's; None when the pool was too big to compare."""
    baselines = report.get("baselines")
    if not baselines:
        return None
    columns = [_plan_figures(report)]
    columns += [_baseline_figures(baselines.get(code) or {}) for code, _, _ in METHODS[1:]]
    return [
        _row(label, [c.get(key) for c in columns], kind, better)
        for label, key, kind, better in METRICS
    ]


def gap_value(rnd: RoundRead) -> str:
    """The relative gap as a short figure: '< 0.01%', '0.53%', '—' (no bound)."""
    if rnd.gap is None or rnd.lower_bound is None:
        return "—"
    return "< 0.01%" if rnd.gap < 1e-4 else f"≤ {100 * rnd.gap:.2f}%"


def gap_text(rnd: RoundRead) -> str:
    """'proven within x% of optimal', from the solver's lower bound and relative gap."""
    if rnd.gap is None or rnd.lower_bound is None:
        return "未给出下界"
    if rnd.gap < 1e-4:
        return "已证明为最优解（差距 < 0.01%）"
    return f"已证明与最优解相差不超过 {100 * rnd.gap:.2f}%"


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    lead_id: int
    external_id: str
    name: str | None
    branch_code: str | None
    branch_name: str | None
    distance_km: float | None
    reason: str | None
    explanation: Message | None
    written: str  # the English text, shown for a round solved before explanations had codes


@dataclass(frozen=True, slots=True)
class AssignmentPage:
    rows: list[AssignmentRow]
    unassigned_only: bool
    page: int
    pages: int
    total: int
    counts: dict[str, int]  # "all" and "unassigned"


def _assignment_counts(session: Session, round_id: int) -> dict[str, int]:
    unplaced = col(RoundAssignment.branch_id).is_(None)
    query = (
        select(unplaced, func.count())
        .where(col(RoundAssignment.round_id) == round_id)
        .group_by(unplaced)
    )
    by_kind = {bool(flag): int(n) for flag, n in session.exec(query)}
    return {"all": sum(by_kind.values()), "unassigned": by_kind.get(True, 0)}


def assignment_page(
    session: Session, *, round_id: int, page: int, unassigned_only: bool
) -> AssignmentPage:
    counts = _assignment_counts(session, round_id)
    total = counts["unassigned" if unassigned_only else "all"]
    pages = max((total + ASSIGNMENTS_PER_PAGE - 1) // ASSIGNMENTS_PER_PAGE, 1)
    page = min(page, pages)
    query = (
        sa_select(
            RoundAssignment,
            col(Lead.external_id),
            col(Lead.name),
            col(Branch.code),
            col(Branch.name),
        )
        .join(Lead, col(Lead.id) == col(RoundAssignment.lead_id))
        .join(Branch, col(Branch.id) == col(RoundAssignment.branch_id), isouter=True)
        .where(col(RoundAssignment.round_id) == round_id)
    )
    if unassigned_only:
        query = query.where(col(RoundAssignment.branch_id).is_(None))
    offset = (page - 1) * ASSIGNMENTS_PER_PAGE
    found = session.execute(
        query.order_by(col(RoundAssignment.lead_id)).limit(ASSIGNMENTS_PER_PAGE).offset(offset)
    ).all()
    rows = [
        AssignmentRow(
            lead_id=a.lead_id, external_id=ext, name=name, branch_code=code, branch_name=bname,
            distance_km=a.distance_km, reason=a.reason, written=a.explanation,
            explanation=from_columns(a.explanation_code, a.explanation_params),
        )
        for a, ext, name, code, bname in found
    ]  # fmt: skip
    return AssignmentPage(rows, unassigned_only, page, pages, total, counts)


@dataclass(frozen=True, slots=True)
class RoundPage:
    round: RoundRead
    comparison: list[CompareRow] | None
    methods: tuple[tuple[str, str, str], ...]
    gap_text: str
    gap_value: str
    reasons: dict[str, int]
    charts: RoundCharts
    assignments: AssignmentPage
    advisors: AdvisorGains
    reserve_hint: str | None = None  # issue 16.2: how the room kept for arrivals was chosen

    @property
    def open(self) -> bool:
        """A solved preview: it may still be committed or cancelled."""
        return self.round.status == "solved"


def round_page(
    session: Session, *, round_id: int, page: int = 1, unassigned_only: bool = False
) -> RoundPage:
    rnd = read_round(session, round_id=round_id)  # 404 for an unknown round
    report = rnd.report
    return RoundPage(
        round=rnd,
        comparison=comparison(report),
        methods=METHODS,
        gap_text=gap_text(rnd),
        gap_value=gap_value(rnd),
        reasons={k: int(v) for k, v in (report.get("unassigned_by_reason") or {}).items()},
        charts=round_charts(session, rnd),
        assignments=assignment_page(
            session, round_id=round_id, page=page, unassigned_only=unassigned_only
        ),
        advisors=advisor_gains(session, report),
        reserve_hint=reserve_hint(report),
    )


def reserve_hint(report: dict[str, Any]) -> str | None:
    """'auto: 7 天内渠道接入 120 条 · 最多：B01 5、B07 3' (None: the round kept no room)."""
    reserve = report.get("reserve")
    if not reserve:
        return None
    asked = "按近期接入估算" if reserve["asked"] == "auto" else f"指定 {reserve['asked']} 个"
    kept = sorted(((b.get("kept_for_arrivals") or 0, b["code"]) for b in report["branches"]),
                  key=lambda x: (-x[0], x[1]))  # fmt: skip
    top = "、".join(f"{code} {n}" for n, code in kept[:5] if n)
    return (f"{asked} · {reserve['window_days']} 天内渠道接入 {reserve['recent_arrivals']} 条"
            + (f" · 最多：{top}" if top else ""))  # fmt: skip
