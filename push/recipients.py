"""Recipients: configured by the administrator (the admin page), read by the push job.

A recipient's role decides which kinds of message it gets (`KINDS`), its scope which regions they
may be about: a county officer never receives a figure of another county. Removing one keeps the
row (the delivery log names it) and cancels what is still queued for it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa

from auth import audit
from auth.policy import ROLES
from metrics.geography import PROVINCE, geography
from store.schema_push import push_delivery, push_recipient

CHANNELS = ("dingtalk", "email")
# role -> the kinds of message it receives (the morning brief, a KPI turning red, 督办 overdue or
# escalated, a frozen period with its pack)
KINDS: dict[str, frozenset[str]] = {
    "leader": frozenset({"brief", "red", "followup", "freeze"}),
    "office": frozenset({"brief", "red", "followup", "freeze"}),
    "admin": frozenset({"brief", "red", "followup", "freeze"}),
    "analyst": frozenset({"brief", "red", "freeze"}),
    "officer": frozenset({"brief", "followup"}),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Recipient:
    id: int
    name: str
    channel: str
    address: str
    secret: str | None
    role: str
    scope_code: str
    created_at: dt.datetime

    def receives(self, kind: str) -> bool:
        return kind == "test" or kind in KINDS.get(self.role, frozenset())


def _row(r) -> Recipient:
    return Recipient(int(r.id), r.name, r.channel, r.address, r.secret, r.role, r.scope_code, r.created_at)


def active(engine: sa.Engine) -> list[Recipient]:
    with engine.connect() as c:
        rows = c.execute(sa.select(push_recipient).where(push_recipient.c.removed_at.is_(None))
                         .order_by(push_recipient.c.id)).all()
    return [_row(r) for r in rows]


def get(engine: sa.Engine, recipient_id: int) -> Recipient | None:
    with engine.connect() as c:
        r = c.execute(sa.select(push_recipient).where(push_recipient.c.id == recipient_id)).first()
    return _row(r) if r else None


def add(engine: sa.Engine, name: str, channel: str, address: str, role: str, scope_code: str,
        secret: str | None = None, by: str | None = None) -> int:
    """A new recipient; ValueError names the field at fault."""
    name, address, secret = (name or "").strip(), (address or "").strip(), (secret or "").strip() or None
    if not name or len(name) > 64:
        raise ValueError("name: 1-64 characters")
    if channel not in CHANNELS:
        raise ValueError(f"channel: one of {CHANNELS}")
    if channel == "dingtalk" and not address.startswith(("http://", "https://")):
        raise ValueError("address: the robot webhook URL (http:// or https://)")
    if channel == "email" and not _EMAIL.match(address):
        raise ValueError("address: an e-mail address")
    if role not in ROLES:
        raise ValueError(f"role: one of {ROLES}")
    if scope_code != PROVINCE and scope_code not in geography().regions:
        raise ValueError("scope: the province, a city or a county code")
    with engine.begin() as c:
        rid = int(c.execute(push_recipient.insert().values(
            name=name, channel=channel, address=address, secret=secret, role=role, scope_code=scope_code,
            created_at=dt.datetime.now().replace(microsecond=0), created_by=by)).inserted_primary_key[0])
        audit.record(engine, by or "system", "push_recipient_add", f"push:{rid}",
                     f"{name} {channel} {role} {scope_code}", conn=c)
    return rid


def remove(engine: sa.Engine, recipient_id: int, by: str | None = None) -> None:
    now = dt.datetime.now().replace(microsecond=0)
    with engine.begin() as c:
        c.execute(push_recipient.update().where(push_recipient.c.id == recipient_id).values(removed_at=now))
        c.execute(push_delivery.update().where(push_delivery.c.recipient_id == recipient_id,
                                               push_delivery.c.status.in_(["queued", "failed"]))
                  .values(status="cancelled"))
        audit.record(engine, by or "system", "push_recipient_remove", f"push:{recipient_id}", None, conn=c)
