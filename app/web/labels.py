"""How codes read on the pages: Chinese labels, Beijing time, ages and distances."""

from __future__ import annotations

from datetime import datetime

from app.tables.base import utcnow
from ledger.periods import SHANGHAI

ROLES = {"hq": "总部", "branch": "营业部", "finance": "财务", "auditor": "审计"}
STATUSES = {
    "new": "待分配",
    "assigned": "待跟进",
    "contacted": "已联系",
    "converted": "已转化",
    "returned": "已退回",
    "reclaimed": "已收回",
}
TIERS = {"mass": "大众", "affluent": "富裕", "hnw": "高净值"}
CHANNELS = {
    "app": "App",
    "wechat": "微信小程序",
    "partner_alipay": "合作方·支付宝",
    "partner_ctrip": "合作方·携程",
}
LOCATION_SOURCES = {
    "coordinates": "定位坐标",
    "region_code": "行政区划",
    "mobile_prefix": "手机号段",
    "id_card": "身份证",
    "address": "地址",
}

ACTIONS = {
    "lead.contacted": "标记已联系",
    "lead.converted": "标记已转化",
    "lead.returned": "退回线索池",
    "lead.returned_with": "同一客户一并退回",
    "lead.repooled": "网点调整后退回线索池",
    "lead.reclaimed": "超时未联系，收回线索池",
    "followup.run": "定时收回超时线索",
    "lead.transferred": "总部转派",
    "lead.routed": "实时分配（按上一轮价格）",
    "routing.switch": "切换实时分配",
    "lead.reveal_mobile": "查看完整号码",
    "ledger.reverse": "冲销分录",
    "ledger.reclassify": "待认领收入重分类",
    "ledger.correction_request": "提交更正待复核",
    "ledger.correction_approve": "批准更正",
    "ledger.correction_reject": "驳回更正",
    "ledger.policy.add": "新增分成政策",
    "branch.create": "新建营业部",
    "branch.capacity": "修改营业部容量",
    "branch.deactivate": "停用营业部",
}


ROUND_STATUSES = {"draft": "草稿", "solved": "待提交", "committed": "已提交", "cancelled": "已取消"}
SOLVER_STATUSES = {"optimal": "最优", "feasible": "可行", "infeasible": "无可行解"}
REASONS = {
    "no_location": "无法定位",
    "no_eligible_branch": "无可服务的营业部",
    "capacity_exhausted": "容量已满",
    "beyond_max_distance": "超出最大距离",
}


def round_status_label(code: str | None) -> str:
    return ROUND_STATUSES.get(code or "", code or "—")


OBJECTIVES = {"distance": "总距离最短", "tier_priority": "客户等级优先",
              "expected_value": "期望成交价值"}  # fmt: skip


def objective_label(code: str | None) -> str:
    """A round's objective (issue 15.4); rounds solved before it ranked by distance."""
    return OBJECTIVES.get(code or "distance", code or "—")


JOB_STATUSES = {"queued": "排队中", "running": "运行中", "succeeded": "已完成", "failed": "失败",
                "cancelled": "已取消"}  # fmt: skip
JOB_PHASES = {"pool": "读取线索池", "solve": "求解", "store": "保存预览", "commit": "提交",
              "import": "导入"}  # fmt: skip
JOB_KINDS = {"round": "分配轮次", "import.leads": "导入线索"}


def job_status_label(code: str | None) -> str:
    return JOB_STATUSES.get(code or "", code or "—")


def job_phase_label(code: str | None) -> str:
    return JOB_PHASES.get(code or "", code or "—")


def solver_label(code: str | None) -> str:
    return SOLVER_STATUSES.get(code or "", code or "—")


def reason_label(code: str | None) -> str:
    return REASONS.get(code or "", code or "—")


def action_label(code: str) -> str:
    return ACTIONS.get(code, code)


def role_label(code: str | None) -> str:
    return ROLES.get(code or "", code or "")


def status_label(code: str | None) -> str:
    return STATUSES.get(code or "", code or "—")


def tier_label(code: str | None) -> str:
    return TIERS.get(code or "", code or "—")


def channel_label(code: str | None) -> str:
    return CHANNELS.get(code or "", code or "—")


def source_label(code: str | None) -> str:
    return LOCATION_SOURCES.get(code or "", "未解析")


def tiers_label(tiers: str) -> str:
    """A branch's `|`-separated tiers, in segment order; empty means it serves all of them."""
    rank = {code: i for i, code in enumerate(TIERS)}
    codes = sorted((t for t in tiers.split("|") if t), key=lambda t: (rank.get(t, len(rank)), t))
    return "、".join(tier_label(t) for t in codes) or "全部"


def beijing_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def age(value: datetime | None, *, now: datetime | None = None) -> str:
    """'3天4小时', '5小时', '12分钟': how long ago, coarse enough to scan a column."""
    if value is None:
        return "—"
    minutes = max(int(((now or utcnow()) - value).total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时"
    return f"{mins}分钟"


def km(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} km" if value < 100 else f"{value:,.0f} km"


def n(value: int | None) -> str:
    """Thousands separators: 1,234,567."""
    return "—" if value is None else f"{value:,}"


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def share(value: float | None) -> str:
    """A fraction as a percentage with one decimal: 0.1644 -> '16.4%'."""
    return "—" if value is None else f"{100 * value:.1f}%"


REVENUE_TYPES = {
    "brokerage_commission": "经纪佣金",
    "product_fee": "产品费",
    "margin_interest": "融资利息",
    "advisory_fee": "投顾费",
    "other": "其他",
}


def bps(value: int) -> str:
    """Basis points as a percentage, exactly: 7000 -> '70%', 3333 -> '33.33%'."""
    whole, rest = divmod(value, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def revenue_type_label(code: str) -> str:
    return REVENUE_TYPES.get(code, code)


def yuan(fen: int | None) -> str:
    """Integer fen as yuan, exactly (no float on the way): 1234567 -> '¥12,345.67'."""
    if fen is None:
        return "—"
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}¥{whole:,}.{cents:02d}"


def account_label(code: str) -> str:
    """A chart-of-accounts code as finance reads it."""
    parts = code.split(":")
    if parts[0] == "branch" and len(parts) == 3:
        return f"营业部收入 · {parts[1]}"
    if parts[0] == "clearing" and len(parts) == 2:
        return f"清算 · {REVENUE_TYPES.get(parts[1], parts[1])}"
    return {"hq:online:revenue": "总部线上部门收入", "suspense:unowned": "挂账 · 无归属客户"}.get(
        code, code
    )


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


FILTERS = {
    "n": n,
    "yuan": yuan,
    "account_label": account_label,
    "revenue_type_label": revenue_type_label,
    "bps": bps,
    "megabytes": megabytes,
    "pct": pct,
    "action_label": action_label,
    "role_label": role_label,
    "status_label": status_label,
    "tier_label": tier_label,
    "channel_label": channel_label,
    "source_label": source_label,
    "tiers_label": tiers_label,
    "beijing_time": beijing_time,
    "age": age,
    "km": km,
    "share": share,
    "round_status_label": round_status_label,
    "objective_label": objective_label,
    "job_status_label": job_status_label,
    "solver_label": solver_label,
    "reason_label": reason_label,
}
