"""Strings of the forecast feature (keys prefixed `forecast_`)."""

ZH: dict[str, str] = {
    "forecast_tile": "按当前进度，预计年底达到 {value}（目标 {target}），达标概率 {prob}",
    "forecast_tip": "年底预测（{year}年12月的值）：{value}，80%区间 {lo}–{hi}；{when}。"
                    "方法：去年同月形态加当前同比变化外推，区间与概率来自同一方法过去的预测误差。",
    "forecast_when_met": "当前已达标，预计保持到年底",
    "forecast_when_month": "按当前进度预计{month}起达标",
    "forecast_when_not": "按当前进度年内难以达标",
    "forecast_month": "{m}月",
    "forecast_state_met": "已达标",
    "forecast_state_not": "年内难达标",
    "forecast_risk_title": "达标风险 · {n} 个{level}年底达标概率低于 50%",
    "forecast_risk_caption": "按当前进度预测 {year} 年 12 月的值（数据截至 {cutoff}）；80%区间与达标概率来自"
                             "同一方法过去的预测误差。按达标概率从低到高排列。",
    "forecast_risk_none": "没有{level}的年底达标概率低于 50%。",
    "forecast_risk_na": "本期无年底预测：该指标在此层级没有年度目标，或统计期已到 12 月、未结束，或历史数据不足。",
    "forecast_lvl_county": "区县",
    "forecast_lvl_city": "设区市",
    "forecast_col_region": "地区",
    "forecast_col_now": "当前值",
    "forecast_col_proj": "预计年底",
    "forecast_col_interval": "80%区间",
    "forecast_col_target": "年度目标",
    "forecast_col_prob": "达标概率",
    "forecast_col_when": "预计达标",
    "forecast_prob_help": "12月的值达到（或低于，视指标方向）年度目标的概率",
}

EN: dict[str, str] = {
    "forecast_tile": "On the current course: {value} by year end (target {target}), {prob} chance of meeting it",
    "forecast_tip": "Year-end forecast (the value of December {year}): {value}, 80% interval {lo}–{hi}; {when}. "
                    "Method: last year's monthly shape plus the current year-on-year change; interval and "
                    "probability from the same method's past forecast errors.",
    "forecast_when_met": "on target now and expected to stay so",
    "forecast_when_month": "on the current course on target from {month}",
    "forecast_when_not": "on the current course not on target this year",
    "forecast_month": "{m}",
    "forecast_state_met": "on target",
    "forecast_state_not": "not this year",
    "forecast_risk_title": "At risk · {n} {level} below a 50% chance of meeting the year's target",
    "forecast_risk_caption": "December {year} projected on the current course (data through {cutoff}); the 80% "
                             "interval and the probability come from the same method's past forecast errors. "
                             "Least likely first.",
    "forecast_risk_none": "No {level} below a 50% chance of meeting the year's target.",
    "forecast_risk_na": "No year-end forecast here: the KPI has no yearly target at this level, or the period "
                        "is December or not complete, or the history is too short.",
    "forecast_lvl_county": "counties",
    "forecast_lvl_city": "cities",
    "forecast_col_region": "Region",
    "forecast_col_now": "Now",
    "forecast_col_proj": "Year end",
    "forecast_col_interval": "80% interval",
    "forecast_col_target": "Target",
    "forecast_col_prob": "Chance",
    "forecast_col_when": "On target from",
    "forecast_prob_help": "Probability that December's value meets the year's target (direction-aware)",
}
