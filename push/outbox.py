"""The delivery log, which is also the queue: enqueue once, send with retries, never twice.

`enqueue` inserts one `push_delivery` row per (event key, recipient); the unique constraint makes a
second insert of the same pair fail, so a restarted scheduler, or a second one racing it, queues
nothing new for an event already seen. `deliver_due` claims each due row with a conditional UPDATE
(`queued` → `sending`, one winner) before sending, so two schedulers never send the same row. A
failed send goes back to `queued` with an exponential backoff (`next_at`); after `attempts` failed
sends it is `failed` and stays in the log (the jobs page lists it, `retry` queues it again). A row
left `sending` by a scheduler that died mid-send may or may not have reached the receiver: it is
marked failed with that reason after STALE_AFTER, never resent on its own (a duplicate is what the
log promises not to produce), and the administrator decides.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from push import channels
from push.recipients import Recipient, get
from store.schema_push import push_delivery, push_recipient

log = logging.getLogger("push")

STALE_AFTER = dt.timedelta(minutes=15)
Sender = Callable[[Recipient, channels.Message], None]


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def default_sender(r: Recipient, msg: channels.Message) -> None:
    channels.send(r.channel, r.address, r.secret, msg)


def enqueue(engine: sa.Engine, key: str, recipient_id: int, kind: str, title: str, body: str,
            attachment: str | Path | None = None, now: dt.datetime | None = None) -> bool:
    """Queue one message; False when this (event, recipient) was queued before (nothing happens)."""
    d = push_delivery.c
    with engine.connect() as c:
        if c.execute(sa.select(d.id).where(d.event_key == key, d.recipient_id == recipient_id)).first():
            return False
    try:
        with engine.begin() as c:
            c.execute(push_delivery.insert().values(
                event_key=key[:200], recipient_id=recipient_id, kind=kind, title=title[:200], body=body,
                attachment=str(attachment) if attachment else None, status="queued", attempts=0,
                next_at=now or _now(), created_at=now or _now()))
    except sa.exc.IntegrityError:  # another scheduler queued it between the check and the insert
        return False
    return True


def known_pairs(engine: sa.Engine, keys: set[str]) -> set[tuple[str, int]]:
    """(event key, recipient) pairs already queued, among `keys` (read in chunks of 500)."""
    d = push_delivery.c
    ordered, out = sorted(keys), set()
    with engine.connect() as c:
        for i in range(0, len(ordered), 500):
            out |= {(k, int(r)) for k, r in c.execute(sa.select(d.event_key, d.recipient_id)
                                                       .where(d.event_key.in_(ordered[i:i + 500])))}
    return out


def _close_stale(engine: sa.Engine, now: dt.datetime) -> int:
    d = push_delivery.c
    with engine.begin() as c:
        return c.execute(push_delivery.update().where(d.status == "sending", d.next_at < now - STALE_AFTER).values(
            status="failed", last_error="outcome unknown: the scheduler stopped while sending; not resent "
                                        "automatically (retry from the jobs page)")).rowcount


def deliver_due(engine: sa.Engine, instance_id: str, *, attempts: int = 5, backoff: float = 60.0,
                sender: Sender = default_sender, now: dt.datetime | None = None, limit: int = 200) -> dict:
    """Send every queued message whose time has come; returns counts (sent, retrying, failed, skipped)."""
    now = now or _now()
    d = push_delivery.c
    out = {"sent": 0, "retrying": 0, "failed": 0, "skipped": 0, "stale": _close_stale(engine, now)}
    with engine.connect() as c:
        ids = list(c.execute(sa.select(d.id).where(d.status == "queued", d.next_at <= now)
                             .order_by(d.id).limit(limit)).scalars())
    for did in ids:
        outcome, _err = _deliver(engine, did, instance_id, attempts, backoff, sender, now)
        out[outcome] = out.get(outcome, 0) + 1
    return out


def _deliver(engine: sa.Engine, did: int, instance_id: str, attempts: int, backoff: float, sender: Sender,
             now: dt.datetime) -> tuple[str, str | None]:
    """Claim one queued row and send it: (sent | retrying | failed | skipped | cancelled, the error)."""
    d = push_delivery.c
    with engine.begin() as c:
        won = c.execute(push_delivery.update().where(d.id == did, d.status == "queued")
                        .values(status="sending", claimed_by=instance_id[:128], next_at=now)).rowcount == 1
        row = c.execute(sa.select(push_delivery).where(d.id == did)).first() if won else None
    if row is None:
        return "skipped", None  # another scheduler took it
    r = get(engine, int(row.recipient_id))
    if r is None:
        _set(engine, did, status="cancelled", last_error="the recipient no longer exists")
        return "cancelled", None
    msg = channels.Message(row.title, row.body,
                           Path(row.attachment) if row.attachment and r.channel == "email" else None)
    n = int(row.attempts) + 1
    try:
        sender(r, msg)
    except Exception as exc:  # noqa: BLE001 - any failure of a receiver is retried, then logged
        err = f"{exc.__class__.__name__}: {exc}"[:1000]
        if n >= attempts:
            _set(engine, did, status="failed", attempts=n, last_error=err)
            log.warning("push %s to %s failed after %s attempts: %s", row.event_key, r.name, n, err)
            return "failed", err
        _set(engine, did, status="queued", attempts=n, last_error=err,
             next_at=now + dt.timedelta(seconds=backoff * 2 ** (n - 1)))
        return "retrying", err
    _set(engine, did, status="sent", attempts=n, sent_at=_now(), last_error=None)
    return "sent", None


def deliver_one(engine: sa.Engine, key: str, recipient_id: int, instance_id: str, *,
                sender: Sender = default_sender) -> str | None:
    """Send one queued message now, once (the admin page's test): None when sent, else the error."""
    d = push_delivery.c
    with engine.connect() as c:
        did = c.execute(sa.select(d.id).where(d.event_key == key, d.recipient_id == recipient_id)).scalar()
    if did is None:
        return "not queued"
    outcome, err = _deliver(engine, int(did), instance_id, 1, 0.0, sender, _now())
    return None if outcome == "sent" else (err or outcome)


def _set(engine: sa.Engine, did: int, **values) -> None:
    with engine.begin() as c:
        c.execute(push_delivery.update().where(push_delivery.c.id == did).values(**values))


def retry(engine: sa.Engine, ids: list[int] | None = None, now: dt.datetime | None = None) -> int:
    """Queue failed deliveries again (all of them, or `ids`), at once and with a fresh attempt count."""
    d = push_delivery.c
    q = push_delivery.update().where(d.status == "failed")
    if ids is not None:
        q = q.where(d.id.in_(ids))
    with engine.begin() as c:
        return c.execute(q.values(status="queued", attempts=0, next_at=now or _now())).rowcount


def deliveries(engine: sa.Engine, *, status: str | None = None, limit: int = 200) -> pd.DataFrame:
    """The delivery log, newest first, with the recipient's name."""
    d, r = push_delivery.c, push_recipient.c
    q = (sa.select(d.id, d.created_at, d.kind, d.title, r.name.label("recipient"), r.channel, d.status, d.attempts,
                   d.next_at, d.sent_at, d.last_error, d.event_key)
         .select_from(push_delivery.outerjoin(push_recipient, r.id == d.recipient_id))
         .order_by(d.id.desc()).limit(limit))
    if status is not None:
        q = q.where(d.status == status)
    with engine.connect() as c:
        return pd.DataFrame(c.execute(q).mappings().all(),
                            columns=["id", "created_at", "kind", "title", "recipient", "channel", "status",
                                     "attempts", "next_at", "sent_at", "last_error", "event_key"])
