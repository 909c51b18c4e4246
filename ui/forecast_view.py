"""Year-end forecasts in the app: the tile sentence, the league tables' 达标风险 section.

Numbers come from metrics.forecast; this module formats them and caches them per database URL,
period and data version. The text helpers are plain functions (tests call them directly); only
`forecasts()` and `risk_section()` touch Streamlit.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from html import escape

import pandas as pd

from metrics.catalogue import Kpi
from metrics.forecast import at_risk, prob_text
from metrics.periods import Period
from ui import data, downloads, fmt, html
from ui.i18n import t


# -- text (no Streamlit) -------------------------------------------------------------------------
def month_name(m: int, lang: str) -> str:
    return t("forecast_month", lang, m=calendar.month_abbr[m] if lang == "en" else str(m))


def when_text(row: pd.Series, lang: str, short: bool = False) -> str:
    """When the target is met on the current course: already, from a month, or not this year."""
    state = row["state"]
    if state == "met":
        return t("forecast_state_met" if short else "forecast_when_met", lang)
    if state == "on_course":
        m = month_name(int(row["month_met"]), lang)
        return m if short else t("forecast_when_month", lang, month=m)
    if state == "not_this_year":
        return t("forecast_state_not" if short else "forecast_when_not", lang)
    return "—"


def row_for(fc: pd.DataFrame | None, kpi: str, region: str) -> pd.Series | None:
    if fc is None or fc.empty:
        return None
    hit = fc[(fc["kpi"] == kpi) & (fc["region"] == region) & fc["projection"].notna()]
    return None if hit.empty else hit.iloc[0]


def tile_sentence(row: pd.Series, k: Kpi, lang: str) -> str:
    """'按当前进度，预计年底达到 93.1%（目标 95.0%），达标概率 22%'."""
    return t("forecast_tile", lang, value=fmt.value(row["projection"], k, lang),
             target=fmt.value(row["target"], k, lang), prob=prob_text(row["prob"]))


def tile_tip(row: pd.Series, k: Kpi, lang: str) -> str:
    return t("forecast_tip", lang, year=int(row["year"]), value=fmt.value(row["projection"], k, lang),
             lo=fmt.value(row["lo"], k, lang), hi=fmt.value(row["hi"], k, lang), when=when_text(row, lang))


def tile_line_html(sentence: str, tip: str, prob: float | None) -> str:
    """The extra line under a tile (escaped; coloured by how likely the target is)."""
    colour = fmt.FLAT if not fmt.is_num(prob) else (
        fmt.STATUS_TEXT["green"] if prob >= 0.8 else fmt.STATUS_TEXT["amber"] if prob >= 0.5 else fmt.STATUS_TEXT["red"])
    return (f'<div class="t-forecast" title="{escape(tip)}" style="font-size:0.78rem;line-height:1.25;'
            f'height:3.75em;overflow:hidden;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;'
            f'margin-top:4px;color:{colour}">{escape(sentence)}</div>')  # fixed 3 lines: tiles in a row line up


def tile_html(base: str, sentence: str | None, tip: str | None, prob: float | None) -> str:
    """A tile's HTML (ui.html.tile) with the forecast line added as its last line.

    sentence None: no line; "" : an empty line of the same height, so that a tile without a
    forecast (a count KPI below the province) lines up with its neighbours that have one.
    """
    if sentence is None:
        return base
    cut = base.rfind("</div>")
    return base[:cut] + tile_line_html(sentence, tip or "", prob) + base[cut:]


def risk_frame(fc: pd.DataFrame, k: Kpi, regions: Iterable[str], names: dict[str, str], lang: str) -> pd.DataFrame:
    """The 达标风险 table: regions below a 50% chance, least likely first (what the page shows)."""
    d = at_risk(fc, k.code, regions)
    return pd.DataFrame({
        "region": d["region"],
        t("forecast_col_region", lang): [names.get(r, r) for r in d["region"]],
        t("forecast_col_now", lang): [fmt.value(v, k, lang) for v in d["value_now"]],
        t("forecast_col_proj", lang): [fmt.value(v, k, lang) for v in d["projection"]],
        t("forecast_col_interval", lang): [f"{fmt.value(a, k, lang)}–{fmt.value(b, k, lang)}"
                                           for a, b in zip(d["lo"], d["hi"], strict=True)],
        t("forecast_col_target", lang): [fmt.value(v, k, lang) for v in d["target"]],
        t("forecast_col_prob", lang): [prob_text(p) for p in d["prob"]],
        t("forecast_col_when", lang): [when_text(r, lang, short=True) for _, r in d.iterrows()],
    })


# -- Streamlit -----------------------------------------------------------------------------------
def forecasts(period: Period, kpis: Iterable[str] | None = None) -> pd.DataFrame:
    """Forecasts from the period's last month for the user's regions (the read boundary, cached)."""

    return data.reader().forecasts(period, kpis)


def risk_section(ctx, k: Kpi, regions: list[str], level: str) -> None:
    """The league table's 达标风险 block for the selected KPI and population."""
    import streamlit as st


    lang = ctx.lang
    fc = forecasts(ctx.period, [k.code])
    lvl = t(f"forecast_lvl_{level}", lang)
    has = fc[(fc["kpi"] == k.code) & fc["region"].isin(set(regions)) & fc["projection"].notna()]
    if has.empty:
        st.markdown(f"**{t('forecast_risk_title', lang, n=0, level=lvl)}**")
        st.caption(t("forecast_risk_na", lang))
        return
    geo = data.engine().geo
    names = {r: geo.get(r).name(lang) for r in regions}
    risk = risk_frame(fc, k, regions, names, lang)
    st.markdown(f"**{t('forecast_risk_title', lang, n=len(risk), level=lvl)}**")
    st.caption(t("forecast_risk_caption", lang, year=int(has["year"].iloc[0]), cutoff=has["cutoff"].iloc[0]))
    if risk.empty:
        st.caption(t("forecast_risk_none", lang, level=lvl))
        return
    st.dataframe(risk.drop(columns=["region"]), hide_index=True, width="stretch", key="forecast_risk",
                 height=min(420, 35 * (len(risk) + 1) + 3),
                 column_config={t("forecast_col_prob", lang): st.column_config.TextColumn(
                     help=t("forecast_prob_help", lang))})
    downloads.buttons(at_risk(fc, k.code, regions), f"{t('forecast_col_prob', lang)}_{k.name(lang)}_{ctx.period.label}",
                      lang, "dl_forecast_risk")


def tile(tl, lang: str) -> str:
    """ui.html.tile plus the forecast line (the overview's tiles)."""

    return tile_html(html.tile(tl, lang), tl.forecast, tl.forecast_tip, tl.forecast_prob)


def tile_grid(tiles: list, lang: str) -> str:
    return '<div class="tile-grid">' + "".join(tile(x, lang) for x in tiles) + "</div>"
