"""How the pages say every message code in Chinese.

The API and the CLI say the same codes in English (`app.messages.ENGLISH`); nothing here reads
English back. `tests/web/test_messages.py` fails when a code has no Chinese here, or when a
template here uses a value the code does not carry.
"""

from __future__ import annotations

from allocation.explanations import unassigned
from allocation.model import Reason
from app.messages import ENGLISH, SAME_CUSTOMER
from app.web.labels import REASONS
from coded_messages import Catalogue, Message

WHY = {"load_balance": "负载均衡", "equal_cost": "成本相同", "greedy": "贪心规则",
       "round_robin": "轮询规则", "weighted_random": "加权随机规则"}  # fmt: skip

EXPLANATIONS = {
    **{f"plan.{reason}": label for reason, label in REASONS.items()},
    "plan.nearest_full": "最近的可服务营业部 {branch} 已满",
    "plan.nearest_had_room": "最近的可服务营业部 {branch} 尚有空位（{why}）",
    "plan.cheapest_full": "成本最低的候选营业部 {branch} 已满",
    "plan.cheapest_had_room": "成本最低的候选营业部 {branch} 尚有空位（{why}）",
    SAME_CUSTOMER: "与线索 #{lead} 属同一客户，随其分配",
}

CHINESE = Catalogue(
    {**EXPLANATIONS},
    values={"why": lambda why: WHY.get(why, why)},
    separator="；",
)


def in_chinese(said: Message) -> str:
    """The message in Chinese; a code without Chinese (a test keeps that from happening) is
    said in English rather than not at all."""
    if said.code in CHINESE:
        return CHINESE.render(said)
    return ENGLISH.render(said)


def explanation_label(said: Message | None, written: str = "", reason: str | None = None) -> str:
    """A lead's explanation in a round: '就近分配' for none, '—' where it would only repeat the
    unassigned reason shown beside it; `written` is the English of a round whose explanation
    has no code (shown as written)."""
    if said is None:
        return written or "就近分配"
    if reason is not None and said == unassigned(Reason(reason)):
        return "—"
    return in_chinese(said)


FILTERS = {"in_chinese": in_chinese, "explanation_label": explanation_label}
