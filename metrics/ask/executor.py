"""Answer a `Query` from the engine: the sentence, the figures, a small table and the page link.

Every figure comes from the functions the pages call — engine.bulk / township_bulk / trend,
metrics.league.league_table, metrics.forecast.year_end_forecasts — so an answer and the page its
link opens show the same number. A question about a region outside the reader's scope is refused
(the caller logs it), as the pages refuse such a URL.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa

from metrics.catalogue import Kpi
from metrics.engine import EngineError, MetricsEngine
from metrics.forecast import year_end_forecasts
from metrics.geography import PROVINCE
from metrics.league import league_table
from metrics.periods import Period, report_due
from metrics.rankings import Population, RankingError
from metrics.redblack import format_value

from .parser import class_members, parse
from .query import Clarification, Figure, Query
from .texts import tr

Forecasts = Callable[[Period], pd.DataFrame]  # year-end forecasts as of a month (metrics.forecast's frame)
MAX_NAMES = 10  # names listed in a sentence; the table has them all


@dataclass
class Answer:
    """What the question box shows: always the reading, then the answer or what to clarify."""

    kind: Literal["answer", "clarify", "refused", "error"]
    question: str = ""
    query: Query | None = None
    clarification: Clarification | None = None
    sentence: str = ""
    reading: str = ""
    figures: list[Figure] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    link_path: str = ""  # a page's url_path in app.py ("rankings")
    link_params: dict[str, str] = field(default_factory=dict)
    via_model: bool = False  # read by the optional model (metrics.ask.model), then checked and run as usual
    period_said: bool = field(default=False, repr=False)  # the coverage note names the period already

    @property
    def link(self) -> str:
        """The page view that shows the answer: "/rankings?period=2026-10&rkpi=…"."""
        if not self.link_path:
            return ""
        return f"/{self.link_path}" + (f"?{urlencode(self.link_params)}" if self.link_params else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "question": self.question, "query": self.query.as_dict() if self.query else None,
            "clarification": self.clarification.as_dict() if self.clarification else None,
            "sentence": self.sentence, "reading": self.reading, "via_model": self.via_model,
            "figures": [f.__dict__ for f in self.figures], "link": self.link,
            "table": self.table.astype(object).where(self.table.notna(), None).to_dict("records"),
        }


# -- context --------------------------------------------------------------------------------------


_CONTEXTS: dict[tuple, dict[str, Any]] = {}


def context_of(engine: MetricsEngine) -> dict[str, Any]:
    """today, the latest month, the first month with data and the newest month with any report.

    Cached per engine, data version and today: the months in progress take a scan of the
    observations (seconds on a province's history), and every question needs them."""
    key = (id(engine), engine.data_version(), engine.today)
    hit = _CONTEXTS.get(key)
    if hit is None:
        hit = _context(engine)
        if len(_CONTEXTS) > 16:
            _CONTEXTS.clear()
        _CONTEXTS[key] = hit
    return hit


def _context(engine: MetricsEngine) -> dict[str, Any]:
    from store.schema import rollup_month

    latest = engine.latest_month()
    if latest is None:
        return {"today": engine.today, "latest": None, "first": None, "newest": None}
    with engine.store.engine.connect() as conn:
        first = conn.execute(sa.select(sa.func.min(rollup_month.c.month))).scalar()
    progress = engine.reporting_months()
    return {"today": engine.today, "latest": latest, "newest": progress[0][0] if progress else latest,
            "first": None if first is None else pd.Timestamp(first).date().replace(day=1)}


def home_of(allowed_regions: frozenset[str] | None, engine: MetricsEngine) -> str:
    """The region a scoped reader's question is about when it names none: their city or county."""
    if allowed_regions is None or PROVINCE in allowed_regions:
        return PROVINCE
    geo = engine.geo
    for level in ("city", "county"):
        mine = sorted(c for c in allowed_regions if c in geo.regions and geo.get(c).level == level)
        if len(mine) == 1:
            return mine[0]
    return PROVINCE


def ask(question: str, engine: MetricsEngine, allowed_regions: frozenset[str] | None = None,
        lang: str = "zh", home: str | None = None, forecasts: Forecasts | None = None) -> Answer:
    """Parse and answer one question (a clarification or refusal is an Answer of that kind).

    allowed_regions: the reader's scope (None: everything); home: the region a question naming none
    is about (default: the scope's city or county, else the province); forecasts: the caller's cached
    year-end forecasts by period (the read boundary's `Reader.forecasts`), so a forecast question costs
    what the page it links to costs instead of a fresh fit (seconds)."""
    ctx = context_of(engine)
    if ctx["latest"] is None:
        return Answer("error", question, sentence=tr("ask_no_data", lang))
    q = parse(question, today=ctx["today"], latest=ctx["latest"], first=ctx["first"], newest=ctx["newest"],
              catalogue=engine.catalogue, geo=engine.geo, home=home or home_of(allowed_regions, engine))
    if isinstance(q, Clarification):
        from . import model

        mq = model.rephrase(question, q, cat=engine.catalogue, geo=engine.geo, today=ctx["today"],
                            latest=ctx["latest"], first=ctx["first"], newest=ctx["newest"]) if model.configured() else None
        if mq is not None:
            a = answer(mq, engine, allowed_regions, lang, forecasts)
            a.question, a.via_model, a.clarification = question, True, q
            a.reading = tr("ask_rephrased", lang) + a.reading
            return a
        msg = q.message(lang)
        if q.candidates:
            msg += tr("ask_candidates", lang, names=tr("ask_join", lang).join(q.candidates))
        return Answer("clarify", question, clarification=q, sentence=msg)
    a = answer(q, engine, allowed_regions, lang, forecasts)
    a.question = question
    return a


# -- helpers --------------------------------------------------------------------------------------


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _int(x: Any) -> int | None:
    v = _num(x)
    return None if v is None else int(v)


def period_text(p: Period, lang: str = "zh") -> str:
    return tr(f"ask_period_{p.grain}", lang, d=p.start, e=p.end, q=(p.start.month - 1) // 3 + 1)


def _when(a: Answer, p: Period, lang: str) -> str:
    """The period as a sentence names it; nothing when the coverage note before it already named it."""
    return "" if a.period_said else tr("ask_when", lang, period=period_text(p, lang))


def _listing(items: list[str], total: int, lang: str) -> str:
    """The names a sentence lists after a colon (：a、b、c等): the first MAX_NAMES; the table has them all."""
    if not items:
        return ""
    more = tr("ask_more_names", lang) if total > MAX_NAMES else ""
    return tr("ask_list", lang, items=tr("ask_join", lang).join(items[:MAX_NAMES]) + more)


def _items(rows: pd.DataFrame, k: Kpi, engine: MetricsEngine, lang: str) -> list[str]:
    return [tr("ask_item", lang, name=engine.geo.get(r["region"]).name(lang), v=format_value(k, _num(r["value"])))
            for _, r in rows.head(MAX_NAMES).iterrows()]


def _sentence(parts: list[str], lang: str) -> str:
    return tr("ask_join_parts", lang).join(parts) + tr("ask_end", lang)


def change_text(k: Kpi, d: float | None, lang: str = "zh") -> str:
    """A change as the pages show it: percentage points for rates, per cent for counts."""
    if d is None:
        return "—"
    if k.format == "percent":
        return tr("ask_points", lang, d=f"{d * 100:+.{k.decimals}f}")
    return f"{d * 100:+.1f}%"


def population_regions(spec: str, engine: MetricsEngine, p: Period) -> list[str]:
    if spec.startswith("class:"):
        return class_members(spec.partition(":")[2], p.end, engine.geo)
    return Population.parse(spec, engine.geo).regions(engine.geo, p.end)


def population_label(spec: str, engine: MetricsEngine, lang: str = "zh") -> str:
    if spec.startswith("class:"):
        return tr("ask_class_counties", lang, name=spec.partition(":")[2])
    pop = Population.parse(spec, engine.geo)
    label = pop.label(engine.geo, lang)
    if pop.kind == "group":
        return tr("ask_group_counties", lang, name=label)
    return label


def set_name(spec: str, engine: MetricsEngine, lang: str = "zh") -> str:
    """Whose members a sentence counts: 丽水市 (9个县), 全省 (90个县), 山区海岛25县, 柯城区 (乡镇)."""
    kind, _, code = spec.partition(":")
    if kind in ("counties", "cities") or (kind == "townships" and not code):
        return tr("ask_province", lang)
    if kind == "class":
        return code
    return engine.geo.get(code).name(lang)


def region_name(engine: MetricsEngine, code: str, lang: str = "zh") -> str:
    """A region's name; a township with its county (柯城区江北街道: township names repeat)."""
    geo = engine.geo
    r = geo.get(code)
    if code in geo.townships:
        county = geo.get(r.parent_code or "").name(lang)
        return tr("ask_township", lang, town=r.name(lang), county=county)
    return r.name(lang)


def _names(engine: MetricsEngine, codes: list[str], lang: str) -> list[str]:
    return [region_name(engine, c, lang) for c in codes]


def _scope_codes(q: Query, engine: MetricsEngine) -> list[str]:
    """Regions a query reads explicitly (a township stands for its county, a set for its code)."""
    geo = engine.geo
    out = [geo.get(c).parent_code or c if c in geo.townships else c for c in q.regions]
    if q.population and ":" in q.population:
        kind, _, code = q.population.partition(":")
        if kind in ("city", "group", "townships"):
            out.append(code)
    return out


def reading(q: Query, engine: MetricsEngine, lang: str = "zh") -> str:
    """How the question was read: 指标：… · 地区：… · 期间：… · 问：… · 条件：…"""
    cat = engine.catalogue
    every = tr("ask_all_kpis" if q.intent == "not_reported" else "ask_all_target_kpis", lang)
    kp = tr("ask_join", lang).join(cat.kpi(k).name(lang) for k in q.kpis) if q.kpis else every
    regions = [region_name(engine, c, lang) for c in q.regions]
    if q.population:
        regions.append(population_label(q.population, engine, lang))
    how = tr(f"ask_intent_{q.intent}", lang)
    if q.intent == "change":
        how += tr("ask_how_yoy" if q.compare_to == "yoy" else "ask_how_prev", lang)
    if q.intent == "ranking":
        how += tr(f"ask_rank_{q.rank or 'all'}", lang, n=q.n or "")
    if q.intent == "trend":
        how += tr("ask_how_months", lang, n=q.months)
    when = q.period
    if q.asked_period:
        when += tr("ask_period_not_due", lang, month=q.asked_period)
    parts = [tr("ask_lbl_kpi", lang, x=kp), tr("ask_lbl_region", lang, x=tr("ask_join", lang).join(regions)),
             tr("ask_lbl_period", lang, x=when), tr("ask_lbl_asks", lang, x=how)]
    if q.condition:
        parts.append(tr("ask_lbl_condition", lang, x=tr(f"ask_cond_{q.condition}", lang)))
    return " · ".join(parts)


def _figure(row: pd.Series, k: Kpi, **extra: Any) -> Figure:
    return Figure(kpi=k.code, region=str(row["region"]), period=str(row.get("period", "")),
                  value=_num(row.get("value")), text=format_value(k, _num(row.get("value"))),
                  status=row.get("status"), target=_num(row.get("target")), n_reported=_int(row.get("n_reported")),
                  n_expected=_int(row.get("n_expected")), extra=extra)


def _rows(engine: MetricsEngine, p: Period, kpi: str, regions: list[str]) -> pd.DataFrame:
    """bulk rows (township_bulk rows for townships) of one KPI for `regions`, in that order."""
    geo = engine.geo
    towns = [r for r in regions if r in geo.townships]
    parts = []
    if len(towns) < len(regions):
        b = engine.bulk(p)
        parts.append(b[(b["kpi"] == kpi) & b["region"].isin(regions)])
    for county in sorted({geo.get(t).parent_code for t in towns}):
        tb = engine.township_bulk(p, county)
        parts.append(tb[(tb["kpi"] == kpi) & tb["region"].isin(towns)])
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    order = {r: i for i, r in enumerate(regions)}
    return df.sort_values("region", key=lambda s: s.map(order)).reset_index(drop=True)


def _table(df: pd.DataFrame, engine: MetricsEngine, k: Kpi | None, lang: str, cols: list[str]) -> pd.DataFrame:
    out = df[[c for c in cols if c in df.columns]].copy()
    if "region" in out:
        out.insert(1 if "kpi" in out else 0, "name", _names(engine, list(out["region"]), lang))
    if k is not None and "value" in out:
        out["value_text"] = [format_value(k, _num(v)) for v in out["value"]]
    return out.reset_index(drop=True)


def _link(q: Query, engine: MetricsEngine, p: Period, lang: str) -> tuple[str, dict[str, str]]:
    """The page view showing the answer, with the real URL parameters of app.py's pages."""
    geo, cat = engine.geo, engine.catalogue
    base = {"period": f"{p.end:%Y-%m}"} | ({"lang": "en"} if lang == "en" else {})
    k = q.kpis[0] if q.kpis else None
    region = q.regions[0] if q.regions else None
    county_level = {m.code: m.level for m in cat.measures}
    rankable = k is not None and county_level[cat.kpi(k).measures[0]] == "county"
    if q.intent in ("ranking", "status_list") and k and rankable:
        pop = q.population or "counties"
        pop = "counties" if pop.startswith("class:") else pop
        return "rankings", base | {"rkpi": k, "pop": pop}
    if q.intent == "compare" and k and rankable:
        if all(geo.get(r).level == "county" for r in q.regions):
            return "compare", base | {"counties": ",".join(q.regions), "kpis": k}
        return "rankings", base | {"rkpi": k, "pop": "cities"}
    if q.intent == "not_reported":
        return "quality", base
    if k is None:
        return "overview", base
    if q.intent == "trend" and region and geo.get(region).level == "county":
        return "county", base | {"county": region, "tkpi": k}
    if region and region in geo.townships:
        return "county", base | {"county": geo.get(region).parent_code or ""}
    params = base | {"system": cat.kpi(k).system, "skpi": k}
    if region and geo.get(region).level == "city":
        params["city"] = region
    elif region and geo.get(region).level == "county":
        params |= {"city": geo.city_of(region) or "", "county": region}
    return "system", params


# -- the intents ------------------------------------------------------------------------------------


def answer(q: Query, engine: MetricsEngine, allowed_regions: frozenset[str] | None = None,
           lang: str = "zh", forecasts: Forecasts | None = None) -> Answer:
    """Run `q` on `engine`; a region outside `allowed_regions` (None: everything) is refused."""
    a = Answer("answer", query=q, reading=reading(q, engine, lang))
    if allowed_regions is not None:
        outside = [c for c in _scope_codes(q, engine) if c not in allowed_regions]
        if outside:
            a.kind = "refused"
            a.sentence = tr("ask_refused", lang, names=tr("ask_join", lang).join(_names(engine, outside, lang)))
            return a
    p = Period.parse(q.period)
    a.link_path, a.link_params = _link(q, engine, p, lang)
    run = {"value": _value, "change": _change, "ranking": _ranking, "status_list": _status_list,
           "compare": _compare, "trend": _trend, "forecast": _forecast, "not_reported": _not_reported}[q.intent]
    try:
        note = _coverage_note(q, engine, p, lang)
        a.period_said = bool(note)
        if q.intent == "forecast":
            _forecast(a, q, engine, p, allowed_regions, lang, forecasts)
        else:
            run(a, q, engine, p, allowed_regions, lang)
    except (EngineError, RankingError, KeyError) as exc:  # a question the engine cannot answer: say so, no figure
        msg = exc.args[0] if exc.args else str(exc)
        return Answer("error", query=q, reading=a.reading, sentence=tr("ask_cannot", lang, msg=msg))
    a.sentence = note + a.sentence
    return a


def _coverage_note(q: Query, engine: MetricsEngine, p: Period, lang: str) -> str:
    """What a reader must know before the sentence when the month is not complete: 上个月 answered with
    the latest due month says so; a named month whose reports are not yet due says how many are in and
    when they are due, so its figures never read like a verdict on a complete month. Both end by naming
    the period the sentence after them is about, which therefore does not name it again."""

    def counts(label: str) -> str:
        # the province's coverage of the KPI asked about (of the usual county KPI when none is named):
        # a county that sent one sheet has not reported the month
        b = engine.bulk(Period.parse(label))
        rows = b[(b["region"] == PROVINCE) & (b["n_expected"] > 1)]
        mine = rows[rows["kpi"] == q.kpis[0]] if q.kpis else rows
        if not len(mine):
            mine = rows
        if not len(mine):
            return f"0/{len(engine.geo.counties)}"
        n, of = mine[["n_reported", "n_expected"]].astype(int).value_counts().index[0]
        return f"{n}/{of}"

    if q.asked_period:
        m = Period.parse(q.asked_period)
        return tr("ask_note_last_month", lang, month=period_text(m, lang), counts=counts(m.label),
                  due=report_due(m.start), period=period_text(p, lang))
    last = Period.month(p.end.year, p.end.month)
    due = report_due(last.start)
    if p.grain == "day" or due <= engine.today:
        return ""
    return tr("ask_note_incomplete", lang, period=period_text(last, lang), counts=counts(last.label), due=due)


def _scoped(regions: list[str], allowed: frozenset[str] | None, engine: MetricsEngine) -> list[str]:
    if allowed is None:
        return regions
    geo = engine.geo
    return [r for r in regions if r in allowed or (r in geo.townships and geo.get(r).parent_code in allowed)]


def _targets(q: Query, engine: MetricsEngine, p: Period, allowed) -> list[str]:
    """The regions a value, change, comparison or trend is about: those named, else the set's."""
    return list(q.regions) or (_scoped(population_regions(q.population, engine, p), allowed, engine)
                               if q.population else [])


def _value(a: Answer, q: Query, engine: MetricsEngine, p: Period, allowed, lang: str) -> None:
    regions = _targets(q, engine, p, allowed)
    df = pd.concat([_rows(engine, p, code, regions) for code in q.kpis], ignore_index=True)
    parts = []
    for _, r in df.iterrows():
        k = engine.catalogue.kpi(r["kpi"])
        a.figures.append(_figure(r, k))
        tgt = _num(r.get("target"))
        s = tr("ask_value", lang, when="" if parts else _when(a, p, lang), name=region_name(engine, r["region"], lang),
               kpi=k.name(lang), v=format_value(k, _num(r["value"])))
        if tgt is not None:
            s += tr("ask_value_target", lang, target=format_value(k, tgt), status=tr(f"ask_status_{r['status']}", lang))
        if _int(r["n_expected"]) and _int(r["n_expected"]) > 1:
            s += tr("ask_value_cov", lang, cov=f"{_int(r['n_reported'])}/{_int(r['n_expected'])}")
        parts.append(s)
    if len(parts) > MAX_NAMES:  # a set's values: the first ones here, all of them in the table
        parts = parts[:MAX_NAMES] + [tr("ask_more_all", lang, n=len(df))]
    a.sentence = _sentence(parts, lang)
    a.table = _table(df, engine, None, lang, ["kpi", "region", "value", "target", "status", "n_reported",
                                             "n_expected"])
    a.table["value_text"] = [format_value(engine.catalogue.kpi(c), _num(v)) for c, v in zip(df["kpi"], df["value"],
                                                                                         strict=True)]


def _change(a: Answer, q: Query, engine: MetricsEngine, p: Period, allowed, lang: str) -> None:
    k = engine.catalogue.kpi(q.kpis[0])
    yoy = q.compare_to == "yoy"
    base_p = p.year_ago() if yoy else p.previous()
    df = _rows(engine, p, k.code, _targets(q, engine, p, allowed))
    parts = []
    for _, r in df.iterrows():
        d = _num(r["change_yoy" if yoy else "change_prev"])
        base = _num(r["yoy_value" if yoy else "prev_value"])
        a.figures.append(_figure(r, k, change=d, base_value=base, base_period=base_p.label))
        s = tr("ask_change", lang, when="" if parts else _when(a, p, lang), name=engine.geo.get(r["region"]).name(lang),
               kpi=k.name(lang), v=format_value(k, _num(r["value"])), chg=change_text(k, d, lang),
               word=tr("ask_word_yoy" if yoy else "ask_word_prev", lang), base_period=period_text(base_p, lang),
               b=format_value(k, base))
        if d is None and not bool(r["complete"]):  # the engine compares complete figures only
            s += tr("ask_change_partial", lang, cov=f"{_int(r['n_reported'])}/{_int(r['n_expected'])}")
        parts.append(s)
    a.sentence = _sentence(parts, lang)
    a.table = _table(df.assign(base_value=df["yoy_value" if yoy else "prev_value"],
                               change=df["change_yoy" if yoy else "change_prev"]),
                     engine, k, lang, ["region", "value", "base_value", "change", "status"])


def _league(engine: MetricsEngine, k: Kpi, p: Period, spec: str) -> pd.DataFrame:
    if spec.startswith("class:"):  # a class is raced as part of all counties, the rankings page's view
        members = set(population_regions(spec, engine, p))
        t = league_table(engine, k.code, p, "counties", trend_months=0)
        return t[t["region"].isin(members)].reset_index(drop=True)
    return league_table(engine, k.code, p, spec, trend_months=0)


def _ranking(a: Answer, q: Query, engine: MetricsEngine, p: Period, allowed, lang: str) -> None:
    k = engine.catalogue.kpi(q.kpis[0])
    spec = q.population or "counties"
    t = _league(engine, k, p, spec)
    if allowed is not None:
        t = t[t["region"].isin(_scoped(list(t["region"]), allowed, engine))]
    ranked = t[t["standing"] == "ranked"].sort_values(["rank", "region"])
    label = population_label(spec, engine, lang)
    cols = ["region", "rank", "rank_of", "value", "target", "status", "standing", "n_reported", "n_expected"]
    if q.rank == "position":
        region = q.regions[0]
        row = t[t["region"] == region]
        name = engine.geo.get(region).name(lang)
        if row.empty:
            a.sentence = tr("ask_not_in_set", lang, name=name, label=label)
            return
        r = row.iloc[0]
        a.figures.append(_figure(r, k, rank=_int(r["rank"]), rank_of=_int(r["rank_of"]), standing=r["standing"]))
        said = {"when": _when(a, p, lang), "name": name, "kpi": k.name(lang), "v": format_value(k, _num(r["value"]))}
        if r["standing"] == "ranked":
            a.sentence = tr("ask_position", lang, **said, label=label, rank=_int(r["rank"]), of=_int(r["rank_of"]))
        else:
            a.sentence = tr("ask_position_unranked", lang, **said,
                            standing=r["standing_en"] if lang == "en" else r["standing_zh"])
        a.table = _table(t, engine, k, lang, cols)
        return
    if q.rank == "top":
        pick = ranked.head(q.n or 1)
    elif q.rank == "bottom":
        pick = ranked.tail(q.n or 1).iloc[::-1]
    else:
        pick = ranked
    for _, r in pick.iterrows():
        a.figures.append(_figure(r, k, rank=_int(r["rank"]), rank_of=_int(r["rank_of"])))
    a.sentence = tr("ask_ranking", lang, when=_when(a, p, lang), label=label, kpi=k.name(lang),
                    which=tr(f"ask_which_{q.rank or 'all'}", lang, n=q.n),
                    list=_listing(_items(pick, k, engine, lang), len(pick), lang))
    if len(ranked) < len(t):
        a.sentence += tr("ask_unranked", lang, n=len(t) - len(ranked))
    a.table = _table(pick, engine, k, lang, cols)


def _matches(df: pd.DataFrame, condition: str | None) -> pd.Series:
    if condition == "met":
        return df["status"] == "green"
    if condition == "red":
        return df["status"] == "red"
    if condition == "behind_pace":
        return df["paced"].fillna(False).astype(bool) & df["status"].isin(["amber", "red"])
    return df["status"].isin(["amber", "red"])  # not_met


def _unit(spec: str) -> str:
    return "ask_unit_cities" if spec == "cities" else "ask_unit_townships" if spec.startswith("townships") \
        else "ask_unit_counties"


def _status_list(a: Answer, q: Query, engine: MetricsEngine, p: Period, allowed, lang: str) -> None:
    k = engine.catalogue.kpi(q.kpis[0])
    spec = q.population or "counties"
    regions = _scoped(population_regions(spec, engine, p), allowed, engine)
    df = _rows(engine, p, k.code, regions)
    judged = df[df["status"].isin(["green", "amber", "red"])]
    hit = judged[_matches(judged, q.condition)]
    worst_first = hit.sort_values("value", ascending=k.direction == "up")
    for _, r in worst_first.iterrows():
        a.figures.append(_figure(r, k))
    a.sentence = tr("ask_status_list", lang, when=_when(a, p, lang), label=set_name(spec, engine, lang),
                    total=len(regions), unit=tr(_unit(spec), lang), n=len(hit), kpi=k.name(lang),
                    cond=tr(f"ask_cond_{q.condition or 'not_met'}", lang),
                    list=_listing(_items(worst_first, k, engine, lang), len(worst_first), lang))
    if len(judged) < len(df):
        a.sentence += tr("ask_unjudged", lang, n=len(df) - len(judged))
    a.table = _table(worst_first, engine, k, lang, ["region", "value", "target", "status", "n_reported", "n_expected"])


def _compare(a: Answer, q: Query, engine: MetricsEngine, p: Period, allowed, lang: str) -> None:
    k = engine.catalogue.kpi(q.kpis[0])
    df = _rows(engine, p, k.code, _targets(q, engine, p, allowed))
    for _, r in df.iterrows():
        a.figures.append(_figure(r, k))
    items = [tr("ask_compare_item", lang, name=engine.geo.get(r["region"]).name(lang),
                v=format_value(k, _num(r["value"]))) for _, r in df.iterrows()]
    valued = df[df["value"].notna()]
    a.sentence = tr("ask_compare", lang, when=_when(a, p, lang), kpi=k.name(lang),
                    items=tr("ask_join_values", lang).join(items))
    if len(valued):
        best = valued.loc[valued["value"].idxmax() if k.direction == "up" else valued["value"].idxmin(), "region"]
        a.sentence += tr("ask_compare_best", lang, name=engine.geo.get(best).name(lang))
    else:
        a.sentence += tr("ask_end", lang)
    a.table = _table(df, engine, k, lang, ["region", "value", "target", "status", "n_reported", "n_expected"])


def _trend(a: Answer, q: Query, engine: MetricsEngine, p: Period, allowed, lang: str) -> None:
    k = engine.catalogue.kpi(q.kpis[0])
    end = Period.month(p.end.year, p.end.month)
    regions = _targets(q, engine, p, allowed)
    tr_ = engine.trend([k.code], regions, end, q.months or 12)
    parts = []
    for region in regions:
        s = tr_[tr_["region"] == region].sort_values("month")
        vals = s[s["value"].notna()]
        name = engine.geo.get(region).name(lang)
        if vals.empty:
            parts.append(tr("ask_trend_none", lang, name=name))
            continue
        first, last = vals.iloc[0], vals.iloc[-1]
        d = _num(last["value"]) - _num(first["value"])  # type: ignore[operator]
        if k.format != "percent" and _num(first["value"]):
            d = d / _num(first["value"])  # type: ignore[operator]
        a.figures.append(Figure(k.code, region, end.label, _num(last["value"]), format_value(k, _num(last["value"])),
                                extra={"first_month": f"{first['month']:%Y-%m}", "first_value": _num(first["value"]),
                                       "change": d}))
        better = (d > 0) == (k.direction == "up") if d else None
        word = "ask_trend_flat" if better is None else ("ask_trend_better" if better else "ask_trend_worse")
        parts.append(tr("ask_trend", lang, name=name, kpi=k.name(lang),
                        first_month=tr("ask_month_year", lang, d=first["month"]),
                        first=format_value(k, _num(first["value"])),
                        last_month=tr("ask_month_year", lang, d=last["month"]),
                        last=format_value(k, _num(last["value"])), chg=change_text(k, d, lang), word=tr(word, lang)))
    a.sentence = tr("ask_trend_head", lang, n=q.months or 12) + _sentence(parts, lang)
    t = tr_.assign(name=_names(engine, list(tr_["region"]), lang))
    t["value_text"] = [format_value(k, _num(v)) for v in t["value"]]
    a.table = t[["region", "name", "month", "value", "value_text"]].reset_index(drop=True)


def _forecast(a: Answer, q: Query, engine: MetricsEngine, p: Period, allowed, lang: str,
              forecasts: Forecasts | None = None) -> None:
    cat = engine.catalogue
    cutoff = Period.month(p.end.year, p.end.month)
    # fitted over all regions, as the pages do; filtered below
    fc = forecasts(cutoff) if forecasts is not None else year_end_forecasts(engine, cutoff)
    regions = (_scoped(population_regions(q.population, engine, p), allowed, engine) if q.population
               else list(q.regions))
    d = fc[fc["region"].isin(regions)]
    if q.kpis:
        d = d[d["kpi"].isin(q.kpis)]
    if q.condition == "at_risk":
        d = d[d["prob"].notna() & (d["prob"] < 0.5)].sort_values(["prob", "kpi", "region"])
    d = d.reset_index(drop=True)
    year = cutoff.end.year
    for _, r in d.iterrows():
        k = cat.kpi(r["kpi"])
        a.figures.append(Figure(k.code, r["region"], cutoff.label, _num(r["projection"]),
                                format_value(k, _num(r["projection"])), target=_num(r["target"]),
                                extra={"prob": _num(r["prob"]), "value_now": _num(r["value_now"]),
                                       "state": r["state"], "lo": _num(r["lo"]), "hi": _num(r["hi"])}))
    if q.condition == "at_risk":
        items = [tr("ask_item_kpi", lang, name=engine.geo.get(r["region"]).name(lang),
                    kpi=cat.kpi(r["kpi"]).name(lang), v=f"{_num(r['prob']):.0%}")
                 for _, r in d.head(MAX_NAMES).iterrows()]
        a.sentence = tr("ask_at_risk", lang, period=period_text(cutoff, lang), n=len(d), year=year,
                        list=_listing(items, len(d), lang))
    else:
        parts = []
        for _, r in d.iterrows():
            k = cat.kpi(r["kpi"])
            name = engine.geo.get(r["region"]).name(lang)
            if _num(r["prob"]) is None:
                reason = tr("ask_reason_history", lang) if r["reason"] == "history" else r["reason"]
                parts.append(tr("ask_no_forecast", lang, name=name, kpi=k.name(lang), reason=reason))
                continue
            parts.append(tr("ask_forecast", lang, year=year, name=name, kpi=k.name(lang),
                            projection=format_value(k, _num(r["projection"])),
                            target=format_value(k, _num(r["target"])), prob=_num(r["prob"])))
        a.sentence = _sentence(parts or [tr("ask_nothing_to_forecast", lang)], lang)
    t = d.assign(name=_names(engine, list(d["region"]), lang),
                 kpi_name=[cat.kpi(x).name(lang) for x in d["kpi"]]) if len(d) else d
    cols = ["kpi", "kpi_name", "region", "name", "value_now", "projection", "target", "prob", "state"]
    a.table = t[[c for c in cols if c in t.columns]].reset_index(drop=True)


def _not_reported(a: Answer, q: Query, engine: MetricsEngine, p: Period, allowed, lang: str) -> None:
    cat = engine.catalogue
    spec = q.population or ("counties" if not q.regions else None)
    regions = population_regions(spec, engine, p) if spec else []
    for r in q.regions:  # a named city or the province stands for its counties
        lv = engine.geo.get(r).level
        regions += (engine.geo.counties_of(r) if lv == "city" else engine.geo.counties if lv == "province"
                    else engine.geo.members(r, p.end) if lv == "group" else [r])
    regions = _scoped(list(dict.fromkeys(regions)), allowed, engine)
    level = {m.code: m.level for m in cat.measures}
    codes = list(q.kpis) or [k.code for k in cat.kpis if level[k.measures[0]] == "county"]
    b = engine.bulk(p)
    rows = b[b["kpi"].isin(codes) & b["region"].isin(regions)]
    col = "missing" if q.condition == "overdue" else "not_reported"
    late: dict[str, list[str]] = {}
    for _, r in rows.iterrows():
        for c in (r[col] or []):
            if c in regions:
                late.setdefault(c, []).append(r["kpi"])
    codes_late = sorted(late)
    for c in codes_late:
        a.figures.append(Figure("" if not q.kpis else q.kpis[0], c, p.label, None, "", status=col,
                                extra={"kpis": sorted(set(late[c]))}))
    label = set_name(spec, engine, lang) if spec else tr("ask_join", lang).join(_names(engine, list(q.regions), lang))
    names = _names(engine, codes_late, lang)
    a.sentence = tr("ask_not_reported", lang, when=_when(a, p, lang), label=label, total=len(regions),
                    n=len(codes_late), kpi=tr("ask_kpi_of", lang, kpi=cat.kpi(q.kpis[0]).name(lang)) if q.kpis else "",
                    cond=tr(f"ask_cond_{q.condition or 'not_reported'}", lang),
                    list=_listing(names, len(names), lang))
    a.table = pd.DataFrame({"region": codes_late, "name": names,
                            "kpis": [", ".join(sorted(set(late[c]))) for c in codes_late]})
