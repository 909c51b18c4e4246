"""Alert rules for the overview (plain functions over the bulk frame, no Streamlit).

Rules, most severe first:
  overdue     a county in scope has not reported (逾期未报): bulk rows at the scope with
              complete == False list the missing counties; one alert per county.
  off_target  a headline KPI is red at the scope.
  drop        a county in scope moved sharply the wrong way on a headline KPI month on month
              (rates: >= DROP_PTS fraction points; counts: >= DROP_REL relative).
  falling     any KPI at the scope moved the wrong way month on month beyond FALL_PTS / FALL_REL.
  stale       a KPI's data at the scope ends before the period ends (as_of < period end).
Each alert carries a link target: ("county", code) or ("system", system code).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from metrics.catalogue import Catalogue
from metrics.geography import Geography
from metrics.periods import Period
from ui import fmt
from ui.i18n import t

DROP_PTS, DROP_REL = 0.05, 0.20
FALL_PTS, FALL_REL = 0.005, 0.05
SEVERITY = {"followup": 0, "overdue": 0, "off_target": 1, "drop": 2, "falling": 3, "stale": 4}


@dataclass(frozen=True)
class Alert:
    kind: str
    text: str
    target: tuple[str, str]  # ("county", code) | ("system", code) | ("followup", item id)
    kpi: str | None = None


def _worse(change: float, direction: str, fmt_: str, pts: float, rel: float) -> bool:
    if not fmt.is_num(change):
        return False
    bad = -change if direction == "up" else change
    return bad >= (pts if fmt_ == "percent" else rel)


def build_alerts(
    bulk: pd.DataFrame, cat: Catalogue, geo: Geography, scope: str, period: Period, counties: list[str], lang: str
) -> list[Alert]:
    if bulk is None or bulk.empty:
        return []
    alerts: list[Alert] = []
    at_scope = bulk[bulk["region"] == scope]
    # overdue counties: which county misses how many KPIs
    missing: dict[str, int] = {}
    for ms in at_scope.loc[~at_scope["complete"], "missing"]:
        for c in ms:
            if c in counties:
                missing[c] = missing.get(c, 0) + 1
    for c, n in sorted(missing.items(), key=lambda x: (-x[1], x[0])):
        alerts.append(Alert("overdue", t("al_overdue", lang, county=geo.get(c).name(lang), n=n), ("county", c)))
    headline = [k.code for k in cat.headline_kpis()]
    for k in cat.headline_kpis():
        r = at_scope[at_scope["kpi"] == k.code]
        if len(r) and r.iloc[0]["status"] == "red":
            r = r.iloc[0]
            alerts.append(Alert("off_target", t("al_off_target", lang, kpi=k.name(lang),
                                                value=fmt.value(r["value"], k, lang),
                                                target=fmt.value(r["target"], k, lang)),
                                ("system", k.system), k.code))
    cs = bulk[bulk["region"].isin(counties) & bulk["kpi"].isin(headline)]
    for r in cs.itertuples(index=False):
        if _worse(r.change_prev, r.direction, r.format, DROP_PTS, DROP_REL):
            k = cat.kpi(r.kpi)
            alerts.append(Alert("drop", t("al_drop", lang, county=geo.get(r.region).name(lang), kpi=k.name(lang),
                                          change=fmt.change(r.change_prev, k, lang)), ("county", r.region), r.kpi))
    for r in at_scope.itertuples(index=False):
        if _worse(r.change_prev, r.direction, r.format, FALL_PTS, FALL_REL):
            k = cat.kpi(r.kpi)
            alerts.append(Alert("falling", t("al_falling", lang, kpi=k.name(lang),
                                             change=fmt.change(r.change_prev, k, lang)), ("system", k.system), r.kpi))
    end = period.end
    for r in at_scope.itertuples(index=False):
        if isinstance(r.as_of, str) and dt.date.fromisoformat(r.as_of) < end:
            k = cat.kpi(r.kpi)
            alerts.append(Alert("stale", t("al_stale", lang, kpi=k.name(lang), as_of=r.as_of), ("system", k.system), r.kpi))
    return sorted(alerts, key=lambda a: SEVERITY[a.kind])


def followup_alerts(items: list, today: dt.date, lang: str, kpi_name: Callable[[str, str], str],
                    region_name: Callable[[str, str], str], owner_name: Callable[[str, str, str], str]) -> list[Alert]:
    """Overdue 批示 items (followup.model.Item, most escalated first) as alerts linking to the item."""
    return [Alert("followup", t("followup_alert", lang, level=t(f"followup_level_{max(i.level(today), 1)}", lang),
                                kpi=kpi_name(i.figure.kpi, lang), region=region_name(i.figure.region, lang),
                                days=i.overdue_days(today), owner=owner_name(i.owner_kind, i.owner_code, lang)),
                  ("followup", str(i.id)), i.figure.kpi) for i in items]
