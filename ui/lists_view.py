"""The red and black lists on screen: each rule in words and its entries with their reasons.

The entries come from metrics.redblack through the read boundary; this module only shapes them.
"""

from __future__ import annotations

import pandas as pd

from metrics.catalogue import Catalogue
from metrics.geography import Geography
from metrics.schemes import ListRule, SchemeBook
from ui.i18n import t
from ui.rank_frames import region_link


def rule_title(r: ListRule, cat: Catalogue, book: SchemeBook, lang: str) -> str:
    """A list rule in words (e.g. 双月综合评价后5名), with the parameters in force."""
    if r.scheme:
        subject = book.scheme(r.scheme).name(lang)
    elif len(r.kpis) <= 2:
        subject = ("、" if lang == "zh" else ", ").join(cat.kpi(c).name(lang) for c in r.kpis)
    else:
        subject = t("rankings_n_kpis", lang, first=cat.kpi(r.kpis[0]).name(lang), n=len(r.kpis))
    return t(f"rankings_rule_{r.rule}", lang, subject=subject, n=r.n or 0, k=r.k or 0, m=r.m or 0)


def list_frame(entries: pd.DataFrame, geo: Geography, lang: str, params: dict[str, str]) -> pd.DataFrame:
    """One rule's entries: region (link), its city, why it is listed (the reason names the KPI or scheme)."""
    regions = [geo.get(r) for r in entries["region"]]
    return pd.DataFrame({
        t("region", lang): [region_link(r.code, r.level, r.name(lang), params) for r in regions],
        t("rankings_city", lang): [geo.get(r.parent_code).name(lang) if r.level == "county" and r.parent_code else ""
                                   for r in regions],
        t("rankings_reason", lang): entries["reason_en" if lang == "en" else "reason_zh"].to_numpy(),
    })
