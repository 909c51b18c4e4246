"""What the pushes say: the morning brief of a scope, and the messages of the events.

Every figure comes through the read boundary (`metrics.access.Reader` of the recipient's scope) and
is printed by `metrics.formats`; statuses are the engine's. Nothing here computes a number of its
own: "turned red" compares the engine's status of the latest period with the previous one.
A message's link opens the exact view: the cockpit's public address (COCKPIT_PUBLIC_URL) plus the
query parameters the app's own links use (period, scope, page-specific keys).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa

from followup.model import Item
from metrics import formats
from metrics.access import Reader
from metrics.geography import PROVINCE
from metrics.periods import Period
from push.texts import tr
from store.schema_jobs import freshness_alert

MAX_LINES = 10  # per list in the brief: a phone screen, the rest counted
DEFAULT_URL = "http://localhost:8501"


def public_url() -> str:
    return (os.environ.get("COCKPIT_PUBLIC_URL") or DEFAULT_URL).rstrip("/")


def link(page: str, period: str | None, scope: str | None, **extra: str) -> str:
    """The app's URL of `page` for `period` and `scope` (as ui.shell.Ctx.params writes them)."""
    p: dict[str, str] = {}
    if period:
        p["period"] = period
    if scope and scope != PROVINCE:
        p["scope"] = scope
    p |= {k: v for k, v in extra.items() if v is not None}
    return f"{public_url()}/{page}" + (f"?{urlencode(p)}" if p else "")


def memo() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A memo for one push run: each unscoped read once, shared by every recipient's reader."""
    cache: dict[tuple, Any] = {}

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            key = (fn.__qualname__, *args[1:])
            if key not in cache:
                cache[key] = fn(*args)
            return cache[key]
        return call
    return wrap


def region_name(reader: Reader, code: str) -> str:
    return reader.geo.get(code).name("zh") if code in reader.geo.regions else code


def watched(reader: Reader) -> list[str]:
    """The regions a recipient's messages are about: its own and the level below (the province and
    its cities, a city and its counties, a county)."""
    code, geo = reader.scope.code, reader.geo
    if code == PROVINCE:
        return [PROVINCE, *geo.cities]
    if code in geo.cities:
        return [code, *geo.counties_of(code)]
    return [code] if code else []


def _status_mark(status: str) -> str:
    return tr(f"push_status_{status}" if status in ("red", "amber", "green") else "push_status_other")


def status_name(status: str | None) -> str:
    s = status if status in ("red", "amber", "green") else "none"
    return tr(f"push_status_name_{s}")


@dataclass(frozen=True)
class Change:
    region: str
    kpi: str
    before: str
    after: str
    row: pd.Series


def _headline(reader: Reader) -> list[str]:
    return [k.code for k in reader.catalogue.headline_kpis()]


def changes(reader: Reader, period: Period, statuses: tuple[str, ...] = ("red", "amber")) -> list[Change]:
    """Headline KPIs of the watched regions whose status became worse into red or amber this period."""
    order = {"green": 0, "amber": 1, "red": 2}
    now, prev = reader.bulk(period), reader.bulk(period.previous())
    kpis, regions = _headline(reader), watched(reader)
    now = now[now["kpi"].isin(kpis) & now["region"].isin(regions)]
    before = {(r.kpi, r.region): r.status for r in prev[["kpi", "region", "status"]].itertuples()}
    out = []
    for _, row in now.iterrows():
        after, was = row["status"], before.get((row["kpi"], row["region"]))
        if after in statuses and order.get(after, -1) > order.get(was, -1):
            out.append(Change(row["region"], row["kpi"], was or "none", after, row))
    rank = {r: i for i, r in enumerate(regions)}
    return sorted(out, key=lambda c: (-order[c.after], rank[c.region], kpis.index(c.kpi)))


def _figure(reader: Reader, row: pd.Series) -> tuple[str, str]:
    kpi = reader.catalogue.kpi(row["kpi"])
    value = formats.value(row["value"], kpi)
    target = ""
    if pd.notna(row.get("target")):
        target = tr("push_brief_target", target=formats.value(row["target"], kpi),
                    attainment=formats.percent(row.get("attainment")))
    return value, target


def _capped(lines: list[str]) -> list[str]:
    return lines if len(lines) <= MAX_LINES else [*lines[:MAX_LINES], tr("push_more", n=len(lines) - MAX_LINES)]


def not_reported(reader: Reader, bulk: pd.DataFrame, period: Period, engine: sa.Engine) -> dict[str, list[str]]:
    """period -> counties in scope that have not reported: the engine's `not_reported` of the scope's
    headline rows for the latest period, and the open 逾期未报 alerts the freshness job raised."""
    out: dict[str, set[str]] = {}
    rows = bulk[(bulk["region"] == reader.scope.code) & bulk["kpi"].isin(_headline(reader))]
    for codes in rows["not_reported"]:
        out.setdefault(period.label, set()).update(c for c in (codes or []) if reader.scope.allows(c))
    fa = freshness_alert.c
    with engine.connect() as c:
        for code, p in c.execute(sa.select(fa.region_code, fa.period).where(fa.status == "open",
                                                                           fa.kind == "overdue_report")):
            if reader.scope.allows(code):
                out.setdefault(p, set()).add(code)
    return {p: sorted(v) for p, v in sorted(out.items()) if v}


def in_scope(reader: Reader, item: Item) -> bool:
    return reader.scope.allows(item.figure.region) or reader.scope.allows(item.owner_code)


def brief(reader: Reader, engine: sa.Engine, items: list[Item], today: dt.date) -> tuple[str, str]:
    """(title, Markdown) of the morning brief for the reader's scope."""
    scope = reader.scope.code or PROVINCE
    scope_name = region_name(reader, scope)
    period = reader.latest()
    lines = [tr("push_brief_head", scope=scope_name, date=f"{today:%Y-%m-%d}"), ""]
    title = tr("push_brief_title", scope=scope_name, date=f"{today:%Y-%m-%d}")
    if period is None:
        return title, "\n".join(lines)
    bulk = reader.bulk(period)
    mine = bulk[(bulk["region"] == scope) & bulk["kpi"].isin(_headline(reader))].set_index("kpi", drop=False)
    as_of = max((str(a) for a in mine["as_of"].dropna()), default="—")
    lines += [tr("push_brief_period", period=period.label, as_of=as_of), "", tr("push_brief_kpis")]
    for code in _headline(reader):
        if code not in mine.index:
            continue
        row = mine.loc[code]
        value, target = _figure(reader, row)
        lines.append(tr("push_brief_kpi_line", status=_status_mark(row["status"]),
                        kpi=reader.catalogue.kpi(code).name("zh"), value=value, target=target))
    lines += ["", tr("push_brief_changed")]
    ch = [tr("push_brief_changed_line", region=region_name(reader, c.region),
             kpi=reader.catalogue.kpi(c.kpi).name("zh"), before=status_name(c.before), after=status_name(c.after))
          for c in changes(reader, period)]
    lines += _capped(ch) or [tr("push_brief_none_changed")]
    late = sorted((i for i in items if in_scope(reader, i) and i.is_overdue(today)),
                  key=lambda i: (-i.level(today), -i.overdue_days(today), i.id))
    lines += ["", tr("push_brief_overdue", n=len(late))]
    lines += _capped([tr("push_brief_overdue_line", id=i.id, region=region_name(reader, i.figure.region),
                         kpi=_kpi_name(reader, i.figure.kpi), days=i.overdue_days(today),
                         level=tr(f"push_level_{i.level(today)}")) for i in late]) or [tr("push_brief_none_overdue")]
    missing = not_reported(reader, bulk, period, engine)
    lines += ["", tr("push_brief_missing")]
    lines += _capped([tr("push_brief_missing_line", period=p, names="、".join(region_name(reader, c) for c in codes))
                      for p, codes in missing.items()]) or [tr("push_brief_none_missing")]
    lines += ["", tr("push_brief_link", url=link("overview", period.label, scope))]
    return title, "\n".join(lines)


def _kpi_name(reader: Reader, code: str) -> str:
    try:
        return reader.catalogue.kpi(code).name("zh")
    except KeyError:
        return code


def red_message(reader: Reader, c: Change, period: Period) -> tuple[str, str]:
    value, target = _figure(reader, c.row)
    region, kpi = region_name(reader, c.region), _kpi_name(reader, c.kpi)
    url = link("overview", period.label, c.region if reader.scope.allows(c.region) else reader.scope.code)
    return (tr("push_red_title", region=region, kpi=kpi),
            tr("push_red_text", region=region, kpi=kpi, period=period.label, value=value, target=target,
               before=status_name(c.before), link=tr("push_brief_link", url=url)))


def followup_message(reader: Reader, item: Item, today: dt.date) -> tuple[str, str]:
    level = item.level(today)
    region, kpi = region_name(reader, item.figure.region), _kpi_name(reader, item.figure.kpi)
    owner = region_name(reader, item.owner_code) if item.owner_kind == "region" else item.owner_code
    title = tr("push_followup_escalated_title" if level >= 2 else "push_followup_title", id=item.id, region=region,
               kpi=kpi)
    what = tr("push_followup_escalated" if level >= 2 else "push_followup_overdue")
    url = link("followup", item.figure.period, reader.scope.code, item=str(item.id))
    return title, tr("push_followup_text", what=what, id=item.id, region=region, kpi=kpi, period=item.figure.period,
                     text=item.text, owner=owner, deadline=f"{item.deadline:%Y-%m-%d}",
                     days=item.overdue_days(today), link=tr("push_brief_link", url=url))


def freeze_message(scope: str, period: str, at: dt.datetime, version: int, attached: bool) -> tuple[str, str]:
    return (tr("push_freeze_title", period=period),
            tr("push_freeze_text", period=period, at=f"{at:%Y-%m-%d %H:%M}", version=version,
               attached=tr("push_freeze_attached" if attached else "push_freeze_no_attachment"),
               link=tr("push_brief_link", url=link("pack", period, scope))))


def trial_message(name: str, at: dt.datetime) -> tuple[str, str]:
    return tr("push_test_title"), tr("push_test_text", name=name, at=f"{at:%Y-%m-%d %H:%M:%S}")
