"""Wording of the automatic summaries (metrics.summary) and of ranking populations (metrics.rankings).

Registered into the one text mechanism (`i18n`) on import, like every other area's table.
"""

from i18n import Text, register, tr

__all__ = ["EN", "ZH", "tr"]  # tr: importing it from here guarantees these strings are registered

ZH: dict[str, str] = {
    # the 环比 period a change is measured against, by grain
    "sum_prev_month": "上月",
    "sum_prev_bimonth": "上一双月",
    "sum_prev_quarter": "上季度",
    "sum_prev_year": "上年",
    "sum_prev_ytd": "上期",
    "sum_prev_day": "前一日",
    "sum_flat": "与{prev}持平",
    "sum_up_pts": "较{prev}提升{amount}个百分点",
    "sum_down_pts": "较{prev}下降{amount}个百分点",
    "sum_up_pct": "较{prev}增长{amount}%",
    "sum_down_pct": "较{prev}下降{amount}%",
    "sum_points": "{v}个百分点",
    "sum_at_target": "达到年度目标",
    "sum_short": "距年度目标差{size}",
    "sum_over_ceiling": "高于年度目标值{size}",
    "sum_beyond": "超出年度目标{size}",
    "sum_better": "优于年度目标{size}",
    "sum_children_city": "{n}个市中{k}个达标",
    "sum_children_county": "{n}个区县中{k}个达标",
    "sum_leads_city": "{name}居市首位",
    "sum_leads_county": "{name}居区县首位",
    "sum_rank_city": "全省{of}个市中排第{rank}位",
    "sum_rank_county": "全省{of}个区县中排第{rank}位",
    "sum_province_only": "{name}为全省统计口径，无分地区数据",
    "sum_no_data": "{name}本期无数据",
    "sum_missing": "{n}个区县逾期未报",
    "sum_sep": "，",
    "sum_semi": "；",
    "sum_system_no_rated": "{name}：{n}项指标，本地区本期无可对照目标的数据",
    "sum_system_worst": "；差距最大的是{kpi}（{gap}）",
    "sum_system": "{name}：{total}项指标中有目标的{n}项，{green}项达标、{amber}项接近、{red}项未达标{worst}",
    # ranking populations (the "among …" of a league table and a list's reason)
    "pop_counties": "全省县（市、区）",
    "pop_cities": "全省11个设区市",
    "pop_townships_all": "全省乡镇（街道）（演示）",
    "pop_townships_of": "{name}各乡镇（街道）（演示）",
    "pop_counties_of": "{name}各县（市、区）",
}

EN: dict[str, Text] = {
    "sum_prev_month": "the previous month",
    "sum_prev_bimonth": "the previous two months",
    "sum_prev_quarter": "the previous quarter",
    "sum_prev_year": "the previous year",
    "sum_prev_ytd": "the previous period",
    "sum_prev_day": "the previous day",
    "sum_flat": "flat on {prev}",
    "sum_up_pts": "up {amount} pts on {prev}",
    "sum_down_pts": "down {amount} pts on {prev}",
    "sum_up_pct": "up {amount}% on {prev}",
    "sum_down_pct": "down {amount}% on {prev}",
    "sum_points": "{v} pts",
    "sum_at_target": "at the annual target",
    "sum_short": "{size} short of the annual target",
    "sum_over_ceiling": "{size} above the annual target",
    "sum_beyond": "{size} above the annual target",
    "sum_better": "{size} better than the annual target",
    "sum_children_city": {"one": "{k} of {n} city on target", "other": "{k} of {n} cities on target"},
    "sum_children_county": {"one": "{k} of {n} county on target", "other": "{k} of {n} counties on target"},
    "sum_leads_city": "{name} leads the cities",
    "sum_leads_county": "{name} leads the counties",
    "sum_rank_city": "ranked {rank} of {of} cities",
    "sum_rank_county": "ranked {rank} of {of} counties",
    "sum_province_only": "{name} is measured for the province only",
    "sum_no_data": "{name}: no data for this period",
    "sum_missing": {"one": "{n} county not reported", "other": "{n} counties not reported"},
    "sum_sep": ", ",
    "sum_semi": "; ",
    "sum_system_no_rated": {"one": "{name}: {n} KPI, without a target and a value here this period",
                            "other": "{name}: {n} KPIs, none with a target and a value here this period"},
    "sum_system_worst": "; furthest off: {kpi} ({gap})",
    "sum_system": {"one": "{name}: of {n} KPI with a target ({total} in all), {green} on target, {amber} near, "
                          "{red} off{worst}",
                   "other": "{name}: of {n} KPIs with a target ({total} in all), {green} on target, {amber} near, "
                            "{red} off{worst}"},
    "pop_counties": "all counties of Zhejiang",
    "pop_cities": "the 11 cities",
    "pop_townships_all": "all townships of Zhejiang (demo)",
    "pop_townships_of": "townships of {name} (demo)",
    "pop_counties_of": "counties of {name}",
}

register(__name__, ZH, EN)
