"""Strings of the 问数 question box (keys prefixed `ask_`)."""

ZH: dict[str, str] = {
    "ask_title": "问数",
    "ask_label": "用一句话提问",
    "ask_placeholder": "例如：上个月丽水哪些县一网通办率没达标？ · 山区26县掌上办理率排名后五 · 哪些指标年底完不成？",
    "ask_button": "提问",
    "ask_open": "打开对应页面：{page}",
    "ask_clarify": "没有完全读懂，请选择：",
    "ask_coverage": "已报 {n}/{of}",
    "ask_more": "另有 {n} 项见表格",
    "ask_page_rankings": "排名",
    "ask_page_compare": "对比",
    "ask_page_quality": "数据质量",
    "ask_page_overview": "总览",
    "ask_page_county": "区县画像",
    "ask_page_system": "系统看板",
}

EN: dict[str, str] = {
    "ask_title": "Ask",
    "ask_label": "Ask in one sentence",
    "ask_placeholder": "e.g. which counties of lishui missed the online handling rate target last month",
    "ask_button": "Ask",
    "ask_open": "Open the page: {page}",
    "ask_clarify": "Not fully understood; pick one:",
    "ask_coverage": "reported {n}/{of}",
    "ask_more": "{n} more in the table",
    "ask_page_rankings": "rankings",
    "ask_page_compare": "comparison",
    "ask_page_quality": "data quality",
    "ask_page_overview": "overview",
    "ask_page_county": "county profile",
    "ask_page_system": "system dashboard",
}
