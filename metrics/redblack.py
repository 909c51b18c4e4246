"""Red (红榜) and black (黑榜) lists: the entries each list rule gives a period, each with its reason.

Rules are defined in metrics/definitions/schemes.yaml (metrics.schemes). No Streamlit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from i18n import LANGS
from metrics import formats
from metrics.catalogue import Kpi
from metrics.composite import evaluate_scheme
from metrics.engine import MetricsEngine
from metrics.evaluate import publish
from metrics.geography import Geography
from metrics.league import league_table, standings
from metrics.periods import Period, add_months
from metrics.rankings import Population, memo_trend, resolve_period
from metrics.schemes import ListRule, SchemeBook, schemes
from metrics.texts import tr

LIST_COLUMNS = ["board", "board_zh", "rule_code", "rule", "subject", "subject_zh", "region", "name_zh", "name_en",
                "value", "rank", "rank_of", "reason_zh", "reason_en"]


def format_value(kpi: Kpi, v: float | None, extra: int = 0) -> str:
    """A value in a list reason (93.1%, 1,234,567): every digit and no unit, since one reason text serves
    both languages; `extra` decimals more when a streak's steps would otherwise print alike."""
    return formats.value(v, kpi, unit=False, short=False, extra=extra)


def _format_path(kpi: Kpi, values: Sequence[float]) -> list[str]:
    """Values of a streak, with as many more decimals (up to 2) as it takes for each step to show."""
    for extra in range(3):
        out = [format_value(kpi, v, extra) for v in values]
        if all(a != b for a, b in zip(out, out[1:], strict=False)):
            break
    return out


def _entry(rule: ListRule, subject: str, subject_zh: str, region: str, geo: Geography, value, rank, rank_of,
           zh: str, en: str) -> dict:
    return {
        "board": rule.board, "board_zh": "红榜" if rule.board == "red" else "黑榜", "rule_code": rule.code,
        "rule": rule.rule, "subject": subject, "subject_zh": subject_zh, "region": region,
        "name_zh": geo.get(region).name_zh, "name_en": geo.get(region).name_en, "value": value,
        "rank": rank, "rank_of": rank_of, "reason_zh": zh, "reason_en": en,
    }


def _cutoff(ranked: pd.DataFrame, n: int, top: bool) -> pd.DataFrame:
    """The top or bottom n by rank, ties at the boundary included."""
    if ranked.empty:
        return ranked
    ranks = ranked["rank"].sort_values(ascending=top).astype(int).tolist()
    edge = ranks[min(n, len(ranks)) - 1]
    return ranked[ranked["rank"] <= edge] if top else ranked[ranked["rank"] >= edge]


def _rank_rule(
    engine: MetricsEngine, rule: ListRule, p: Period, book: SchemeBook | None, known_at: dt.datetime | None
) -> list[dict]:
    out: list[dict] = []
    top = rule.rule == "top_n"
    n = int(rule.n or 0)
    pop = Population.parse(rule.population, engine.geo)
    where = {lang: pop.label(engine.geo, lang) for lang in LANGS}

    def pos(lang: str, rk: int, of: int) -> str:
        return tr("rb_pos_top", lang, rank=rk) if top else tr("rb_pos_bottom", lang, back=of - rk + 1)
    if rule.scheme:
        res = evaluate_scheme(engine, rule.scheme, p, pop, book=book, known_at=known_at)
        ranked = res.scores[res.scores["standing"] == "ranked"]
        s = res.scheme
        for _, row in _cutoff(ranked, n, top).iterrows():
            rk, of = int(row["rank"]), int(row["rank_of"])
            zh, en = (tr("rb_scheme", lang, scheme=s.name_zh if lang == "zh" else s.name_en, score=row["score"],
                         where=where[lang], rank=rk, of=of, pos=pos(lang, rk, of), tier=row[f"tier_{lang}"])
                      for lang in LANGS)
            out.append(_entry(rule, s.code, s.name_zh, row["region"], engine.geo, row["score"], rk, of, zh, en))
        return out
    for code in rule.kpis:
        k = engine.catalogue.kpi(code)
        t = league_table(engine, code, p, pop, small_sample="separate", trend_months=0, known_at=known_at)
        ranked = t[t["standing"] == "ranked"]
        for _, row in _cutoff(ranked, n, top).iterrows():
            rk, of = int(row["rank"]), int(row["rank_of"])
            zh, en = (tr("rb_kpi", lang, kpi=k.name(lang), value=format_value(k, row["value"]),
                         target=tr("rb_target", lang, target=format_value(k, row["target"]))
                         if pd.notna(row["target"]) else "", where=where[lang], rank=rk, of=of, pos=pos(lang, rk, of))
                      for lang in LANGS)
            out.append(_entry(rule, k.code, k.name_zh, row["region"], engine.geo, row["value"], rk, of, zh, en))
    return out


def _window(engine: MetricsEngine, kpis: list[str], regions: list[str], p: Period, months: int) -> pd.DataFrame:
    """Monthly values, wide: index (kpi, region), columns = the `months` months up to p's last month."""
    end = Period.month(p.end.year, p.end.month)
    tr = memo_trend(engine, kpis, regions, end, months)
    return tr.pivot_table(index=["kpi", "region"], columns="month", values="value", dropna=False).reindex(
        columns=[add_months(end.start, -i) for i in range(months - 1, -1, -1)]
    )


def _streak_rules(engine: MetricsEngine, rule: ListRule, p: Period) -> list[dict]:
    pop = Population.parse(rule.population, engine.geo)
    regions = pop.regions(engine.geo, p.end)
    decline = rule.rule == "consecutive_decline"
    months = int(rule.k or 0) + 1 if decline else int(rule.m or 0)
    wide = _window(engine, list(rule.kpis), regions, p, months)
    out: list[dict] = []
    for (code, region), vals in wide.iterrows():
        k = engine.catalogue.kpi(code)
        v = vals.to_numpy(dtype=float)
        if np.isnan(v).any():
            continue  # a gap in the record: the streak is not established, and never imputed
        # judged on the figures as published: a month that shows its target has met it
        v = publish(v, k.format, k.decimals).to_numpy()
        up = k.direction == "up"
        labels = [f"{m:%Y-%m}" for m in vals.index]
        if decline:
            steps = np.diff(v)
            if not (np.all(steps < 0) if up else np.all(steps > 0)):
                continue
            path = " → ".join(_format_path(k, list(v)))
            n = months - 1
            zh, en = (tr("rb_decline" if up else "rb_rise", lang, kpi=k.name(lang), n=n, path=path) for lang in LANGS)
        else:
            targets = [k.target_for(m.year) for m in vals.index]
            if any(t is None for t in targets):
                continue
            tv = publish([t[0] for t in targets], k.format, k.decimals).to_numpy()  # type: ignore[index]
            if not (np.all(v < tv) if up else np.all(v > tv)):
                continue
            if len(set(tv)) == 1:  # one target all along: said once
                zh, en = (tr("rb_missed_one", lang, kpi=k.name(lang), n=months, target=format_value(k, tv[0]),
                             values=tr("rb_join", lang).join(format_value(k, x) for x in v)) for lang in LANGS)
            else:
                zh, en = (tr("rb_missed", lang, kpi=k.name(lang), n=months, values=tr("rb_join", lang).join(
                    tr("rb_month_vs", lang, month=lab, value=format_value(k, x), target=format_value(k, t))
                    for lab, x, t in zip(labels, v, tv, strict=True))) for lang in LANGS)
        out.append(_entry(rule, k.code, k.name_zh, region, engine.geo, float(v[-1]), None, None, zh, en))
    return out


def _overdue_rule(engine: MetricsEngine, rule: ListRule, p: Period, known_at: dt.datetime | None) -> list[dict]:
    pop = Population.parse(rule.population, engine.geo)
    regions = pop.regions(engine.geo, p.end)
    b = engine.bulk(p, known_at)
    out: list[dict] = []
    rows = b[b["kpi"].isin(rule.kpis) & b["region"].isin(regions)]
    for code in rule.kpis:
        k = engine.catalogue.kpi(code)
        st = standings(rows[rows["kpi"] == code], k.direction == "up")
        for region in st.loc[st["standing"].isin(["overdue", "incomplete"]), "region"]:
            key = "rb_overdue" if st.set_index("region").loc[region, "standing"] == "overdue" else "rb_incomplete"
            zh, en = (tr(key, lang, kpi=k.name(lang), period=p.label) for lang in LANGS)
            out.append(_entry(rule, k.code, k.name_zh, region, engine.geo, None, None, None, zh, en))
    return out


def red_black_lists(
    engine: MetricsEngine,
    period: str | Period,
    rules: Sequence[str | ListRule] | None = None,
    *,
    book: SchemeBook | None = None,
    known_at: dt.datetime | None = None,
) -> pd.DataFrame:
    """Red (红榜) and black (黑榜) list entries for the period, each with its reason in zh and en.

    `known_at` freezes the rank and overdue rules; the streak rules read engine.trend (current data).
    """
    bk = book or schemes()
    p = resolve_period(engine, period)
    chosen = [r if isinstance(r, ListRule) else bk.rule(r) for r in rules] if rules is not None else list(bk.lists)
    entries: list[dict] = []
    for rule in chosen:
        if rule.rule in ("top_n", "bottom_n"):
            entries += _rank_rule(engine, rule, p, bk, known_at)
        elif rule.rule in ("consecutive_decline", "off_target"):
            entries += _streak_rules(engine, rule, p)
        else:
            entries += _overdue_rule(engine, rule, p, known_at)
    df = pd.DataFrame(entries, columns=LIST_COLUMNS)
    df["period"] = p.label
    for c in ("rank", "rank_of"):
        df[c] = df[c].astype("Int64")
    return df
