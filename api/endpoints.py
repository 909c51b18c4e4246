"""The API's reads (`/api/v1/...`): each a plain function of one call, composing read-boundary reads.

Parameters are checked here (a bad one is a 400 naming it, an unknown KPI, region or scheme a 404);
the scope is not: every frame comes from the token's Reader, which leaves out what the scope may not
see and refuses an explicit region outside it (403).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import openapi
from api.service import PREFIX, Answer, ApiError, Call, bad, database_url, engine, handle, json_response, unknown
from metrics.access import population_level
from metrics.ask import ask as ask_question
from metrics.periods import Period
from metrics.schemes import schemes
from metrics.values import COLUMNS, resolve_selection, value_rows

# the parameters each endpoint takes (anything else is a 400: a typo must not silently read everything)
PARAMS = {
    "kpis": set(),
    "values": {"period", "regions", "kpis"},
    "trend": {"kpis", "regions", "end", "months"},
    "league": {"kpi", "period", "pop"},
    "scheme": {"period", "pop"},
    "quality": {"period"},
    "ask": {"q", "lang"},
}
ASK_MAX = openapi.ASK_MAX  # characters of a question (a sentence, not a document)


def _check_params(call: Call, name: str) -> None:
    extra = sorted(set(call.params) - PARAMS[name] - {"format"})
    if extra:
        raise bad(extra[0], f"未知参数：{extra[0]}", f"unknown parameter: {extra[0]}")


def _period(call: Call, field: str = "period") -> Period:
    text = call.params.get(field)
    if not text:
        p = call.reader.latest()
        if p is None:
            raise ApiError(404, "no_data", "数据库中没有数据", "no figures in the database", field)
        return p
    try:
        return Period.parse(text)
    except ValueError:
        raise bad(field, f"期间格式有误：{text}（如 2024-06、2024-Q2、2024、2024-06-YTD）",
                  f"bad period {text!r} (2024-06, 2024-Q2, 2024 or 2024-06-YTD)") from None


def _list(call: Call, field: str) -> list[str] | None:
    text = call.params.get(field)
    if text is None:
        return None
    items = [x.strip() for x in text.split(",") if x.strip()]
    if not items:
        raise bad(field, f"{field} 为空", f"{field} is empty")
    return items


def _selection(call: Call, regions: list[str] | None, kpis: list[str] | None
               ) -> tuple[list[str] | None, list[str] | None]:
    """Codes of the regions and KPIs asked for: unknown ones are a 404, out-of-scope regions a 403."""
    geo, cat = call.reader.geo, call.reader.catalogue
    for r in regions or ():
        if r in geo.townships:  # a township by its code: in scope when its county is (the reader checks)
            continue
        try:
            geo.resolve(r)
        except KeyError:
            raise unknown("regions", "地区", "region", r) from None
    for k in kpis or ():
        try:
            cat.kpi(k)
        except KeyError:
            raise unknown("kpis", "指标", "KPI", k) from None
    return resolve_selection(call.reader, regions, kpis)


# -- the endpoints ----------------------------------------------------------------------------------------------
def kpis(call: Call) -> Answer:
    """The catalogue: definitions, units, direction, targets with their source."""
    _check_params(call, "kpis")
    out = []
    for k in call.reader.catalogue.kpis:
        out.append({
            "code": k.code, "system": k.system, "name_zh": k.name_zh, "name_en": k.name_en, "kind": k.kind,
            "unit_zh": k.unit_zh, "unit_en": k.unit_en, "format": k.format, "decimals": k.decimals,
            "direction": k.direction, "frequency": k.frequency, "owner_zh": k.owner_zh, "owner_en": k.owner_en,
            "definition_zh": k.definition_zh, "definition_en": k.definition_en,
            "paced": k.pacing_rule is not None,  # 序时: the year's target spread over the months
            "targets_everywhere": k.targets_everywhere,
            "headline": k.headline,
            "targets": [{"year": t.year, "value": t.value, "source": t.source, "note_zh": t.note_zh,
                         "note_en": t.note_en} for t in k.targets],
        })
    frame = pd.DataFrame(out)
    if len(frame):
        frame["targets"] = frame["targets"].map(
            lambda ts: "; ".join(f"{t['year']}={t['value']:g} ({t['source']})" for t in ts))
    return Answer({"data": out, "meta": {"count": len(out)}}, frame)


def values(call: Call) -> Answer:
    """Value, formula, targets, status, changes, rank, coverage of a period x regions x KPIs."""
    _check_params(call, "values")
    p = _period(call)
    regs, ks = _selection(call, _list(call, "regions"), _list(call, "kpis"))
    df = value_rows(call.reader, p, regs, ks, call.version)
    return Answer({"data": df, "meta": _meta(call, period=p.label, count=len(df), columns=COLUMNS)}, df)


def trend(call: Call) -> Answer:
    """Monthly values of KPIs for regions, `months` months up to `end`."""
    _check_params(call, "trend")
    ks = _list(call, "kpis")
    if not ks:
        raise bad("kpis", "请指定 kpis", "kpis is required")
    end = _period(call, "end")
    if end.grain != "month":
        raise bad("end", "end 须为月份（如 2024-06）", "end must be a month (2024-06)")
    months_text = call.params.get("months", "12")
    try:
        months = int(months_text)
    except ValueError:
        months = 0
    if not 1 <= months <= 60:
        raise bad("months", "months 须为 1 到 60 的整数", "months must be a whole number from 1 to 60")
    regs, kcodes = _selection(call, _list(call, "regions"), ks)
    regs = regs or [call.reader.scope.code or ""]
    df = call.reader.trend(kcodes or [], regs, end, months)
    df = df.assign(month=df["month"].map(_month)) if len(df) else df
    return Answer({"data": df, "meta": _meta(call, end=end.label, months=months, count=len(df))}, df)


def league(call: Call) -> Answer:
    """A KPI's league table over a population (counties, cities, city:<code>, group:<code>, townships)."""
    _check_params(call, "league")
    kpi = call.params.get("kpi")
    if not kpi:
        raise bad("kpi", "请指定 kpi", "kpi is required")
    _selection(call, None, [kpi])
    code = call.reader.catalogue.kpi(kpi).code
    p = _period(call)
    pop = call.params.get("pop", "counties")
    try:
        population_level(pop)
    except (ValueError, KeyError):
        raise bad("pop", f"无效的比较范围：{pop}", f"bad population {pop!r} (counties, cities, city:<code>, "
                  "group:<code>, townships)") from None
    df = call.reader.league(code, p.label, pop)
    return Answer({"data": df, "meta": _meta(call, period=p.label, kpi=code, pop=pop, count=len(df))},
                  df)


def scheme(call: Call) -> Answer:
    """A composite evaluation: each region's score, rank and tier, and each KPI's contribution."""
    _check_params(call, "scheme")
    code = call.path_params["code"]
    try:
        s = schemes().scheme(code)
    except KeyError:
        raise unknown("code", "评价方案", "scheme", code) from None
    p = _period(call)
    pop = call.params.get("pop") or None
    try:
        res = call.reader.scheme(s.code, p.label, pop)
    except (ValueError, KeyError):
        raise bad("pop", f"无效的比较范围：{pop}", f"bad population {pop!r}") from None
    body = {"scheme": {"code": s.code, "name_zh": s.name_zh, "name_en": s.name_en},
            "data": res.scores, "components": res.components,
            "meta": _meta(call, period=p.label, pop=pop, count=len(res.scores))}
    return Answer(body, res.scores)


def quality(call: Call) -> Answer:
    """Coverage of a period: per county in scope, the KPIs reported, the ones not in, whether overdue."""
    _check_params(call, "quality")
    p = _period(call)
    df = call.reader.bulk(p)
    c = df[(df["level"] == "county") & (df["n_expected"] > 0)]
    geo = call.reader.geo
    rows = []
    for region, g in c.groupby("region", sort=False):
        short = g[~g["complete"].astype(bool)]
        overdue = any(region in (m or []) for m in g["missing"])
        rows.append({"region": region, "name_zh": geo.get(region).name_zh, "name_en": geo.get(region).name_en,
                     "city": geo.city_of(region), "n_kpis": len(g), "n_reported": int(len(g) - len(short)),
                     "complete": short.empty, "overdue": bool(overdue),
                     "kpis_not_reported": sorted(short["kpi"].tolist())})
    frame = pd.DataFrame(rows, columns=["region", "name_zh", "name_en", "city", "n_kpis", "n_reported", "complete",
                                        "overdue", "kpis_not_reported"])
    in_progress = [{"month": m, "n_reported": n, "n_expected": of} for m, n, of in call.reader.reporting_months()]
    body = {"data": frame,
            "meta": _meta(call, period=p.label, count=len(frame), n_complete=int(frame["complete"].sum()),
                          not_reported=[r["region"] for r in rows if not r["complete"]], in_progress=in_progress)}
    return Answer(body, frame)


def ask(call: Call) -> Answer:
    """问数: a question in Chinese or English read into a structured query over the catalogue and answered
    within the token's scope (metrics.ask, the question box's code): the reading, the sentence, the
    figures, the table (data) and the link to the page view. A clarification is an answer too (kind
    "clarify", with the candidates); a question about a region outside the scope is a 403."""
    _check_params(call, "ask")
    q = (call.params.get("q") or "").strip()
    if not q:
        raise bad("q", "请提供问题 q", "q (the question) is required")
    if len(q) > ASK_MAX:
        raise bad("q", f"问题过长（最多 {ASK_MAX} 个字符）", f"the question is too long (at most {ASK_MAX} characters)")
    lang = call.params.get("lang", "zh")
    if lang not in ("zh", "en"):
        raise bad("lang", "lang 只能是 zh 或 en", "lang must be zh or en")
    eng, allowed = call.reader.engine, call.reader.scope.restriction
    a = ask_question(q, eng, allowed_regions=allowed, lang=lang)
    if a.kind == "refused":
        other = ask_question(q, eng, allowed_regions=allowed, lang="en" if lang == "zh" else "zh")
        zh, en = (a.sentence, other.sentence) if lang == "zh" else (other.sentence, a.sentence)
        raise ApiError(403, "forbidden", zh, en, "q")
    if a.kind == "error":
        raise ApiError(404, "no_data", "数据库中没有数据", "no figures in the database", "q")
    d = a.as_dict()
    table = d.pop("table")
    frame = a.table.reset_index(drop=True) if len(a.table) else pd.DataFrame(
        [{"kind": a.kind, "sentence": a.sentence, "link": a.link}])
    body = {**d, "data": table, "meta": _meta(call, lang=lang, count=len(table))}
    return Answer(body, frame)


def _month(v: Any) -> str:
    return v.strftime("%Y-%m") if isinstance(v, dt.date | pd.Timestamp) else str(v)


def _meta(call: Call, **extra: Any) -> dict[str, Any]:
    return {"data_version": call.version, "scope": call.reader.scope.code, **extra}


# -- the routes -------------------------------------------------------------------------------------------------
def _route(path: str, fn: Callable[[Call], Answer], base: str) -> Route:
    def endpoint(request: Request) -> Response:  # a plain function: Starlette runs it in its thread pool
        return handle(request, fn)

    return Route(base + PREFIX + path, endpoint, methods=["GET"], name=f"api_{fn.__name__}")


def health(request: Request) -> Response:
    """Up when the database answers (no token: for the proxy's and the operator's checks)."""
    try:
        version = int(engine(database_url()).data_version())
    except Exception as exc:  # noqa: BLE001 - any failure to read is "down"; the class only, never the text
        return json_response({"status": "down", "error": type(exc).__name__}, 503, {"Cache-Control": "no-store"})
    return json_response({"status": "ok", "data_version": version, "api": "v1"}, headers={"Cache-Control": "no-store"})


def openapi_json(request: Request) -> Response:
    return json_response(openapi.document(), headers={"Cache-Control": "public, max-age=300"})


def routes(base_path: str = "") -> list[Route]:
    """The API's routes under `base_path` (Streamlit's server.baseUrlPath, if any)."""
    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    return [
        _route("/kpis", kpis, base),
        _route("/values", values, base),
        _route("/trend", trend, base),
        _route("/league", league, base),
        _route("/schemes/{code}", scheme, base),
        _route("/quality", quality, base),
        _route("/ask", ask, base),
        Route(base + PREFIX + "/health", health, methods=["GET"], name="api_health"),
        Route(base + PREFIX + "/openapi.json", openapi_json, methods=["GET"], name="api_openapi"),
    ]

