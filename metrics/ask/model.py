"""An optional model that rephrases a question the parser could not read into the same `Query`.

Off unless the administrator sets COCKPIT_ASK_MODEL_URL to an OpenAI-compatible endpoint on the
intranet (the base URL, e.g. http://llm.intra:8000/v1; COCKPIT_ASK_MODEL_NAME picks the model,
COCKPIT_ASK_MODEL_KEY is sent as a bearer token when set, COCKPIT_ASK_MODEL_TIMEOUT in seconds).
The model only ever produces a structured query; it is checked code by code against the catalogue,
the geography and the data's months, then shown and executed by the same code as a parsed one — so
a model can never invent a number. Anything malformed or unknown is dropped and the parser's
clarification stands. Only plain misunderstandings go to the model: an ambiguous region or KPI, or
a period outside the data, is asked about, never settled by a model.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.request
from typing import Any

from metrics.catalogue import Catalogue
from metrics.geography import Geography
from metrics.periods import Period

from .query import Clarification, Query

URL_ENV, NAME_ENV, KEY_ENV, TIMEOUT_ENV = ("COCKPIT_ASK_MODEL_URL", "COCKPIT_ASK_MODEL_NAME", "COCKPIT_ASK_MODEL_KEY",
                                           "COCKPIT_ASK_MODEL_TIMEOUT")
REPHRASABLE = ("unknown_word", "outside_catalogue")


def configured() -> bool:
    return bool(os.environ.get(URL_ENV))


def _prompt(cat: Catalogue, today: dt.date, latest: Period) -> str:
    kpis = "\n".join(f"{k.code}: {k.name_zh} / {k.name_en}" for k in cat.kpis)
    return (
        "You turn a question about Zhejiang's digital-reform KPIs into one JSON object and nothing else:\n"
        '{"intent": value|change|ranking|status_list|compare|trend|forecast|not_reported, "kpis": [codes], '
        '"regions": [GB/T 2260 codes], "population": counties|cities|city:<code>|group:<code>|null, '
        '"period": "YYYY-MM" | "YYYY-Qn" | "YYYY-MM-YTD" | "YYYY", "compare_to": prev|yoy|null, '
        '"months": int|null, "rank": top|bottom|position|all|null, "n": int|null, '
        '"condition": not_met|met|red|behind_pace|overdue|not_reported|at_risk|null}\n'
        f"Today is {today}; the latest complete month is {latest.label}. If the question cannot be expressed "
        'this way, answer {"intent": null}.\nKPI codes:\n' + kpis
    )


def _post(payload: dict[str, Any]) -> dict[str, Any]:
    url = os.environ[URL_ENV].rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if os.environ.get(KEY_ENV):
        headers["Authorization"] = f"Bearer {os.environ[KEY_ENV]}"
    req = urllib.request.Request(url, json.dumps(payload).encode(), headers, method="POST")
    with urllib.request.urlopen(req, timeout=float(os.environ.get(TIMEOUT_ENV, "20"))) as resp:  # noqa: S310
        return json.loads(resp.read().decode("utf-8"))


def check(d: dict[str, Any], cat: Catalogue, geo: Geography, first: dt.date | None, newest: Period) -> Query | None:
    """The model's dict as a Query when every code exists and the period lies in the data; else None."""
    try:
        # asked_period is the parser's own note on 上个月, never a model's to set
        q = Query.from_dict({k: v for k, v in d.items() if v is not None and k != "asked_period"})
        p = Period.parse(q.period)
    except (TypeError, ValueError):
        return None
    codes = {k.code for k in cat.kpis}
    if not all(k in codes for k in q.kpis) or not all(r in geo.regions or r in geo.townships for r in q.regions):
        return None
    if p.end > newest.end or (first is not None and p.start < first):
        return None
    if q.population is not None:
        kind, _, code = q.population.partition(":")
        if kind not in ("counties", "cities", "city", "group") or (code and code not in geo.regions):
            return None
        if kind == "group" and not geo.group_valid_on(code, p.end):
            return None
    if q.intent not in ("not_reported", "forecast") and not q.kpis:
        return None
    if q.intent in ("ranking", "status_list") and q.population is None and q.rank != "position":
        return None
    if q.intent == "change" and q.compare_to not in ("prev", "yoy"):
        return None
    if q.intent in ("value", "change", "trend", "forecast", "compare") and not q.regions and q.population is None:
        return None
    return q


def rephrase(question: str, clar: Clarification, *, cat: Catalogue, geo: Geography, today: dt.date,
             latest: Period, first: dt.date | None, newest: Period) -> Query | None:
    """Ask the configured model for a Query; None when off, unreachable, or its answer does not check."""
    if not configured() or clar.reason not in REPHRASABLE:
        return None
    payload = {"model": os.environ.get(NAME_ENV, "default"), "temperature": 0,
               "messages": [{"role": "system", "content": _prompt(cat, today, latest)},
                            {"role": "user", "content": question}]}
    try:
        content = _post(payload)["choices"][0]["message"]["content"]
        start, end = content.find("{"), content.rfind("}")
        d = json.loads(content[start:end + 1])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return check(d, cat, geo, first, newest) if isinstance(d, dict) and d.get("intent") else None
