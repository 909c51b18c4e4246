"""Strings of the phone layout and the KPI detail page (keys prefixed `phone_`, plus the page's nav title)."""

ZH: dict[str, str] = {
    "nav_kpi": "指标详情",
    "phone_systems": "各系统",
    "phone_map": "{scope}地图",
    "phone_my_items": "我的督办",
    "phone_all_items": "全部批示督办",
    "phone_to_desktop": "切换到电脑版",
    "phone_back": "返回总览",
    "phone_trend": "近12个月走势与目标",
    "phone_ranked_counties": "{scope}{n}个区县排名",
    "phone_rank_in_province": "（全省排名）",
    "phone_ranked_cities": "全省{n}个设区市排名",
    "phone_all_ranked": "展开全部 {n} 个",
    "phone_other_kpi": "查看其他指标",
    "phone_about": "指标说明",
}

EN: dict[str, str] = {
    "nav_kpi": "KPI detail",
    "phone_systems": "Systems",
    "phone_map": "Map · {scope}",
    "phone_my_items": "My follow-ups",
    "phone_all_items": "All instructions",
    "phone_to_desktop": "Switch to the desktop layout",
    "phone_back": "Back to overview",
    "phone_trend": "Last 12 months against target",
    "phone_ranked_counties": "The {n} counties of {scope} ranked",
    "phone_rank_in_province": " (rank in the province)",
    "phone_ranked_cities": "The province's {n} cities ranked",
    "phone_all_ranked": "Show all {n}",
    "phone_other_kpi": "Another KPI",
    "phone_about": "About this KPI",
}
