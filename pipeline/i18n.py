"""Report text in English and Simplified Chinese (the languages of the teams that read it).

One table of keys; `text(lang)` returns a lookup that fails loudly on a missing key, so a section
cannot silently fall back to the other language. Identifiers (model ids, categories, bucket names,
file paths) are data and stay as they are."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.errors import CostLedgerError

LANGUAGES = ("en", "zh")
# Each language named in itself, as a language switch shows it.
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}

TEXT: dict[str, tuple[str, str]] = {
    # key: (English, Simplified Chinese)
    "title": ("AI model cost report", "AI 模型成本报告"),
    "subtitle": (
        "Calendar month {start} to {end} (exclusive) of charge date, from",
        "按计费日期的自然月 {start} 至 {end}（不含），数据来自",
    ),
    "amounts_in": ("amounts in", "金额单位"),
    "builds": ("Ledger builds", "账本构建"),
    "headline": ("Headline", "概览"),
    "empty": (
        "No cost recorded in {table} for {month}: the total is 0.",
        "{month} 在 {table} 中没有成本记录：合计为 0。",
    ),
    "effective_cost": ("Effective cost", "有效成本"),
    "billed_cost": ("Billed cost", "账单成本"),
    "mom": ("Month over month (effective)", "环比（有效成本）"),
    "vs": ("vs", "对比"),
    "category": ("Category", "类别"),
    "effective": ("Effective", "有效"),
    "billed": ("Billed", "账单"),
    "share": ("Share of effective", "占有效成本比例"),
    "total": ("Total", "合计"),
    "by_model": ("Effective cost per model and category", "按模型与类别的有效成本"),
    "by_model_caption": (
        "Effective cost per model ({cur}), stacked by category in a fixed order and colour; credits stack below zero. "
        "The square under a bar is the model's colour in the other charts; hover a bar or a point for its value.",
        "各模型有效成本（{cur}），按类别以固定顺序和颜色堆叠；抵扣额显示在零线以下。"
        "柱下方的小方块是该模型在其他图表中的颜色；将鼠标悬停在柱或数据点上可查看数值。",
    ),
    "matrix_note": (
        "Effective cost ({cur}) summed from {table}, shown to 2 decimals; {csv} holds the same table with every "
        "decimal.",
        "有效成本（{cur}）由 {table} 汇总，显示保留 2 位小数；{csv} 保存全部小数位。",
    ),
    "model": ("Model", "模型"),
    "trend": ("Daily trend and optimisations", "每日趋势与优化措施"),
    "trend_caption": (
        "Effective cost per day and model ({cur}); dashed lines mark optimisation actions that went live that day.",
        "每日各模型有效成本（{cur}）；虚线标记当天上线的优化措施。",
    ),
    "date": ("Date", "日期"),
    "action": ("Action", "措施"),
    "no_actions": ("No optimisation actions in {month}.", "{month} 没有优化措施。"),
    "impact": ("Optimisation impact", "优化效果"),
    "impact_intro": (
        "For each action: effective cost per 1,000 requests in the {n} days before and the {n} days from the action "
        "day, "
        "the change with a 95% bootstrap interval over days (seeded), a difference in differences against the models "
        "no action touched, "
        "and the saving realised in {month} (unit cost change x requests after the action). Actions on serving "
        "hardware "
        "(quantisation, right-sizing, spot, autoscaling) are judged on GPU cost (ledger rows in GPU-hours); all other "
        "actions on all six categories. "
        "An estimate is flagged when its interval spans 0 or another action on the same model falls in its windows.",
        "对每项措施：计算措施日前 {n} 天与自措施日起 {n} 天内每千次请求的有效成本、"
        "按天自助抽样（固定种子）的 95% 区间、"
        "相对未受任何措施影响的模型的双重差分估计，以及 {month} 实现的节省（单位成本变化 × 措施后的请求量）。"
        "作用于推理硬件的措施（量化、规格调整、竞价实例、自动扩缩容）按 GPU 成本（以 GPU 小时计量的账本行）评估，"
        "其他措施按全部六类成本评估。"
        "区间跨越 0 或同一模型的另一项措施落在窗口内时，估计会被标记。",
    ),
    "scope": ("Measured on", "评估口径"),
    "scope_gpu": ("GPU cost", "GPU 成本"),
    "scope_all": ("all categories", "全部类别"),
    "before": ("Before, per 1k req.", "之前（每千次请求）"),
    "after": ("After, per 1k req.", "之后（每千次请求）"),
    "change": ("Change", "变化"),
    "interval": ("95% interval", "95% 区间"),
    "did": ("Diff-in-diff", "双重差分"),
    "all_cost_change": ("All-category change", "全部类别变化"),
    "saving": ("Realised saving", "实现的节省"),
    "verdict": ("Verdict", "结论"),
    "measured": ("measured", "已测得"),
    "inconclusive": ("inconclusive", "不确定"),
    "confounded": ("confounded", "存在混杂"),
    "flag_interval_spans_zero": ("interval spans 0", "区间跨越 0"),
    "flag_other_action_in_window": ("another action on the model in the window", "窗口内该模型还有其他措施"),
    "flag_too_few_days": ("fewer than 7 days with requests in a window", "某窗口内有请求的天数少于 7 天"),
    "flag_no_controls": ("no untouched models to compare with", "没有可对照的未受影响模型"),
    "moved": ("Categories that moved (cost per 1,000 requests)", "发生变化的类别（每千次请求成本）"),
    "controls": ("Controls", "对照模型"),
    "impact_caption": (
        "Change in cost per 1,000 requests with its 95% interval (bars) and the difference in differences (diamonds).",
        "每千次请求成本的变化及其 95% 区间（横线），菱形为双重差分估计。",
    ),
    "no_impact": ("No optimisation action to measure in {month}.", "{month} 没有可评估的优化措施。"),
    "floats_note": (
        "Intervals and the difference in differences are statistical estimates (floating point); unit costs and "
        "savings are exact decimals, rounded for display.",
        "区间与双重差分为统计估计（浮点数）；单位成本与节省为精确小数，仅在显示时舍入。",
    ),
    "unit_costs": ("Unit costs", "单位成本"),
    "unit_intro": (
        "A model's effective cost of serving in the month (its inference-phase rows, all categories, without the "
        "buckets) divided by its volume in {table}; ratios for reading, not for adding up.",
        "模型当月推理阶段的有效成本（全部类别，不含归集桶）除以 {table} 中的业务量；比率仅供阅读，不可相加。",
    ),
    "economic_cost": ("Economic cost", "经济成本"),
    "economic_sub": (
        "effective (cash) cost + {opportunity} {cur} cost of delay: opportunity cost, never billed",
        "有效（现金）成本 + {opportunity} {cur} 延期成本：机会成本，从未开票",
    ),
    "incomplete": (
        "Incomplete month: its only inputs are {sources}; no bill, telemetry or other charge dates it, so its cost is "
        "far from complete.",
        "月份数据不完整：仅有 {sources} 输入；没有账单、遥测或其他费用，成本远非完整。",
    ),
    "by_phase": ("Cost by lifecycle phase", "按生命周期阶段的成本"),
    "by_phase_intro": (
        "Each model's effective (cash) cost of the month by phase (ledger.cost_ledger.phase): unit costs read the "
        "inference phase only.",
        "各模型当月有效（现金）成本按阶段划分（ledger.cost_ledger.phase）：单位成本只计推理阶段。",
    ),
    "phase": ("Phase", "阶段"),
    "phase_training": ("training", "训练"),
    "phase_fine_tuning": ("fine-tuning", "微调"),
    "phase_inference": ("inference", "推理"),
    "phase_experimentation": ("experimentation", "实验"),
    "phase_data_preparation": ("data preparation", "数据准备"),
    "phase_shared": ("shared", "共享"),
    "requests": ("Requests", "请求数"),
    "tokens": ("Tokens", "Token 数"),
    "per_1k": ("per 1,000 requests", "每千次请求"),
    "per_1m": ("per 1M tokens", "每百万 Token"),
    "per_gpu_hour": ("GPU cost per GPU-hour", "每 GPU 小时的 GPU 成本"),
    "unit_caption": (
        "Daily unit costs per model: all effective cost per 1,000 requests and per million tokens, and GPU cost per "
        "GPU-hour; dashed lines mark optimisation actions.",
        "各模型每日单位成本：每千次请求与每百万 Token 的有效成本，以及每 GPU 小时的 GPU 成本；虚线标记优化措施。",
    ),
    "no_unit": ("No model cost or usage in {month}.", "{month} 没有模型成本或业务量。"),
    "idle": ("Idle and unallocated", "闲置与未分配"),
    "bucket": ("Bucket", "归集桶"),
    "meaning": ("Meaning", "含义"),
    "largest": ("Largest items", "最大项"),
    "idle_of_total": ("{bucket}: share of all effective cost", "{bucket}：占全部有效成本比例"),
    "idle_of_pool": ("Idle share of GPU time, pool {pool}", "GPU 时间闲置比例，资源池 {pool}"),
    "pool_idle": ("Idle GPU time per pool", "各 GPU 资源池的闲置时间"),
    "pool_idle_intro": (
        "{bucket} is {share} of all effective cost, but a pool's idle share is measured against the GPU time that pool "
        "paid for: "
        "its idle GPU-hours (held by no workload) over all its GPU-hours in the month, from {table}.",
        "{bucket} 占全部有效成本的 {share}；而资源池的闲置比例以该资源池已付费的 GPU 时间为基数："
        "当月无工作负载占用的闲置 GPU 小时除以其全部 GPU 小时，数据来自 {table}。",
    ),
    "pool_owned": ("owned servers", "自有服务器"),
    "col_pool": ("GPU pool", "GPU 资源池"),
    "col_gpu_hours": ("GPU-hours paid", "已付费 GPU 小时"),
    "col_idle_hours": ("Idle GPU-hours", "闲置 GPU 小时"),
    "col_pool_idle_share": ("Idle share of the pool's GPU time", "占该资源池 GPU 时间比例"),
    "col_pool_cost": ("Pool cost", "资源池成本"),
    "col_idle_cost": ("Idle cost", "闲置成本"),
    "col_idle_of_total": ("Idle cost, share of all effective cost", "闲置成本占全部有效成本比例"),
    "language": ("Language", "语言"),
    "gpu_h": ("GPU-hours", "GPU 小时"),
    "reason": ("Reason", "原因"),
    "subcategory": ("Subcategory", "子类别"),
    "recommendations": ("Recommendations", "优化建议"),
    "rec_intro": (
        "Estimated monthly savings from this month's data. Idle: idle GPU money above the {threshold}% target on cloud "
        "nodes (owned servers are sunk cost). "
        "Utilisation: GPUs a model needs at 70% busy. Commitment: on-demand node hours that ran every hour, at an "
        "assumed {discount}% discount. "
        "Untagged: spend no model carries, by account (no saving claimed).",
        "基于本月数据估算的每月节省。闲置：云节点上超过 {threshold}% 目标的闲置 GPU 费用（自有服务器为沉没成本）。"
        "利用率：按 70% 忙碌率计算模型所需 GPU。承诺：每小时都在运行的按需节点小时，按假设的 {discount}% 折扣计算。"
        "未打标签：没有模型承担的支出，按账户列出（不计节省）。",
    ),
    "kind": ("Kind", "类型"),
    "subject": ("Where", "对象"),
    "evidence": ("Evidence", "依据"),
    "amount": ("Money concerned", "涉及金额"),
    "est_saving": ("Est. monthly saving", "预计每月节省"),
    "kind_idle_gpu": ("idle GPU", "GPU 闲置"),
    "kind_low_utilisation": ("low utilisation", "利用率低"),
    "kind_commitment": ("commitment", "承诺折扣"),
    "kind_untagged": ("untagged spend", "未打标签支出"),
    "no_recs": ("Nothing to recommend for {month}.", "{month} 没有建议。"),
    "total_saving": ("Total estimated monthly saving", "预计每月节省合计"),
    "reconciliation": ("Reconciliation to the invoices", "与发票对账"),
    "recon_intro": (
        "Billing rows of billing period {month} in the ledger against the source files, in the billing currency. Both "
        "differences must be exactly 0.",
        "账单周期 {month} 的账本计费行与源文件对比（按账单币种）。两项差额必须严格为 0。",
    ),
    "no_billing": ("No billing for billing period {month}.", "账单周期 {month} 没有账单。"),
    "restatements": ("Restatements", "重述"),
    "restate_intro": (
        "Input files of {month} replaced by a later version (the ledger uses the new version; the old raw rows stay "
        "queryable).",
        "{month} 中被后续版本替换的输入文件（账本使用新版本；旧的原始行仍可查询）。",
    ),
    "no_restatements": ("No restatements for {month}.", "{month} 没有重述。"),
    "restate_money_intro": (
        "Billing exports of billing period {month} restated by a later export: old and new totals in the billing "
        "currency.",
        "账单周期 {month} 被后续导出重述的账单：按账单币种列出新旧合计。",
    ),
    "milestones": ("Milestones, delay cost and time to deploy", "里程碑、延期成本与部署周期"),
    "no_milestones": ("No milestones fall in {month}.", "{month} 没有里程碑。"),
    "open": ("open", "未完成"),
    "cancelled_on": ("cancelled {day}", "{day} 取消"),
    "col_provider": ("Provider", "云厂商"),
    "col_account": ("Billing account", "账单账户"),
    "col_currency": ("Currency", "币种"),
    "col_old_rows": ("Old rows", "旧行数"),
    "col_new_rows": ("New rows", "新行数"),
    "col_old_billed": ("Old billed", "旧计费金额"),
    "col_new_billed": ("New billed", "新计费金额"),
    "col_billed_change": ("Billed change", "计费变化"),
    "col_effective_change": ("Effective change", "有效成本变化"),
    "col_source": ("Source", "来源"),
    "col_path": ("Path", "路径"),
    "col_old_checksum": ("Old checksum", "旧校验和"),
    "col_new_checksum": ("New checksum", "新校验和"),
    "col_restated_at": ("Restated at", "重述时间"),
    "col_model": ("Model", "模型"),
    "col_milestone": ("Milestone", "里程碑"),
    "col_planned": ("Planned", "计划日期"),
    "col_actual": ("Delivered", "实际交付"),
    "col_days_late": ("Days late", "延期天数"),
    "col_time_to_deploy": ("Days to deploy", "部署天数"),
    "col_delay_cost": ("Delay cost", "延期成本"),
    "data_quality": ("Data quality", "数据质量"),
    "checks": ("Checks of billing period {month}", "账单周期 {month} 的检查"),
    "passed": ("passed", "通过"),
    "failed": ("failed", "失败"),
    "no_checks": ("No check results recorded for billing period {month}.", "账单周期 {month} 没有检查结果。"),
    "quarantined": ("Quarantined rows in this month's input files", "本月输入文件中被隔离的行"),
    "quarantine_note": ("kept in {table} with file, row, column and reason", "保存在 {table} 中，含文件、行、列和原因"),
    "inputs": ("Input files", "输入文件"),
    "no_inputs": ("No input files recorded for {month}.", "{month} 没有输入文件记录。"),
    "methodology": ("Methodology", "方法说明"),
    "extracts": ("Files beside this page", "本页附带文件"),
    "na": ("n/a", "无"),
    "summary_currency": (
        "Reporting currency: {cur}. Month = calendar month of charge_date.",
        "报告币种：{cur}。月份 = 计费日期（charge_date）的自然月。",
    ),
    "mom_no_rows": ("no ledger rows for {month}", "{month} 没有账本记录"),
    "mom_other_currency": ("{month} is in {currencies}: not comparable", "{month} 的币种为 {currencies}：不可比较"),
    # the fixed vocabularies: categories, optimisation actions, input sources, load and check states
    "cat_hardware": ("hardware", "硬件"),
    "cat_software": ("software", "软件"),
    "cat_data": ("data", "数据"),
    "cat_labor": ("labor", "人力"),
    "cat_operational": ("operational", "运营"),
    "cat_time": ("time", "时间"),
    "act_quantization": ("quantization", "量化"),
    "act_quantisation": ("quantisation", "量化"),
    "act_right_sizing": ("right_sizing", "规格调整"),
    "act_spot": ("spot", "竞价实例"),
    "act_autoscaling": ("autoscaling", "自动扩缩容"),
    "sub_all staff": ("all staff", "全体员工"),  # pipeline.ingest.labor_groups.ALL_STAFF
    "src_billing": ("billing", "账单"),
    "src_charges": ("charges", "费用"),
    "src_fx": ("fx", "汇率"),
    "src_milestones": ("milestones", "里程碑"),
    "src_optimizations": ("optimizations", "优化日志"),
    "src_telemetry": ("telemetry", "GPU 遥测"),
    "src_usage": ("usage", "业务量"),
    "src_assets": ("assets", "自有资产"),
    "src_energy": ("energy", "能耗"),
    "src_labor": ("labor", "人力"),
    "src_budgets": ("budgets", "预算"),
    "status_loaded": ("loaded", "已加载"),
    "status_superseded": ("superseded", "已被替换"),
    "status_rejected": ("rejected", "已拒绝"),
    "severity_fail": ("fail", "失败"),
    "severity_warn": ("warn", "警告"),
    # what the buckets hold and why money is unallocated (reason codes stay visible beside it)
    "bucket___idle__": ("paid GPU time no workload held", "已付费但没有工作负载占用的 GPU 时间"),
    "bucket___unallocated__": ("no attribution rule matched (see reason)", "没有匹配的归属规则（见原因）"),
    "bucket___shared__": ("platform cost kept undistributed by policy", "按策略保留、不分摊的平台成本"),
    "reason_no_matching_rule": ("no attribution rule matched", "没有匹配的归属规则"),
    "reason_unregistered_model": ("model {value} is not registered", "模型 {value} 未注册"),
    "reason_unmapped_workload": (
        "workloads of namespace {value} map to no model",
        "命名空间 {value} 的工作负载未映射到模型",
    ),
    "reason_time_not_allocated": ("working time allocated to no model", "未分配到模型的工作时间"),
    "reason_unassigned_seats": ("licence seats assigned to nobody", "未分配给任何人的许可席位"),
    "reason_telemetry_gap": ("hours without GPU telemetry", "缺少 GPU 遥测数据的时段"),
    "other_models": ("({n} other models)", "（其他 {n} 个模型）"),
    # tables
    "col_source_billed": ("Source billed", "源文件计费金额"),
    "col_ledger_billed": ("Ledger billed", "账本计费金额"),
    "col_billed_difference": ("Billed difference", "计费差额"),
    "col_source_effective": ("Source effective", "源文件有效成本"),
    "col_ledger_effective": ("Ledger effective", "账本有效成本"),
    "col_effective_difference": ("Effective difference", "有效成本差额"),
    "col_status": ("Status", "状态"),
    "recon_exact": ("exact", "完全一致"),
    "recon_mismatch": ("MISMATCH", "不一致"),
    "col_suite": ("Suite", "检查套件"),
    "col_expectation": ("Expectation", "检查项"),
    "col_column": ("Column", "列"),
    "col_severity": ("Severity", "严重程度"),
    "col_observed": ("Observed", "观测结果"),
    "obs_unexpected": ("{count} of {total} rows unexpected", "{total} 行中有 {count} 行不符合预期"),
    "obs_examples": (", e.g. {examples}", "，例如 {examples}"),
    "obs_observed": ("observed {value}", "观测值：{value}"),
    "obs_error": ("error: {message}", "错误：{message}"),
    "col_checksum": ("Checksum", "校验和"),
    "col_rows_in": ("Rows in", "输入行数"),
    "col_loaded": ("Loaded", "已加载行数"),
    "col_quarantined": ("Quarantined", "隔离行数"),
    # charts
    "chart_effective_cost": ("effective cost ({cur})", "有效成本（{cur}）"),
    "chart_cost_per_day": ("effective cost per day ({cur})", "每日有效成本（{cur}）"),
    "chart_day_of": ("day of {month}", "{month} 的日期"),
    "chart_impact_x": (
        "change in cost per 1,000 requests (%), 95% bootstrap interval; diamond: diff-in-diff",
        "每千次请求成本的变化（%），95% 自助法区间；菱形：双重差分",
    ),
    # recommendation evidence (pipeline.recommend): values are filled in per language
    "ev_idle_cloud": (
        "cloud node: idle {share:.1f}% of paid GPU time (target {target:.0f}%)",
        "云节点：已付费 GPU 时间中 {share:.1f}% 闲置（目标 {target:.0f}%）",
    ),
    "ev_idle_owned": (
        "owned server (sunk cost): idle {share:.1f}% of paid GPU time (target {target:.0f}%)",
        "自有服务器（沉没成本）：已付费 GPU 时间中 {share:.1f}% 闲置（目标 {target:.0f}%）",
    ),
    "ev_low_utilisation": (
        "GPUs busy {util:.1f}% on average over {hours:,.0f} GPU-hours; at {target:.0f}% "
        "{needed:,.0f} GPU-hours would do: fewer replicas or a smaller GPU",
        "{hours:,.0f} GPU 小时内 GPU 平均忙碌率 {util:.1f}%；按 {target:.0f}% 计算只需 "
        "{needed:,.0f} GPU 小时：可减少副本或换用更小的 GPU",
    ),
    "ev_commitment": (
        "{hours:,} on-demand hours; {baseline} an hour ran every hour: a commitment "
        "at an assumed {discount:.0f}% discount would have covered it",
        "{hours:,} 个按需小时；每小时都有 {baseline} 的用量在运行：按假设的 {discount:.0f}% 折扣，"
        "承诺折扣可以覆盖这部分",
    ),
    "ev_untagged": ("no model: {reasons}", "没有归属模型：{reasons}"),
}


def text(lang: str) -> Callable[..., str]:
    """t(key, **values): the text of `key` in `lang`, with {placeholders} filled in."""
    if lang not in LANGUAGES:
        raise CostLedgerError(f"--lang {lang!r}: expected one of {', '.join(LANGUAGES)}")
    index = LANGUAGES.index(lang)

    def t(key: str, **values: object) -> str:
        return TEXT[key][index].format(**values) if values else TEXT[key][index]

    return t


def label(t: Callable[..., str], prefix: str, value: str) -> str:
    """A value of a fixed vocabulary (category, action, source...) in t's language; a value
    outside the vocabulary is data and is shown as it is."""
    return t(prefix + value) if prefix + value in TEXT else value
