"""Alert rules for the overview (plain functions over the bulk frame, no Streamlit).

Rules, in the order a leader reads them (overdue 督办 items are put before all of these by the panel):
  off_target  a headline KPI is red at the scope (the province's or the city's own figure).
  falling     any KPI at the scope moved the wrong way month on month beyond FALL_PTS / FALL_REL.
  overdue     a county in scope has not reported (逾期未报): bulk rows at the scope with
              complete == False list the missing counties; one alert per county.
  drop        a county in scope moved sharply the wrong way on a headline KPI month on month
              (rates: >= DROP_PTS fraction points; counts: >= DROP_REL relative).
  stale       a KPI's data at the scope ends before the period ends (as_of < period end).
  small       drops of counties whose figure is a small sample (the rankings' rule: denominator
              below the KPI's min_denominator) are one alert per KPI, last: a swing on a handful
              of cases is noise until it persists, and must not push the province's warnings down.
Each alert carries a link target: ("county", code) or ("system", system code). The panel shows a
screenful (SCREENFUL) and says how many more there are.
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
SEVERITY = {"followup": 0, "off_target": 1, "falling": 2, "overdue": 3, "drop": 4, "stale": 5, "small": 6}
SCREENFUL = 8  # alerts the overview panel shows before "N more"
OFF_SHOWN = 3  # headline KPIs off target listed one by one; more are summed up in one alert


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
    off: list[tuple[float, Alert]] = []
    for k in cat.headline_kpis():
        r = at_scope[at_scope["kpi"] == k.code]
        if len(r) and r.iloc[0]["status"] == "red":
            r = r.iloc[0]
            key = "al_off_pace" if bool(r.get("paced", False)) else "al_off_target"  # a count judged on 序时
            a = Alert("off_target", t(key, lang, kpi=k.name(lang), value=fmt.value(r["value"], k, lang),
                                      target=fmt.value(r["target"], k, lang)), ("system", k.system), k.code)
            att = r.get("attainment")
            off.append((float(att) if fmt.is_num(att) else 0.0, a))
    # the furthest from target one by one; beyond OFF_SHOWN the rest in one line (the tiles show them red)
    off.sort(key=lambda x: x[0])
    alerts += [a for _, a in off[:OFF_SHOWN]]
    if len(off) > OFF_SHOWN + 1:
        rest = [a for _, a in off[OFF_SHOWN:]]
        names = ("、" if lang == "zh" else ", ").join(cat.kpi(a.kpi or "").name(lang) for a in rest)
        alerts.append(Alert("off_target", t("al_off_target_more", lang, n=len(rest), kpis=names), rest[0].target))
    elif len(off) == OFF_SHOWN + 1:
        alerts.append(off[-1][1])
    cs = bulk[bulk["region"].isin(counties) & bulk["kpi"].isin(headline)]
    small: dict[str, list[str]] = {}
    for r in cs.itertuples(index=False):
        if _worse(r.change_prev, r.direction, r.format, DROP_PTS, DROP_REL):
            k = cat.kpi(r.kpi)
            if bool(getattr(r, "small_sample", False)):
                small.setdefault(r.kpi, []).append(geo.get(r.region).name(lang))
                continue
            alerts.append(Alert("drop", t("al_drop", lang, county=geo.get(r.region).name(lang), kpi=k.name(lang),
                                          change=fmt.change(r.change_prev, k, lang)), ("county", r.region), r.kpi))
    for code, names in small.items():
        k = cat.kpi(code)
        sep = "、" if lang == "zh" else ", "
        alerts.append(Alert("small", t("al_small_swings", lang, kpi=k.name(lang), n=len(names),
                                       counties=sep.join(names[:3]) + ("…" if len(names) > 3 else "")),
                            ("system", k.system), code))
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


def screenful(alerts: list[Alert], limit: int = SCREENFUL) -> tuple[list[Alert], int]:
    """The alerts that fit the panel, and how many more there are."""
    return alerts[:limit], max(0, len(alerts) - limit)


def followup_alerts(items: list, today: dt.date, lang: str, kpi_name: Callable[[str, str], str],
                    region_name: Callable[[str, str], str], owner_name: Callable[[str, str, str], str]) -> list[Alert]:
    """Overdue 批示 items (followup.model.Item, most escalated first) as alerts linking to the item."""
    return [Alert("followup", t("followup_alert", lang, level=t(f"followup_level_{max(i.level(today), 1)}", lang),
                                kpi=kpi_name(i.figure.kpi, lang), region=region_name(i.figure.region, lang),
                                days=i.overdue_days(today), owner=owner_name(i.owner_kind, i.owner_code, lang)),
                  ("followup", str(i.id)), i.figure.kpi) for i in items]
