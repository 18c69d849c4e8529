"""The sidebar: which pages each role sees, grouped by the part of the business they serve.

A new page (rounds for HQ, the ledger for finance) slots in by adding one `NavItem` here; the
layout, the active-item highlighting and the role filtering need no change.
"""

from __future__ import annotations

from dataclasses import dataclass

EVERYONE = ("hq", "branch", "finance", "auditor")


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    roles: tuple[str, ...]
    section: str


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    href: str
    active: bool


@dataclass(frozen=True, slots=True)
class NavSection:
    title: str
    links: tuple[NavLink, ...]


NAV: tuple[NavItem, ...] = (
    NavItem("工作台", "/", EVERYONE, "概览"),
    NavItem("线索收件箱", "/inbox", ("branch",), "营业部"),
    NavItem("转化漏斗", "/analytics/funnel", ("branch",), "营业部"),
    NavItem("营业部网点", "/hq/branches", ("hq", "auditor"), "总部"),
    NavItem("线索池", "/hq/pool", ("hq", "auditor"), "总部"),
    NavItem("分配轮次", "/hq/rounds", ("hq", "auditor"), "总部"),
    NavItem("假设分析", "/hq/whatif", ("hq",), "总部"),
    NavItem("线索查询", "/hq/leads", ("hq", "auditor"), "总部"),
    NavItem("转化漏斗", "/analytics/funnel", ("hq", "auditor"), "总部"),
    NavItem("导入线索与网点", "/hq/imports", ("hq",), "总部"),
    NavItem("用户管理", "/hq/users", ("hq", "auditor"), "总部"),
    NavItem("通知投递", "/hq/notifications", ("hq", "auditor"), "总部"),
    NavItem("审计日志", "/audit", ("hq", "auditor"), "总部"),
    NavItem("台账与结账", "/finance/ledger", ("finance", "auditor"), "财务"),
    NavItem("收入导入", "/finance/imports", ("finance", "auditor"), "财务"),
    NavItem("对账单", "/finance/statements", ("finance", "auditor"), "财务"),
    NavItem("待认领收入", "/finance/suspense", ("finance", "auditor"), "财务"),
    NavItem("分成政策", "/finance/policies", ("finance", "auditor"), "财务"),
    NavItem("渠道 KPI", "/finance/kpi", ("finance", "auditor", "hq"), "财务"),
)


def _is_active(href: str, path: str) -> bool:
    if href == "/":
        return path == "/"
    return path == href or path.startswith(href + "/")


def nav_for(role: str, path: str) -> list[NavSection]:
    """The sections a role sees, in declaration order, with the current page marked."""
    sections: dict[str, list[NavLink]] = {}
    for item in NAV:
        if role in item.roles:
            link = NavLink(item.label, item.href, _is_active(item.href, path))
            sections.setdefault(item.section, []).append(link)
    return [NavSection(title, tuple(links)) for title, links in sections.items()]
