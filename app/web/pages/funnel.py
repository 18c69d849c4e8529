"""The funnel page: stage totals, weekly cohorts and one row per channel, branch or tier."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.analytics.funnel import Funnel, Stages
from app.tables import Branch
from app.web.charts import Histogram, histogram
from app.web.labels import CHANNELS, TIERS

DIMENSION_LABELS = {"channel": "渠道", "branch": "营业部", "tier": "客户层级"}
STAGE_LABELS = ("获客", "已分配", "已联系", "已转化")
STAGE_TONES = ("low", "mid", "mid", "high")


@dataclass(frozen=True, slots=True)
class KeyRow:
    label: str
    stages: Stages


@dataclass(frozen=True, slots=True)
class FunnelView:
    funnel: Funnel
    dimension: str  # the Chinese name of the split
    stages_chart: Histogram
    weekly_chart: Histogram  # leads acquired per cohort week
    rows: list[KeyRow]


def funnel_view(session: Session, *, found: Funnel) -> FunnelView:
    total = found.total
    counts = (total.acquired, total.assigned, total.contacted, total.converted)
    weeks = found.by_week
    return FunnelView(
        funnel=found,
        dimension=DIMENSION_LABELS[found.query.by],
        stages_chart=histogram(counts, STAGE_LABELS, STAGE_TONES),
        weekly_chart=histogram(
            [s.acquired for _, s in weeks],
            [w[5:] for w, _ in weeks],
            ["mid"] * len(weeks),
            width=640,
        ),
        rows=[KeyRow(_label(session, found.query.by, key), s) for key, s in found.by_key],
    )


def _label(session: Session, by: str, key: str | None) -> str:
    if key is None:
        return "未分配（线索池）"
    if by == "channel":
        return CHANNELS.get(key, key)
    if by == "tier":
        return TIERS.get(key, key)
    name = session.exec(select(Branch.name).where(Branch.code == key)).first()
    return f"{key} {name}" if name else key
