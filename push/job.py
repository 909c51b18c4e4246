"""The push run the scheduler calls: find what is due, queue it once per recipient, send the queue.

Events and their once-only keys (`push_delivery.event_key`, unique with the recipient):

- ``brief:<date>``: the morning brief, once a day from `brief_hour` on;
- ``red:<region>:<kpi>:<period>``: a headline KPI of a watched region is red in the latest period
  and was not red the period before;
- ``followup:<item>:<level>``: a 督办 item became overdue (level 1) or was escalated (level 2);
- ``freeze:<freeze id>``: a period was frozen and its PDF pack exists (attached to e-mails of
  province-scoped recipients: the pack shows every region, so narrower scopes get the notice only).

A recipient added later receives what is current (an item still overdue, the latest red KPIs) but
no freeze older than `lookback_days`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from auth import audit
from followup import service as followups
from metrics import MetricsEngine
from metrics.access import Reader
from metrics.geography import PROVINCE
from pack.freeze import Freeze, list_freezes, pack_files
from push import content, outbox, recipients
from push.channels import SendError
from push.recipients import Recipient
from store.schema_pack import freeze


def _env(name: str, default: float) -> float:
    v = os.environ.get(name, "").strip()
    return float(v) if v else default


@dataclass
class PushConfig:
    brief_hour: int = field(default_factory=lambda: int(_env("COCKPIT_BRIEF_HOUR", 8)))
    attempts: int = field(default_factory=lambda: int(_env("COCKPIT_PUSH_ATTEMPTS", 5)))
    backoff: float = field(default_factory=lambda: _env("COCKPIT_PUSH_BACKOFF", 60))
    lookback_days: int = field(default_factory=lambda: int(_env("COCKPIT_PUSH_LOOKBACK_DAYS", 7)))


def queue_events(eng: MetricsEngine, people: list[Recipient], cfg: PushConfig, now: dt.datetime) -> dict[str, int]:
    """Queue every due message for every recipient; returns how many were new, per kind."""
    engine, today = eng.store.engine, now.date()
    memo = content.memo()
    items = followups.list_for(engine, None, status=("open", "replied"))
    freezes = [f for f in list_freezes(engine) if f.known_at >= now - dt.timedelta(days=cfg.lookback_days)]
    out = {"brief": 0, "red": 0, "followup": 0, "freeze": 0}
    # first what is due (cheap: statuses and ids), then one read of which of it was queued before, then
    # only the new messages are written (a long delivery log is never read whole)
    due: list[tuple[str, Recipient, str, Callable[[], tuple]]] = []
    for r in people:
        reader = Reader.for_code(eng, r.scope_code, memo)
        period = reader.latest()
        if r.receives("brief") and now.hour >= cfg.brief_hour:
            due.append((f"brief:{today}", r, "brief",
                        lambda reader=reader: (*content.brief(reader, engine, items, today), None)))
        if r.receives("red") and period is not None:
            for c in content.changes(reader, period, ("red",)):
                due.append((f"red:{c.region}:{c.kpi}:{period.label}", r, "red",
                            lambda reader=reader, c=c, p=period: (*content.red_message(reader, c, p), None)))
        if r.receives("followup"):
            for i in items:
                level = i.level(today)
                if level and content.in_scope(reader, i):
                    due.append((f"followup:{i.id}:{level}", r, "followup",
                                lambda reader=reader, i=i: (*content.followup_message(reader, i, today), None)))
        if r.receives("freeze"):
            for f in freezes:
                due.append((f"freeze:{f.id}", r, "freeze", lambda r=r, f=f: _freeze_message(engine, r, f)))
    seen = outbox.known_pairs(engine, {key for key, *_ in due})
    for key, r, kind, build in due:
        if (key, r.id) in seen:
            continue
        msg = build()
        if msg is None:
            continue  # a freeze whose PDF the pack job has not made yet: the next run sends it
        title, body, attachment = msg
        if outbox.enqueue(engine, key, r.id, kind, title, body, attachment, now):
            out[kind] += 1
    return out


def _freeze_message(engine: sa.Engine, r: Recipient, f: Freeze) -> tuple[str, str, str | None] | None:
    pdf = _pdf_of(engine, f.id)
    if pdf is None:
        return None
    attach = r.scope_code == PROVINCE
    title, body = content.freeze_message(r.scope_code, f.period, f.known_at, _version(engine, f.id), attach)
    return title, body, str(pdf) if attach else None


def _pdf_of(engine: sa.Engine, freeze_id: int) -> Path | None:
    files = pack_files(engine, freeze_id)
    files = files[(files["format"] == "pdf")] if len(files) else files
    if not len(files):
        return None
    zh = files[files["lang"] == "zh"]
    path = Path((zh if len(zh) else files).iloc[0]["path"])
    return path if path.is_file() else None


def _version(engine: sa.Engine, freeze_id: int) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.select(freeze.c.data_version).where(freeze.c.id == freeze_id)).scalar() or 0)


def run(eng: MetricsEngine, instance_id: str, cfg: PushConfig | None = None, *, now: dt.datetime | None = None,
        sender: outbox.Sender = outbox.default_sender) -> dict:
    """One push run: queue what is due, then send what is queued and due (retries included)."""
    cfg = cfg or PushConfig()
    now = now or dt.datetime.now().replace(microsecond=0)
    people = recipients.active(eng.store.engine)
    queued = queue_events(eng, people, cfg, now) if people else {}
    sent = outbox.deliver_due(eng.store.engine, instance_id, attempts=cfg.attempts, backoff=cfg.backoff,
                              sender=sender, now=now)
    return {"queued": queued, **sent}


def send_test(engine: sa.Engine, recipient_id: int, by: str | None = None,
              sender: outbox.Sender = outbox.default_sender) -> None:
    """The admin page's test message: sent now (SendError when it does not arrive), logged like any other."""
    r = recipients.get(engine, recipient_id)
    if r is None:
        raise ValueError(f"no recipient #{recipient_id}")
    now = dt.datetime.now()
    title, body = content.trial_message(r.name, now)
    key = f"test:{now:%Y%m%d%H%M%S%f}"
    outbox.enqueue(engine, key, r.id, "test", title, body, None, now.replace(microsecond=0))
    res = outbox.deliver_one(engine, key, r.id, f"admin:{by or '-'}", sender=sender)
    audit.record(engine, by, "push_test", f"push:{r.id}", res or "sent")
    if res:
        raise SendError(res)
