"""Building the deck: the slides of a period from a freeze's tables (or the same tables computed now).

A frozen deck is built only from a freeze's materialised tables; a live deck from the same tables
computed now (pack.freeze.pack_tables), through the same code, so they show the same numbers.
"""

from __future__ import annotations

import calendar
import datetime as dt

import pandas as pd

from followup.model import escalation_level
from followup.service import state_at
from metrics.catalogue import Catalogue, Kpi
from metrics.engine import MetricsEngine
from metrics.forecast import at_risk, cutoff_of, prob_text, year_end_forecasts
from metrics.formats import compact
from metrics.geography import PROVINCE, Geography
from metrics.periods import Period
from pack.cells import finite, fmt_change, fmt_pct, fmt_value, int_text, rank_change_cell, score_fills, status_tone
from pack.deck import Bars, Card, Cell, Deck, MapData, Slide, Table
from pack.fitting import fit_fallbacks, fit_table, office_width
from pack.freeze import Freeze, coverage_of, frozen_tables, pack_tables, problems_day
from pack.texts import tr

ROWS_PER_SLIDE = 10


def _name(geo: Geography, code: str, lang: str) -> str:
    try:
        return geo.get(code).name(lang)
    except KeyError:
        return code


def _chunks(rows: list, n: int = ROWS_PER_SLIDE) -> list[list]:
    return [rows[i:i + n] for i in range(0, len(rows), n)] or [[]]


def _kpi_row(bulk: pd.DataFrame, k: str, region: str = PROVINCE) -> pd.Series | None:
    r = bulk[(bulk["kpi"] == k) & (bulk["region"] == region)]
    return None if r.empty else r.iloc[0]


def _incomplete(r: pd.Series) -> bool:
    """A figure short of its reporters (several expected, not all in)."""
    n_exp = finite(r.get("n_expected"))
    return n_exp is not None and n_exp > 1 and not bool(r.get("complete", True))


def _pace_label(r: pd.Series, k, lang: str) -> str:
    """'序时目标 23家（年度 30家）· 落后序时 2家': a count's year-end target spread over the year."""
    gap = float(r["pace_gap"])
    key = "pack_pace_ahead" if gap > 0 else "pack_pace_behind" if gap < 0 else "pack_pace_on"
    return tr("pack_target_paced", lang, target=fmt_value(r["target"], k, lang),
              annual=fmt_value(r["target_annual"], k, lang)) + " · " + tr(key, lang, n=fmt_value(abs(gap), k, lang))


def _cards(bulk: pd.DataFrame, cat: Catalogue, lang: str) -> list[Card]:
    cards = []
    for k in cat.headline_kpis():
        r = _kpi_row(bulk, k.code)
        if r is None:
            cards.append(Card(k.name(lang), "—", tr("pack_no_target", lang), Cell("—", "muted"), "missing"))
            continue
        sub = tr("pack_target_label", lang, target=fmt_value(r["target"], k, lang), att=fmt_pct(r["attainment"])) \
            if finite(r["target"]) is not None else tr("pack_no_target", lang)
        if bool(r.get("paced", False)) and finite(r.get("pace_gap")) is not None:  # a count judged on 序时
            sub = _pace_label(r, k, lang)
        if _incomplete(r):  # a partial figure says so, and carries no change or status colour
            sub = tr("pack_coverage_short", lang, n=int(r["n_reported"]), of=int(r["n_expected"]))
            cards.append(Card(k.name(lang), fmt_value(r["value"], k, lang), sub, Cell("—", "muted"), "muted"))
            continue
        cards.append(Card(k.name(lang), fmt_value(r["value"], k, lang), sub, fmt_change(r["change_prev"], k, lang),
                          status_tone(r["status"])))
    return cards


def _system_slides(bulk: pd.DataFrame, cat: Catalogue, lang: str, period: str, note: str = "") -> list[Slide]:
    slides = []
    head = [tr(c, lang) for c in ("pack_col_kpi", "pack_col_value", "pack_col_target", "pack_col_att",
                                  "pack_col_mom", "pack_col_rank")]
    for s in sorted(cat.systems, key=lambda s: s.order):
        rows, labels, values, tones = [], [], [], []
        for k in cat.kpis_of(s.code):
            r = _kpi_row(bulk, k.code)
            if r is None:
                continue
            part = _incomplete(r)
            tone = "muted" if part else status_tone(r["status"])
            rows.append([Cell(k.name(lang)), Cell(fmt_value(r["value"], k, lang), tone),
                         Cell(_pace_label(r, k, lang) if bool(r.get("paced", False)) and finite(r.get("pace_gap")) is not None
                              else fmt_value(r["target"], k, lang) if finite(r["target"]) is not None else "—", "muted"),
                         Cell("—" if part else fmt_pct(r["attainment"]), tone),
                         Cell(tr("pack_coverage_short", lang, n=int(r["n_reported"]), of=int(r["n_expected"])), "muted")
                         if part else fmt_change(r["change_prev"], k, lang),
                         Cell("—", "muted")])
            att = None if part else finite(r["attainment"])  # a partial sum against a whole-year target says nothing
            if att is not None:
                labels.append(k.name(lang))
                values.append(min(att, 1.2))
                tones.append(tone)
        name = s.name_en if lang == "en" else s.name_zh
        per = _rows_that_fit(head, rows, WIDTHS_SYSTEM, [0, 2], 300.0 if note else 340.0)
        for i, part in enumerate(_chunks(rows, per)):
            title = tr("pack_s_system", lang, system=name) + (tr("pack_s_cont", lang) if i else "")
            slides.append(Slide(
                f"system:{s.code}:{i}", title, tr("pack_s_system_sub", lang, period=period),
                tables=[Table(head, part, [*WIDTHS_SYSTEM, 0.0], wrap=[0, 2])],  # names, 序时 notes
                bars=Bars(labels, values, tones) if i == 0 and labels else None, footnote=note,
            ))
    for sl in slides:  # the province has no rank: drop the empty column
        for t in sl.tables:
            t.header, t.widths = t.header[:-1], t.widths[:-1]
            t.rows = [r[:-1] for r in t.rows]
    return slides


WIDTHS_SYSTEM = [2.4, 1.5, 2.2, 1.0, 1.9]  # KPI, value, target (a 序时 note wraps), attainment, change


def _rows_that_fit(head: list[str], rows: list[list[Cell]], widths: list[float], wrap: list[int],
                   height: float, width: float = 540.0, most: int = 8) -> int:
    """Rows per slide for a table of about `width` x `height` points (as the PPTX sets it, the tighter of the
    two renderers): `most` when they fit with every figure on one line at a readable size, else fewer
    (long 序时 notes and English names take lines)."""
    for n in range(most, 3, -1):
        saved = list(fit_fallbacks)
        ok = True
        for part in _chunks(rows, n):
            t = Table(head[:len(widths)], [r[:len(widths)] for r in part], widths, wrap=wrap)
            size, heights, _ = fit_table(t, width, height, office_width, pad=16.0, line=1.5)
            ok = ok and len(fit_fallbacks) == len(saved) and sum(heights) <= height and size >= 11
        fit_fallbacks[:] = saved
        if ok:
            return n
    return 4


def _league_table(df: pd.DataFrame, k: Kpi, geo: Geography, lang: str, bulk: pd.DataFrame | None = None) -> Table:
    head = [tr("pack_col_rank", lang), tr("pack_col_city", lang), tr("pack_col_value", lang),
            tr("pack_col_att", lang), tr("pack_col_change", lang)]
    rows = []
    for _, r in df.iterrows():
        b = _kpi_row(bulk, k.code, r["region"]) if bulk is not None else None
        if pd.isna(r["rank"]) and b is not None and _incomplete(b):  # not ranked: say how many are in
            rows.append([Cell("—", "muted"), Cell(_name(geo, r["region"], lang)),
                         Cell(fmt_value(r["value"], k, lang), "muted"),
                         Cell(tr("pack_coverage_short", lang, n=int(b["n_reported"]), of=int(b["n_expected"])), "muted"),
                         Cell("—", "muted")])
            continue
        tone = status_tone(r["status"])
        rows.append([Cell(int_text(r["rank"])), Cell(_name(geo, r["region"], lang)),
                     Cell(fmt_value(r["value"], k, lang), tone), Cell(fmt_pct(r["attainment"]), tone),
                     rank_change_cell(r["rank_change"], lang)])
    return Table(head, rows, [0.8, 1.6, 1.6, 1.2, 1.0], title=k.name(lang))


def _scheme_table(df: pd.DataFrame, geo: Geography, lang: str, title: str) -> Table:
    head = [tr("pack_col_rank", lang), tr("pack_col_county", lang), tr("pack_col_city", lang),
            tr("pack_col_score", lang), tr("pack_col_change", lang)]
    rows = []
    for _, r in df.iterrows():
        rows.append([Cell(int_text(r["rank"])), Cell(_name(geo, r["region"], lang)),
                     Cell(_name(geo, r["parent"], lang) if isinstance(r["parent"], str) else "—", "muted"),
                     Cell("—" if finite(r["score"]) is None else f"{float(r['score']):.1f}"),
                     rank_change_cell(r["rank_change"], lang)])
    return Table(head, rows, [0.8, 1.6, 1.2, 1.0, 1.0], title=title, wrap=[1, 2])


def _lists_tables(lists: pd.DataFrame, geo: Geography, lang: str, n_rows: int = 6) -> tuple[list[Table], str]:
    """Red and black lists side by side (first `n_rows` entries each, in rule order) and a note on the rest."""
    head = [tr("pack_col_region", lang), tr("pack_col_reason", lang)]
    out, more = [], []
    for board, key in (("red", "pack_red"), ("black", "pack_black")):
        sub = lists[lists["board"] == board] if not lists.empty else lists
        rows = [[Cell(_name(geo, r["region"], lang), "green" if board == "red" else "red"),
                 Cell(str(r["reason_en" if lang == "en" else "reason_zh"]))] for _, r in sub.head(n_rows).iterrows()]
        if not rows:
            rows = [[Cell("—", "muted"), Cell(tr("pack_no_entries", lang), "muted")]]
        if len(sub) > n_rows:
            more.append(tr("pack_list_more", lang, board=tr(key, lang), n=len(sub) - n_rows))
        out.append(Table(head, rows, [1.3, 3.7], title=tr("pack_list_title", lang, board=tr(key, lang), n=len(sub)),
                         wrap=[0, 1]))
    return out, ("；" if lang == "zh" else "; ").join(more)


def _problem_table(probs: pd.DataFrame, geo: Geography, lang: str) -> Table:
    head = [tr("pack_col_region", lang), tr("pack_col_problem", lang), tr("pack_col_owner", lang),
            tr("pack_col_deadline", lang), tr("pack_col_days", lang)]
    rows = []
    for _, r in probs.head(ROWS_PER_SLIDE).iterrows():
        rows.append([Cell(_name(geo, r["region_code"], lang)), Cell(str(r["title_en" if lang == "en" else "title_zh"])),
                     Cell(str(r["owner_en" if lang == "en" else "owner_zh"]), "muted"), Cell(str(r["deadline"])),
                     Cell(int_text(r["days_overdue"]), "red")])
    if not rows:
        rows = [[Cell("—", "muted"), Cell(tr("pack_no_problems", lang), "muted"), Cell(""), Cell(""), Cell("")]]
    widths, wrap = [1.1, 3.4, 1.8, 1.2, 0.9], [0, 1, 2]
    rows = rows[:_rows_that_fit(head, rows, widths, wrap, 340.0, 880.0, most=ROWS_PER_SLIDE)]  # long English owners
    return Table(head, rows, widths, wrap=wrap)


def _followup_slide(engine: MetricsEngine, when: dt.datetime | None, cat: Catalogue, geo: Geography,
                    lang: str) -> Slide:
    """批示督办: open instructions as they stood at the freeze (now for a live deck), the
    escalated (通报) and overdue first; rebuilt from the items' history, so a frozen deck does not move."""
    when = when or dt.datetime.now().replace(microsecond=0)
    rows_all = [(i, s, d) for i, s, d in state_at(engine.store.engine, when) if s != "closed"]
    n_over = sum(1 for _, _, d in rows_all if d > 0)
    n_rep = sum(1 for _, _, d in rows_all if escalation_level(d) == 2)
    head = [tr(f"pack_fu_col_{c}", lang) for c in ("region", "kpi", "text", "owner", "deadline", "state")]
    rows = []
    for i, s, d in rows_all[:ROWS_PER_SLIDE]:
        k = next((x for x in cat.kpis if x.code == i.figure.kpi), None)
        owner = _name(geo, i.owner_code, lang) if i.owner_kind == "region" else (
            next((x.owner_en for x in cat.kpis if x.owner_zh == i.owner_code), i.owner_code) if lang == "en"
            else i.owner_code)
        state = (Cell(tr("pack_fu_reported" if escalation_level(d) == 2 else "pack_fu_overdue", lang, days=d), "red")
                 if d > 0
                 else Cell(tr(f"pack_fu_st_{s}", lang), "amber" if s == "done" else "muted"))
        text = i.text if len(i.text) <= 60 else i.text[:59] + "…"
        rows.append([Cell(_name(geo, i.figure.region, lang)), Cell(k.name(lang) if k else i.figure.kpi), Cell(text),
                     Cell(owner, "muted"), Cell(i.deadline.isoformat()), state])
    if not rows:
        rows = [[Cell("—", "muted"), Cell(""), Cell(tr("pack_fu_none", lang), "muted"), Cell(""), Cell(""), Cell("")]]
    return Slide("followup", tr("pack_fu_title", lang),
                 tr("pack_fu_sub", lang, on=f"{when:%Y-%m-%d}", n=len(rows_all), m=n_over, k=n_rep),
                 tables=[Table(head, rows, [1.0, 1.6, 3.6, 1.5, 1.1, 1.3], wrap=[0, 1, 2, 3])],
                 footnote=tr("pack_fu_more", lang, n=len(rows_all) - ROWS_PER_SLIDE)
                 if len(rows_all) > ROWS_PER_SLIDE else "")


FC_RISK_ROWS = {"zh": 10, "en": 8}  # county rows on the forecast slide (English names take two or three lines)


def _forecast_slides(engine: MetricsEngine, p, known_at: dt.datetime | None, cat: Catalogue, geo: Geography,
                     lang: str) -> list[Slide]:
    """年度目标达标预测: the headline KPIs' year-end projection at the province and the
    counties least likely to meet a headline target. Computed from the data as known at the freeze
    (now for a live deck), so a frozen deck does not move; none when the period leaves nothing to
    project (December, not yet complete) or nothing has a target."""
    latest = engine.latest_month()
    cut = cutoff_of(p, latest)
    if cut is None and latest is not None and p.grain != "day" and p.end.replace(day=1) > latest.start \
            and latest.start.year == p.end.year:
        cut = cutoff_of(latest, latest)  # a month still being reported: forecast from the latest month
    heads = [k for k in cat.headline_kpis() if k.target_for(p.end.year)]
    if cut is None or not heads:
        return []
    fc = year_end_forecasts(engine, Period.month(cut.year, cut.month), kpis=[k.code for k in heads], known_at=known_at)
    fc = fc[fc["projection"].notna()]
    if fc.empty:
        return []

    def tone(pr: float) -> str:
        return "green" if pr >= 0.8 else "amber" if pr >= 0.5 else "red"

    def span(r: pd.Series, k: Kpi) -> str:  # "96.2–96.5%", "3.25M–3.30M": the unit once, to stay on one line
        lo, hi = finite(r["lo"]), finite(r["hi"])
        if lo is None or hi is None:
            return "—"
        if k.format == "percent":
            return f"{lo * 100:.{k.decimals}f}–{hi * 100:.{k.decimals}f}%"
        return f"{compact(lo, lang, k.decimals)}–{compact(hi, lang, k.decimals)}"

    def when(r: pd.Series) -> str:
        if r["state"] == "met":
            return tr("pack_fc_met", lang)
        if r["state"] == "on_course":
            m = int(r["month_met"])
            return tr("pack_fc_month", lang, m=calendar.month_abbr[m] if lang == "en" else m)
        return tr("pack_fc_not", lang) if r["state"] == "not_this_year" else "—"

    head = [tr(f"pack_fc_col_{c}", lang) for c in ("kpi", "proj", "int", "target", "prob", "when")]
    rows = []
    for k in heads:
        hit = fc[(fc["kpi"] == k.code) & (fc["region"] == PROVINCE)]
        if hit.empty:
            continue
        r = hit.iloc[0]
        rows.append([Cell(k.name(lang)), Cell(fmt_value(r["projection"], k, lang), tone(r["prob"])),
                     Cell(span(r, k), "muted"),
                     Cell(fmt_value(r["target"], k, lang)), Cell(prob_text(r["prob"]), tone(r["prob"])), Cell(when(r))])
    tables = [Table(head, rows, [2.6, 1.1, 1.5, 1.0, 0.9, 1.1], title=tr("pack_fc_prov", lang), wrap=[0, 5])] \
        if rows else []
    counties = fc[fc["region"].isin(set(geo.counties))]
    risk = pd.concat([at_risk(counties, k.code) for k in heads], ignore_index=True)
    risk = risk.sort_values(["prob", "region", "kpi"]) if len(risk) else risk
    head2 = [tr(f"pack_fc_col_{c}", lang) for c in ("region", "kpi", "proj", "target", "prob")]
    rows2 = [[Cell(_name(geo, r["region"], lang)), Cell(cat.kpi(r["kpi"]).name(lang)),
              Cell(fmt_value(r["projection"], cat.kpi(r["kpi"]), lang)),
              Cell(fmt_value(r["target"], cat.kpi(r["kpi"]), lang)), Cell(prob_text(r["prob"]), "red")]
             for _, r in risk.head(FC_RISK_ROWS[lang]).iterrows()]
    if not rows2:
        rows2 = [[Cell("—", "muted"), Cell(tr("pack_fc_none", lang), "muted"), Cell(""), Cell(""), Cell("")]]
    tables.append(Table(head2, rows2, [1.5, 2.4, 1.0, 0.9, 0.8], title=tr("pack_fc_risk", lang), wrap=[0, 1]))
    more = tr("pack_fc_more", lang, n=len(risk) - FC_RISK_ROWS[lang]) if len(risk) > FC_RISK_ROWS[lang] else ""
    # the province and the counties at risk on slides of their own: side by side, a dense English table would
    # need a font too small to read from the back of the room
    sub = tr("pack_fc_sub", lang, cutoff=f"{cut:%Y-%m}", year=cut.year)
    out = [Slide("forecast", tr("pack_fc_title", lang), sub, tables=tables[:-1], footnote=tr("pack_fc_foot", lang, more=""))]
    out.append(Slide("forecast_risk", tr("pack_fc_title", lang) + tr("pack_s_cont", lang), sub, tables=tables[-1:],
                     footnote=more))
    return [x for x in out if x.tables]


def _next_steps(tables: dict[str, pd.DataFrame], cat: Catalogue, geo: Geography, lang: str) -> list[str]:
    """Actions only: who does what (system notes such as when the next pack is made are not actions)."""
    bulk, lists, probs = tables["bulk"], tables.get("lists", pd.DataFrame()), tables.get("problems", pd.DataFrame())
    sep = "、" if lang == "zh" else ", "
    out = []
    if not lists.empty:
        black = list(dict.fromkeys(lists.loc[lists["board"] == "black", "region"]))
        if black:
            names = sep.join(_name(geo, c, lang) for c in black[:8])
            if len(black) > 8:
                names += tr("pack_more_names", lang, n=len(black) - 8)
            out.append(tr("pack_next_black", lang, regions=names))
    off = [k for k in cat.headline_kpis()
           if (r := _kpi_row(bulk, k.code)) is not None and r["status"] in ("red", "amber") and not _incomplete(r)]
    if off:
        out.append(tr("pack_next_off", lang, n=len(off), kpis=sep.join(k.name(lang) for k in off[:5])))
    if not probs.empty:
        out.append(tr("pack_next_problems", lang, n=len(probs), days=int(pd.to_numeric(probs["days_overdue"]).max())))
    # overdue reports only (due and not filed); a report not yet due is nobody's failure
    n_unrep = len(coverage_of(bulk)["overdue"]) if "missing" in bulk.columns else bulk.loc[
        (bulk["level"] == "county") & (bulk["status"] == "missing"), "region"].nunique()
    if n_unrep:
        out.append(tr("pack_next_unreported", lang, n=n_unrep))
    return out


def build_deck(engine: MetricsEngine, period: str, lang: str = "zh", freeze: Freeze | None = None,
               tables: dict[str, pd.DataFrame] | None = None) -> Deck:
    """The deck of a frozen period (from its stored tables) or of live data (freeze None)."""
    cat, geo = engine.catalogue, engine.geo
    lang = "en" if lang == "en" else "zh"
    p = engine.resolve_period(freeze.period if freeze else period)
    if tables is None:
        tables = frozen_tables(engine.store.engine, freeze.id) if freeze else pack_tables(engine, p, None)
    label = p.label
    bulk = tables["bulk"]
    if freeze:
        stamp = tr("pack_frozen_at", lang, at=f"{freeze.known_at:%Y-%m-%d %H:%M}", user=freeze.frozen_by or "—",
                   id=freeze.id)
        is_demo = freeze.is_demo
    else:
        stamp, is_demo = tr("pack_live", lang), engine.store.is_demo()
    cov = coverage_of(bulk)  # as it was at the freeze: the frozen rows carry their coverage
    cov_line = tr("pack_coverage", lang, n=cov["n_reported"], of=cov["n_expected"]) if cov["n_expected"] else ""
    note = ""
    if not cov["complete"]:
        why = tr("pack_why_pending", lang) if cov["pending"] else tr("pack_why_overdue", lang, k=len(cov["overdue"]))
        note = tr("pack_incomplete_note", lang, n=cov["n_reported"], of=cov["n_expected"], why=why)
    slides = [Slide("cover", tr("pack_deck_title", lang), tr("pack_deck_subtitle", lang, period=label),
                    bullets=[tr("pack_org", lang), stamp] + ([cov_line] if cov_line else []))]
    slides.append(Slide("kpis", tr("pack_s_kpis", lang), tr("pack_s_kpis_sub", lang, period=label),
                        cards=_cards(bulk, cat, lang), footnote=note))
    slides += _system_slides(bulk, cat, lang, label, note)
    slides += _forecast_slides(engine, p, freeze.known_at if freeze else None, cat, geo, lang)
    leagues = [(cat.kpi(kind.split(":", 1)[1]), df) for kind, df in tables.items() if kind.startswith("league:")]
    leagues.sort(key=lambda kd: kd[0].headline or 0)
    for i in range(0, len(leagues), 2):
        pair = leagues[i:i + 2]
        unranked = any(df["rank"].isna().any() for _, df in pair)
        slides.append(Slide(f"league:{i // 2}", tr("pack_s_league", lang), tr("pack_s_league_sub", lang, period=label),
                            tables=[_league_table(df, k, geo, lang, bulk) for k, df in pair],
                            footnote=tr("pack_league_unranked", lang) if unranked else ""))
    scheme = tables.get("scheme")
    ranked = scheme[scheme["rank"].notna()].sort_values("rank") if scheme is not None and not scheme.empty else None
    if scheme is not None and not scheme.empty and (ranked is None or ranked.empty):
        slides.append(Slide("scheme", tr("pack_s_scheme", lang), tr("pack_s_scheme_sub", lang, period=label),
                            bullets=[tr("pack_withheld", lang, n=cov["n_reported"], of=cov["n_expected"])]))
    elif scheme is not None and ranked is not None:
        slides.append(Slide("scheme", tr("pack_s_scheme", lang), tr("pack_s_scheme_sub", lang, period=label), tables=[
            _scheme_table(ranked.head(10), geo, lang, tr("pack_top10", lang)),
            _scheme_table(ranked.tail(10), geo, lang, tr("pack_bottom10", lang))]))
        fills, legend = score_fills(scheme, lang)
        labels = {r["region"]: f"{_name(geo, r['region'], lang)} {int(r['rank'])}"
                  for _, r in pd.concat([ranked.head(3), ranked.tail(3)]).iterrows()}
        slides.append(Slide("map", tr("pack_s_map", lang), tr("pack_s_map_sub", lang, period=label),
                            map=MapData(fills, legend, labels)))
    if cov["pending"] and not cov["complete"]:  # not yet due: no one is listed on the early reporters' figures
        tables = {**tables, "lists": pd.DataFrame(columns=["board", "region"])}
        slides.append(Slide("lists", tr("pack_s_lists", lang), tr("pack_s_lists_sub", lang, period=label),
                            bullets=[tr("pack_withheld", lang, n=cov["n_reported"], of=cov["n_expected"])]))
    else:
        list_tables, list_note = _lists_tables(tables.get("lists", pd.DataFrame()), geo, lang)
        slides.append(Slide("lists", tr("pack_s_lists", lang), tr("pack_s_lists_sub", lang, period=label),
                            tables=list_tables, footnote=list_note))
    probs = tables.get("problems", pd.DataFrame())
    on = f"{problems_day(engine, freeze.known_at if freeze else None):%Y-%m-%d}"
    ptable = _problem_table(probs, geo, lang)
    shown = len(ptable.rows) if len(probs) else 0
    slides.append(Slide("problems", tr("pack_s_problems", lang),
                        tr("pack_s_problems_sub", lang, on=on, n=len(probs)), tables=[ptable],
                        footnote=tr("pack_more_problems", lang, n=len(probs) - shown) if len(probs) > shown else ""))
    slides.append(_followup_slide(engine, freeze.known_at if freeze else None, cat, geo, lang))
    slides.append(Slide("next", tr("pack_s_next", lang), label, bullets=_next_steps(tables, cat, geo, lang)))
    prov = bulk[bulk["region"] == PROVINCE]
    figures = {k: finite(v) for k, v in zip(prov["kpi"], prov["value"], strict=True)}
    return Deck(label, lang, tr("pack_deck_title", lang), tr("pack_deck_subtitle", lang, period=label), stamp,
                is_demo, freeze.id if freeze else None, slides, figures, cov)
