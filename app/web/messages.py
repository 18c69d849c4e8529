"""How the pages say every message code in Chinese.

The API and the CLI say the same codes in English (`app.messages.ENGLISH`); nothing here reads
English back. `tests/web/test_messages.py` fails when a code has no Chinese here, or when a
template here uses a value the code does not carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from allocation.explanations import unassigned
from allocation.model import Reason
from app.errors import AppError
from app.messages import ENGLISH, SAME_CUSTOMER
from app.web.labels import (
    REASONS,
    job_phase_label,
    job_status_label,
    revenue_type_label,
    round_status_label,
    status_label,
    tier_label,
)
from coded_messages import Catalogue, Message, Template

WHY = {"load_balance": "负载均衡", "equal_cost": "成本相同", "lead_value": "线索价值",
       "greedy": "贪心规则", "round_robin": "轮询规则",
       "weighted_random": "加权随机规则"}  # fmt: skip

EXPLANATIONS = {
    **{f"plan.{reason}": label for reason, label in REASONS.items()},
    "plan.nearest_full": "最近的可服务营业部 {branch} 已满",
    "plan.nearest_had_room": "最近的可服务营业部 {branch} 尚有空位（{why}）",
    "plan.cheapest_full": "成本最低的候选营业部 {branch} 已满",
    "plan.cheapest_had_room": "成本最低的候选营业部 {branch} 尚有空位（{why}）",
    SAME_CUSTOMER: "与线索 #{lead} 属同一客户，随其分配",
}

# The values a cell error names (`what`); ids such as event_id are shown as they are.
WHAT = {"latitude": "纬度", "longitude": "经度", "capacity": "容量"}
# What each follow-up action is called in "cannot ..." (the lead's status says why not).
DOING = {"contacted": "标记为已联系", "converted": "标记为已转化", "returned": "退回线索池"}
LEADS = {
    "lead.wrong_status": "线索 #{lead} 当前为“{status}”，不能{action}。",
    "lead.customer_converted": (
        "线索 #{lead} 的客户已通过线索 #{converted} 转化，已转化的客户不能退回。"
    ),
    "lead.no_active_branch": "没有代码为 {branch} 的在用营业部。",
    "lead.already_there": "线索 #{lead} 已属于营业部 {branch}。",
    "lead.reveal_role": "您的角色无权查看完整号码。",
    "lead.reveal_limit": "每小时最多查看 {limit} 次完整号码，请稍后再试。",
}
# Also parts of a longer message (the rules a transfer or a commit would break): no full stop.
BRANCHES = {
    "branch.inactive": "营业部 {branch} 已停用",
    "branch.tier_not_served": "营业部 {branch} 不服务{tier}客户",
    "branch.full": "营业部 {branch} 已满（{load} / {capacity} 位客户）",
    "branch.override_needed": "{problems}。如确需转派，请勾选总部特批。",
}
ROUNDS = {
    "round.busy": "另一轮分配正在求解或提交，请等它完成后再试。",
    "round.objective_out_of_range": (
        "目标参数超出范围：客户等级权重须在 0 至 100000 公里之间，"
        "单条线索的期望价值不得超过 100000 公里（请提高每公里价格）。"
    ),
    "round.reserve_invalid": (
        "“{text}”无效：为新到线索预留的名额须留空（不预留）、填 auto 或 0 至 {high} 的整数。"
    ),
    "round.not_solved": "只有待提交的预览才能提交；本轮状态为“{round_status}”。",
    "round.not_cancellable": "本轮状态为“{round_status}”，不能再取消。",
    # What made a preview stale; round.preview_cancelled says the rest.
    "round.pool_changed": "预览之后已有 {count} 条线索离开线索池（被转派、跟进或重新导入）",
    "round.customer_taken": "预览之后已有客户被分配给营业部",
    "round.no_longer_fits": "预览之后营业部已变化：{problems}",
    "round.preview_cancelled": "{why}。本次预览已作废，请重新发起一轮。",
    "branch.no_longer_serves": "营业部 {branch} 已不再服务{tier}客户",
    "branch.gave_up": "营业部 {branch} 曾退回这些线索",
    "branch.would_overflow": (
        "营业部 {branch} 将有 {total} 位客户，超出容量 {capacity}"
        "（已有 {held} 位，本轮计划 {planned} 位）"
    ),
}
JOBS = {
    "job.lane_busy": "同类任务正在排队或运行，请等它完成后再试。",
    "job.not_cancellable": "任务已进入“{phase}”阶段（状态“{job_status}”），不能再取消。",
    "job.worker_lost": "执行任务的进程已 {attempts} 次中断，任务已放弃。",
    "job.crashed": "任务因意外错误失败，详情见服务器日志。",
    "job.refused": "任务被拒绝：{detail}",
}
AMOUNT_PROBLEMS = {
    "empty": "为空",
    "not_finite": "不是有限的数",
    "thousands_separator": "含千位分隔符",
    "too_many_decimals": "超过两位小数",
    "exponent": "使用了科学计数法",
    "whitespace": "含有空白字符",
    "not_decimal": "不是最多两位小数的数字",
    "out_of_range": "超出范围",
}
LEDGER = {
    "ledger.invalid_amount": "金额 {text} {problem}",
    "ledger.unknown_revenue_type": "未知的收入类型 {text}（应为 {known} 之一）",
    "ledger.id_length": "{what} 须为不超过 {max} 个字符的非空文本",
    "ledger.id_blanks": "{what} {text} 首尾有空白或含控制字符",
    "ledger.invalid_channel": "渠道名称 {text} 无效",
    "ledger.invalid_timestamp": "时间 {text} 无效",
    "ledger.invalid_iso_timestamp": "时间 {text} 不是 ISO 8601 格式",
    "ledger.period_format": "月份须为 YYYY-MM 格式，而不是 {text}",
    "ledger.no_such_period": "没有 {year}-{month} 这个月份",
    "ledger.period_already_closed": "该月份已经结账，结账后不能再更改。",
    "ledger.period_not_ended": "{period} 尚未结束",
    "ledger.closed_and_current_closed": "{period} 已结账，当前月份 {current} 也已结账，无处入账。",
    "close.not_ended": "当月及未来月份不能结账：收入可能仍在入账。",
    "close.before_closed": "该月份早于已结账的月份 {closed}。",
    "close.in_order": "月份须按顺序结账：请先结清更早的未结账月份（{earlier}）。",
    "import.busy": "另一项台账写入正在进行，请稍后重试。",
    "import.unreconciled": (
        "批次 {batch} 对账不平（计算 {computed}，存储 {stored}），未写入任何数据。"
    ),
    "upload.too_large": "上传的文件超过 {limit} 字节的上限。",
    "export.too_large": (
        "{period} 有 {rows} 条分录，超过下载上限 {limit} 条（O2O_MAX_EXPORT_ROWS），"
        "请用 `o2o ledger export` 命令导出。"
    ),
}
IMPORTS = {
    "import.too_many_cells": "本行 {cells} 个单元格，表头 {columns} 列",
    "import.not_utf8": "不是 UTF-8 编码的文本",
    "import.malformed_csv": "CSV 格式错误：{detail}",
    "import.line_too_long": "本行超过 {max} 个字符，这是 CSV 文件吗？",
    "import.too_many_rows": "数据超过 {max} 行（O2O_MAX_IMPORT_ROWS），请拆分文件",
    "import.too_many_columns": "表头有 {count} 列，最多 {max} 列",
    "import.empty_file": "空文件：没有表头",
    "import.missing_column": "缺少必需的列",
    "import.duplicate_column": "列名重复",
    "import.undecodable": (
        "既不是 UTF-8 也不是 GBK/GB18030 编码（本行第 {position} 个字节 {byte} 无法识别）："
        "请另存为“CSV UTF-8”或 Excel 工作簿"
    ),
    "import.not_utf8_bytes": (
        "不是 UTF-8 编码（本行第 {position} 个字节 {byte}）："
        "Excel 另存的 CSV 多为 GBK，请选择“自动识别”或“GBK”"
    ),
    "import.not_gb18030_bytes": (
        "不是 GBK/GB18030 编码（本行第 {position} 个字节 {byte}）：请选择“自动识别”或“UTF-8”"
    ),
    "import.old_excel": "旧版 Excel 文件（.xls）：请另存为 .xlsx 或 CSV",
    "import.no_worksheet": "工作簿中没有工作表",
    "import.workbook_too_big": "工作簿解压后超过 {mb} MB：请另存为 CSV",
    "import.workbook_text_too_big": "工作簿中的文字超过 {mb} MB：请另存为 CSV",
    "import.empty_sheet": "工作表第 1 行没有表头",
    "import.sheet_too_long": "超过 {max} 行：不是 Excel 保存的工作表",
    "import.unreadable_workbook": "无法读取的 Excel 工作簿（.xlsx），文件可能已损坏",
    "cell.required": "必填项为空",
    "cell.not_code": "“{text}”不是由 1-32 个字母、数字、_ 或 - 组成的代码",
    "cell.not_number": "“{text}”不是数字",
    "cell.outside": "{what} {text} 超出范围（{low} 至 {high}）",
    "cell.not_whole": "“{text}”不是整数",
    "cell.too_small": "{what}须不小于 {low}（现为 {number}）",
    "cell.too_large": "{what}须不大于 {high}（现为 {number}）",
    "cell.not_bool": "“{text}”不是 true 或 false",
    "cell.not_tier": "“{text}”不是客户层级（应为 {tiers} 之一）",
    "cell.not_region": "“{text}”不是 6 位行政区划代码",
    "cell.not_instant": "“{text}”不是日期时间（如 2026-11-01T09:30:00）",
    "cell.too_long": "超过 {max} 个字符",
    "lead.no_channel": "没有渠道：请增加 channel 列或填写默认渠道",
    "lead.lat_lon_together": "纬度和经度须同时填写",
    "lead.not_mobile": "“{text}”不是中国大陆手机号",
    "lead.unknown_division": "“{text}”不是已知的行政区划代码",
    "lead.not_id_number": "不是有效的 18 位居民身份证号（校验位或日期有误）",
    "lead.repeated": "渠道 {channel} 的 external_id {external_id} 与第 {first} 行重复",
    "branch.duplicate_code": "营业部代码 {branch} 重复（首次出现在第 {first} 行）",
    "branch.exists": "营业部代码 {branch} 已存在，请换一个代码",
    "branch.unknown": "没有代码为 {branch} 的营业部。",
    "branch.already_inactive": "营业部 {branch} 已经停用。",
    "branch.below_load": (
        "容量 {capacity} 低于营业部 {branch} 正在跟进的 {held} 位客户：请先转派或退回部分客户"
    ),
    "revenue.zero_amount": "金额为零",
    "revenue.implausible_amount": (
        "金额 {text} 超过合理上限 {limit} 元（O2O_MAX_REVENUE_AMOUNT_FEN）"
    ),
    "revenue.in_future": "发生时间 {text} 晚于当前时间",
    "revenue.before_1970": "发生时间 {text} 早于 1970 年",
    "revenue.total_overflow": (
        "金额累计（本文件与全部已入账事件的绝对值之和）到此超过 {limit} 元，"
        "超出 64 位整数（分）的范围"
    ),
    "revenue.no_lead": "没有 external_id 为 {external_id} 的线索",
    "revenue.no_lead_in_channel": "渠道 {channel} 中没有 external_id 为 {external_id} 的线索",
    "revenue.ambiguous_lead": (
        "external_id {external_id} 在多个渠道 {channels} 中存在：请增加 channel 列"
    ),
    "revenue.repeated_event": "event_id {event_id} 与第 {first} 行重复但内容不同",
    "revenue.changed_event": (
        "event_id {event_id} 已以不同内容导入（批次 {batch} 第 {line} 行），更正须用新的 event_id"
    ),
}
# Pydantic's error kinds (`type`) a scenario's field may fail with, with its limits; any other
# kind (a validator of ours) is shown with its English detail.
FIELD_KINDS = {
    "missing": "缺少此项",
    "greater_than_equal": "须不小于 {ge}",
    "greater_than": "须大于 {gt}",
    "less_than_equal": "须不大于 {le}",
    "less_than": "须小于 {lt}",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "finite_number": "须为有限的数",
    "string_type": "须为文本",
    "string_pattern_mismatch": "格式不符（{pattern}）",
    "string_too_long": "不能超过 {max_length} 个字符",
    "string_too_short": "至少 {min_length} 个字符",
    "dict_type": "须为 JSON 对象",
    "list_type": "须为列表",
}


def _field_problem(params: Mapping[str, Any]) -> str:
    template = FIELD_KINDS.get(str(params.get("kind")), "{detail}")
    try:
        said = template.format_map(params)
    except KeyError:  # a limit the error did not carry
        said = params["detail"]
    return f"{params['field']}：{said}"


SCENARIOS: dict[str, Template] = {
    "scenario.not_json": "{source}不是有效的 JSON（第 {line} 行附近有误）",
    "scenario.not_object": "{source}须为 JSON 对象",
    "scenario.invalid": "{source}有误：{problems}",
    "scenario.field": _field_problem,
    "scenario.unknown_key": "{field}：未知的键",
    "scenario.unknown_branch": "{field}：没有使用此代码的营业部",
    "scenario.branch_exists": "{field}：营业部 {branch} 已存在",
    "scenario.opened_twice": "{field}：{branch} 重复新开",
    "scenario.closed_twice": "close：同一营业部列出了两次",
    "scenario.name": "情景名称须为 1 至 {max_length} 个字符，且不能只有空格。",
    "scenario.not_saved": "没有已保存的情景 {scenario}，可能已被删除。",
    "scenario.compare_count": "请选择 1 至 {most} 个已保存的情景进行比较（当前选了 {count} 个）。",
}
SERVER = {
    "server.database_busy": "数据库正忙于另一项更改，本次未写入任何数据，请重试。",
    "server.busy": "服务器繁忙，本次未写入任何数据，请重试。",
    "server.out_of_range": "请求中的数字或文本超出数据库可存储的范围（过大、过长或含 NUL 字符）。",
    "server.sign_ins_busy": "同时登录的人数过多，本次未计入，请重试。",
}
FUNNEL = {
    "funnel.unknown_dimension": "请选择按渠道、营业部或客户层级查看。",
    "funnel.reversed": "结束日期早于开始日期，请调整日期范围。",
    "funnel.too_long": "一次最多查看 {max} 天，请缩短日期范围。",
    "funnel.bad_date": "日期格式应为 年-月-日，例如 2026-11-09。",
}
# What a correction is, and the state a decided request is in.
KINDS = {"reverse": "冲销", "reclassify": "重分类"}
STATES = {"pending": "待复核", "approved": "已批准", "rejected": "已驳回", "decided": "已处理"}
CORRECTIONS = {
    "ledger.no_entry": "没有编号为 {entry} 的分录。",
    "ledger.reversal_of_reversal": (
        "分录 {entry} 本身就是冲销分录，不能再冲销；请直接登记正确的分录。"
    ),
    "ledger.already_reversed": "分录 {entry} 已被分录 {by} 冲销。",
    "ledger.reclassified_later": (
        "分录 {entry} 不能冲销：事件 {event} 之后已由分录 {later} 重分类，请先冲销分录 {later}。"
    ),
    "ledger.no_event": "没有事件编号为 {event} 的收入。",
    "ledger.no_branch": "没有代码为 {branch} 的营业部。",
    "ledger.already_reclassified": "事件 {event} 已不在待认领账户：它已被重分类。",
    "ledger.credited_elsewhere": "事件 {event} 不在待认领账户（已记入 {accounts}）。",
    "ledger.credit_reversed": "事件 {event} 不在待认领账户（其入账已冲销）。",
    "ledger.not_plain_suspense": "事件 {event} 的分录不是单纯的待认领入账，不能自动重分类。",
    "ledger.bad_reason": "请填写原因：不超过 200 个字符的可打印文字。",
    "ledger.posted_concurrently": "同一更正已由他人同时登记，本次未写入任何数据。",
    "ledger.write_busy": "另一项台账写入正在进行，请稍后重试。",
    "correction.unknown": "没有编号为 {request} 的更正申请。",
    "correction.decided": "更正申请 #{request} {state}，不能再处理。",
    "correction.own_request": "更正申请 #{request} 是您本人提交的，须由另一位财务人员批准或驳回。",
    "correction.already_requested": (
        "{target} 的{correction}已有待复核的申请 #{request}，请等待复核。"
    ),
    "suspense.never_owned": "客户从未分配给营业部",
    "suspense.before_owner": "收入发生时客户尚未分配（{since} 起归属 {branch}）",
    "suspense.between_owners": "收入发生时客户已退回线索池，无归属营业部",
    "suspense.bad_amount": "最小金额应为元，最多两位小数，例如 1000 或 99.50。",
}
POLICIES = {
    "policy.file_type": "分成政策文件须为 .json 或 .csv",
    "policy.no_policy": "文件中没有任何分成政策",
    "policy.not_json": "不是 UTF-8 编码的 JSON 文档",
    "policy.not_object": "每条分成政策须为一个 JSON 对象",
    "policy.required": "必填项为空",
    "policy.not_text": "须为文字",
    "policy.bps_type": "须为整数基点",
    "policy.not_bps": "“{text}”不是 0 至 {max} 的整数基点",
    "policy.bps_too_large": "{value} 基点超过 {max} 基点（100%）",
    "policy.not_overlay": "“{text}”不是非负整数基点",
    "policy.bad_reason": "须为不超过 {max} 个字符的可打印文字",
    "policy.exists": "分成政策 {policy} 已存在，请换一个编号",
    "policy.twice": "分成政策 {policy} 在文件中出现了两次",
    "policy.same_start": "{revenue_type}已有分成政策 {other} 从同一时间开始",
    "policy.in_closed_period": (
        "生效时间落在已结账的 {period} 或更早：已结账月份的政策不能更改"
        "（请从 {first_open} 或之后开始）"
    ),
    "policy.credited": (
        "自 {since} 起已有 {count} 笔{revenue_type}收入入账（最近一笔 {latest}）："
        "新政策不能重新分配已入账的收入，请从其后开始"
    ),
    "ledger.policy_shares": "营业部与总部线上的分成合计 {total} 基点，须恰好为 {expected} 基点",
    "ledger.policies_overlap": "分成政策 {first} 与 {second} 在{revenue_type}上的有效期重叠",
}
AUDIT_LOG = {
    "audit.reversed": "结束日期早于开始日期，请调整日期范围。",
    "audit.bad_lead": "线索编号应为数字，例如 1024。",
    "audit.bad_date": "{which}日期格式应为 年-月-日，例如 2026-11-09。",
    "audit.too_many": "共有 {total} 条记录符合条件，一次最多导出 {max} 条：请缩小查询范围。",
}
FORMS = {
    "form.not_number": "“{text}”不是数字，请重新填写。",
    "form.out_of_range": "“{text}”超出范围：须在 {low} 至 {high} 之间。",
    "form.text_needed": "请填写此项（不超过 {max} 个字符）。",
}
USERS = {
    "user.bad_username": "用户名应为 3–64 个字母、数字或 _ . @ -。",
    "user.bad_role": "请选择角色：总部、营业部、财务或审计。",
    "user.short_password": "密码至少需要 {length} 个字符。",
    "user.exists": "用户名 {username} 已被使用，请换一个。",
    "user.unknown": "没有用户 {username}。",
    "user.not_branch_user": "{username} 不是营业部用户，无法调动营业部。",
    "user.branch_for_non_branch": "只有营业部用户属于某个营业部，请清空营业部代码。",
    "user.branch_needed": "营业部用户需要填写所属营业部代码。",
    "user.unknown_branch": "没有代码为 {branch} 的营业部。",
    "user.own_account": "不能停用自己正在使用的账号。",
}
ACCESS = {
    "access.role": "您的角色无权执行此操作。",
    "access.page_role": "您的角色无权打开此页面。",
    "access.form_token": "表单的安全令牌缺失或有误，请刷新页面后重试。",
}
NOTICES = {
    "notice.assigned": "新分配给本营业部 {count} 条线索（{via}）",
    "notice.deadline_approaching": "{count} 条线索尚未联系，即将到达跟进期限，请尽快联系",
    "notice.reclaimed": "{count} 条线索超过跟进期限未联系，已收回线索池",
    "notice.not_dead": "投递 #{delivery} 已不在死信列表中，无需重试。",
}
VIA = {"round": "分配轮次", "routing": "实时分配", "followup": "跟进期限检查"}

CHINESE = Catalogue(
    {
        **EXPLANATIONS,
        **LEADS,
        **BRANCHES,
        **ROUNDS,
        **JOBS,
        **LEDGER,
        **IMPORTS,
        **SCENARIOS,
        **SERVER,
        **FUNNEL,
        **AUDIT_LOG,
        **CORRECTIONS,
        **POLICIES,
        **USERS,
        **FORMS,
        **ACCESS,
        **NOTICES,
    },
    values={
        "why": lambda why: WHY.get(why, why),
        "status": status_label,
        "round_status": round_status_label,
        "job_status": job_status_label,
        "phase": job_phase_label,
        "tier": tier_label,
        "action": lambda action: DOING.get(action, action),
        "problem": lambda problem: AMOUNT_PROBLEMS.get(problem, problem),
        "source": lambda source: {"scenario": "情景"}.get(source, source),
        "what": lambda what: WHAT.get(what, what),
        "which": lambda which: {"start": "开始", "end": "结束"}.get(which, which),
        "via": lambda via: VIA.get(via, via),
        "correction": lambda kind: KINDS.get(kind, kind),
        "revenue_type": revenue_type_label,
        "state": lambda state: STATES.get(state, state),
    },
    separator="；",
)


def in_chinese(said: Message) -> str:
    """The message in Chinese; a code without Chinese (a test keeps that from happening) is
    said in English rather than not at all."""
    if said.code in CHINESE:
        return CHINESE.render(said)
    return ENGLISH.render(said)


def error_text(error: AppError) -> str:
    """What a page says about an error: its message in Chinese, or its English when it has no
    code (errors only the API and the CLI meet)."""
    return error.message if error.coded is None else in_chinese(error.coded)


def explanation_label(said: Message | None, written: str = "", reason: str | None = None) -> str:
    """A lead's explanation in a round: '就近分配' for none, '—' where it would only repeat the
    unassigned reason shown beside it; `written` is the English of a round whose explanation
    has no code (shown as written)."""
    if said is None:
        return written or "就近分配"
    if reason is not None and said == unassigned(Reason(reason)):
        return "—"
    return in_chinese(said)


FILTERS = {
    "in_chinese": in_chinese,
    "error_text": error_text,
    "explanation_label": explanation_label,
}
