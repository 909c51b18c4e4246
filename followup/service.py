"""批示督办 service: write an instruction on a figure, answer it, close or send it back.

Every function takes the store (or anything `auth.audit` accepts: a Store, a MetricsEngine, an
Engine) and the acting `auth.accounts.User`, checks the permission here (not only in the UI), and
writes the change, one `followup_event` row and one audit-log entry in a single transaction.
A status change is a conditional UPDATE (`WHERE status = <the status read>`), so two people acting on
the same item at once cannot both succeed: the second gets FollowupError("conflict").

Who may do what (see followup.model for the life cycle):
  write (create)    roles with "instruct" (leader, office), on a figure whose region is in their scope;
                    the owner is a county or city in their scope whose own scope holds the figure's
                    region, or a provincial department (a KPI owner in the catalogue).
  see               officer: items owned by their county; leader/office/analyst: items whose figure's
                    region is in their scope (the province sees all). Admin: none.
  answer            (reply, mark done) the owner: a county's items by that county's officer; city- and
                    department-owned items by the reform office, which relays the department.
  conclude          (close, send back) the author, or the reform office as the 督办 desk.
Analysts read only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from auth import audit, policy
from auth.accounts import User
from followup.model import (
    ACTIVE,
    CLOSED,
    DEFAULT_DAYS,
    DONE,
    OPEN,
    OWNER_DEPARTMENT,
    OWNER_REGION,
    REPLIED,
    SOURCES,
    Event,
    Figure,
    Item,
    escalation_level,
    next_status,
    overdue_days,
)
from metrics.catalogue import Catalogue, catalogue
from metrics.geography import Geography, geography
from store.schema_followup import followup_event, followup_item

SYSTEM_USER = "system"  # the author of escalation events
MAX_TEXT = 2000


class FollowupError(Exception):
    """A refused follow-up step; `reason` is a code the UI translates (followup_err_<reason>)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _engine(target: Any) -> sa.Engine:
    return audit._engine(target)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def departments(cat: Catalogue | None = None) -> list[str]:
    """The provincial departments that own KPIs (the catalogue's owner_zh), sorted."""
    cat = cat or catalogue()
    return sorted({k.owner_zh for k in cat.kpis})


def department_of(kpi: str, cat: Catalogue | None = None) -> str:
    return (cat or catalogue()).kpi(kpi).owner_zh


# -- the recorded figure ------------------------------------------------------------------------------------------
def figure_of(eng: Any, kpi: str, region: str, period: str) -> Figure:
    """The figure as the engine gives it now (a MetricsEngine), to be recorded."""
    r = eng.value(kpi, region, period)

    def num(v: Any) -> float | None:
        return None if v is None or v != v else float(v)  # NaN -> None

    return Figure(kpi=r.kpi, region=r.region, period=r.period, value=num(r.value), target=num(r.target),
                  attainment=num(r.attainment), status=str(r.status), as_of=r.as_of,
                  data_version=int(eng.data_version()))


# -- permissions ----------------------------------------------------------------------------------------------------
def may_instruct(user: User, region: str) -> bool:
    return policy.can(user.role, "instruct") and region in policy.scope_regions(user.scope_code)


def owner_options(user: User, region: str, geo: Geography | None = None) -> list[str]:
    """Region owners the user may give an item on `region`'s figure: counties and cities in the
    user's scope whose own scope holds the figure's region (the county itself, or its city)."""
    geo = geo or geography()
    mine = policy.scope_regions(user.scope_code)
    reg = geo.regions.get(region)
    if reg is None or reg.level not in ("county", "city"):
        return []  # the province or a peer group: a department owns it
    # a county figure: the county or its city; a city figure: the city only (a county must never
    # receive a figure of its whole city, which lies outside its scope)
    codes = [region] if reg.level == "city" else [region, reg.parent_code]
    return [c for c in codes if c and c in mine]


def visible(user: User, item: Item) -> bool:
    mine = policy.scope_regions(user.scope_code)
    if user.role == "officer":
        return item.owner_kind == OWNER_REGION and item.owner_code in mine
    if policy.can(user.role, "followup"):
        return item.figure.region in mine
    return False


def may_answer(user: User, item: Item, geo: Geography | None = None) -> bool:
    if item.status not in (OPEN, REPLIED) or not visible(user, item):
        return False
    if item.owner_kind == OWNER_REGION and (geo or geography()).get(item.owner_code).level == "county":
        return user.role == "officer" and user.scope_code == item.owner_code
    return user.role == "office"


def may_conclude(user: User, item: Item) -> bool:
    if item.status not in (REPLIED, DONE) or not visible(user, item):
        return False
    return user.username == item.author or user.role == "office"


# -- reading ----------------------------------------------------------------------------------------------------------
def _item(r: Any) -> Item:
    fig = Figure(kpi=r.fig_kpi, region=r.fig_region, period=r.fig_period, value=r.fig_value, target=r.fig_target,
                 attainment=r.fig_attainment, status=r.fig_status, as_of=r.fig_as_of,
                 data_version=int(r.fig_data_version))
    deadline = r.deadline if isinstance(r.deadline, dt.date) else dt.date.fromisoformat(str(r.deadline)[:10])
    return Item(id=int(r.id), created_at=r.created_at, author=r.author, author_role=r.author_role, text=r.text,
                source=r.source, owner_kind=r.owner_kind, owner_code=r.owner_code, deadline=deadline,
                status=r.status, escalation=int(r.escalation), n_returned=int(r.n_returned),
                updated_at=r.updated_at, closed_at=r.closed_at, is_demo=bool(r.is_demo), figure=fig)


def get(target: Any, item_id: int, user: User | None = None) -> Item:
    """One item (PermissionError when `user` is given and may not see it; KeyError when absent)."""
    if not isinstance(item_id, int) or not 0 < item_id < 2**31:
        raise KeyError(item_id)  # no such id can exist, and the database would overflow on it
    with _engine(target).connect() as c:
        r = c.execute(sa.select(followup_item).where(followup_item.c.id == item_id)).first()
    if r is None:
        raise KeyError(item_id)
    item = _item(r)
    if user is not None and not visible(user, item):
        raise PermissionError(f"follow-up item {item_id} is outside {user.username}'s scope")
    return item


def history(target: Any, item_id: int, user: User | None = None) -> list[Event]:
    if user is not None:
        get(target, item_id, user)  # the permission check
    q = sa.select(followup_event).where(followup_event.c.item_id == item_id).order_by(followup_event.c.id)
    with _engine(target).connect() as c:
        rows = c.execute(q).all()
    return [Event(id=int(r.id), item_id=int(r.item_id), at=r.at, username=r.username, action=r.action,
                  status_after=r.status_after, text=r.text,
                  attachments=[a for a in (r.attachments or "").split("\n") if a]) for r in rows]


def _select_for(user: User | None) -> sa.Select:
    q = sa.select(followup_item).order_by(followup_item.c.created_at.desc(), followup_item.c.id.desc())
    if user is None:
        return q
    mine = policy.scope_regions(user.scope_code)
    if user.role == "officer":
        return q.where(followup_item.c.owner_kind == OWNER_REGION, followup_item.c.owner_code.in_(sorted(mine)))
    if not policy.can(user.role, "followup"):
        return q.where(sa.false())
    if user.scope_code != "330000":
        q = q.where(followup_item.c.fig_region.in_(sorted(mine)))
    return q


def list_for(target: Any, user: User | None, *, status: Iterable[str] | None = None, overdue_only: bool = False,
             kpi: str | None = None, region: str | None = None, today: dt.date | None = None) -> list[Item]:
    """Items the user may see, newest first (user None: every item, for the scheduler and the pack)."""
    q = _select_for(user)
    if status is not None:
        q = q.where(followup_item.c.status.in_(list(status)))
    if kpi is not None:
        q = q.where(followup_item.c.fig_kpi == kpi)
    if region is not None:
        q = q.where(followup_item.c.fig_region == region)
    with _engine(target).connect() as c:
        items = [_item(r) for r in c.execute(q).all()]
    items = [i for i in items if user is None or visible(user, i)]
    if overdue_only:
        today = today or dt.date.today()
        items = [i for i in items if i.is_overdue(today)]
    return items


def items_for(target: Any, user: User | None, kpi: str | None = None, region: str | None = None) -> list[Item]:
    """The items written on a KPI, a region or one figure (for the county profile and the trend)."""
    return list_for(target, user, kpi=kpi, region=region)


def overdue(target: Any, user: User | None, today: dt.date | None = None) -> list[Item]:
    """Overdue items in the user's view, most escalated and longest overdue first."""
    today = today or dt.date.today()
    items = list_for(target, user, status=(OPEN, REPLIED), overdue_only=True, today=today)
    return sorted(items, key=lambda i: (-i.level(today), -i.overdue_days(today), i.id))


def markers(target: Any, user: User | None, kpis: Sequence[str] | None = None,
            regions: Sequence[str] | None = None) -> dict[tuple[str, str], Item]:
    """The latest visible item per (kpi, region) figure, for the 📌 markers on tiles, maps and rows."""
    q = _select_for(user)
    if kpis is not None:
        q = q.where(followup_item.c.fig_kpi.in_(list(kpis)))
    if regions is not None:
        q = q.where(followup_item.c.fig_region.in_(list(regions)))
    with _engine(target).connect() as c:
        items = [_item(r) for r in c.execute(q).all()]
    out: dict[tuple[str, str], Item] = {}
    for i in items:  # newest first: keep the first seen
        if user is None or visible(user, i):
            out.setdefault((i.figure.kpi, i.figure.region), i)
    return out


# -- writing ------------------------------------------------------------------------------------------------------------
def _clean(text: str | None) -> str:
    """Trimmed text; longer than MAX_TEXT is refused (cutting it would lose what was written unseen)."""
    out = (text or "").strip()
    if len(out) > MAX_TEXT:
        raise FollowupError("too_long", f"{len(out)} > {MAX_TEXT}")
    return out


def _attachments(items: Iterable[str] | None) -> str | None:
    lines = [" ".join(a.split()) for a in (items or []) if a and a.strip()]
    if any(len(a) > 200 for a in lines) or len("\n".join(lines)) > MAX_TEXT:
        raise FollowupError("too_long", "attachments")
    return "\n".join(lines) or None


def create(target: Any, user: User, figure: Figure, text: str, *, owner_kind: str, owner_code: str,
           deadline: dt.date | None = None, source: str = "page", now: dt.datetime | None = None,
           is_demo: bool = False, geo: Geography | None = None, cat: Catalogue | None = None) -> int:
    """Write an instruction on `figure` (already recorded by `figure_of`); returns the item id."""
    geo = geo or geography()
    now = now or _now()
    text = _clean(text)
    if not text:
        raise FollowupError("empty_text")
    if not may_instruct(user, figure.region):
        raise PermissionError(f"{user.username} ({user.role}) may not instruct on {figure.region}")
    if source not in SOURCES:
        raise FollowupError("bad_source", source)
    if owner_kind == OWNER_REGION:
        if owner_code not in owner_options(user, figure.region, geo):
            raise FollowupError("bad_owner", owner_code)
    elif owner_kind == OWNER_DEPARTMENT:
        if owner_code not in departments(cat):
            raise FollowupError("bad_owner", owner_code)
    else:
        raise FollowupError("bad_owner", owner_kind)
    deadline = deadline or (now.date() + dt.timedelta(days=DEFAULT_DAYS))
    if deadline < now.date():
        raise FollowupError("past_deadline", deadline.isoformat())
    row = dict(created_at=now, author=user.username, author_role=user.role, text=text, source=source,
               owner_kind=owner_kind, owner_code=owner_code, deadline=deadline, status=OPEN, escalation=0,
               n_returned=0, updated_at=now, closed_at=None, is_demo=is_demo,
               fig_kpi=figure.kpi, fig_region=figure.region, fig_period=figure.period, fig_value=figure.value,
               fig_target=figure.target, fig_attainment=figure.attainment, fig_status=figure.status,
               fig_as_of=figure.as_of, fig_data_version=figure.data_version)
    with _engine(target).begin() as c:
        item_id = int(c.execute(followup_item.insert().values(**row)).inserted_primary_key[0])
        c.execute(followup_event.insert().values(item_id=item_id, at=now, username=user.username, action="create",
                                                 status_after=OPEN, text=text, attachments=None))
        audit.record(target, user.username, "followup_create", f"followup:{item_id}",
                     f"{figure.kpi} {figure.region} {figure.period} value={figure.value} -> "
                     f"{owner_kind}:{owner_code} by {deadline.isoformat()}", conn=c)
    return item_id


def _step(target: Any, user: User, item_id: int, action: str, text: str | None, attachments: Iterable[str] | None,
          allowed: Any, now: dt.datetime | None) -> Item:
    now = now or _now()
    with _engine(target).begin() as c:
        r = c.execute(sa.select(followup_item).where(followup_item.c.id == item_id)).first()
        if r is None:
            raise KeyError(item_id)
        item = _item(r)
        if not visible(user, item):
            raise PermissionError(f"follow-up item {item_id} is outside {user.username}'s scope")
        try:
            after = next_status(action, item.status)
        except ValueError as exc:
            raise FollowupError("bad_state", str(exc)) from exc
        if not allowed(user, item):
            raise PermissionError(f"{user.username} ({user.role}) may not {action} follow-up item {item_id}")
        values: dict[str, Any] = {"status": after, "updated_at": now}
        if after == CLOSED:
            values["closed_at"] = now
        if action == "send_back":
            values["n_returned"] = item.n_returned + 1
        res = c.execute(followup_item.update()
                        .where(followup_item.c.id == item_id, followup_item.c.status == item.status)
                        .values(**values))
        if res.rowcount != 1:
            raise FollowupError("conflict", f"item {item_id} changed meanwhile")
        att = _attachments(attachments)
        c.execute(followup_event.insert().values(item_id=item_id, at=now, username=user.username, action=action,
                                                 status_after=after, text=_clean(text) or None, attachments=att))
        audit.record(target, user.username, f"followup_{action}", f"followup:{item_id}",
                     f"{item.status} -> {after}" + (f": {_clean(text)[:300]}" if text else ""), conn=c)
    return get(target, item_id)


def reply(target: Any, user: User, item_id: int, text: str, attachments: Iterable[str] | None = None, *,
          now: dt.datetime | None = None) -> Item:
    """The owner's feedback (with descriptions of the attached material); may be repeated."""
    if not _clean(text):
        raise FollowupError("empty_text")
    return _step(target, user, item_id, "reply", text, attachments, may_answer, now)


def mark_done(target: Any, user: User, item_id: int, text: str | None = None,
              attachments: Iterable[str] | None = None, *, now: dt.datetime | None = None) -> Item:
    """The owner reports the instruction carried out (办结); the author then closes or sends back."""
    return _step(target, user, item_id, "done", text, attachments, may_answer, now)


def close(target: Any, user: User, item_id: int, text: str | None = None, *, now: dt.datetime | None = None) -> Item:
    """The author (or the office) accepts the answer: the loop is closed (闭环)."""
    return _step(target, user, item_id, "close", text, None, may_conclude, now)


def send_back(target: Any, user: User, item_id: int, reason: str, *, now: dt.datetime | None = None) -> Item:
    """The author (or the office) returns the answer with a reason: the item is open again (退回重办)."""
    if not _clean(reason):
        raise FollowupError("empty_reason")
    return _step(target, user, item_id, "send_back", reason, None, may_conclude, now)


def escalate_overdue(target: Any, today: dt.date | None = None, now: dt.datetime | None = None) -> list[int]:
    """Record each overdue item's escalation the first time it reaches a level (idempotent).

    Cheap enough to call when a page lists items: only open/replied items past their deadline are read.
    """
    today = today or dt.date.today()
    now = now or _now()
    q = sa.select(followup_item).where(followup_item.c.status.in_([OPEN, REPLIED]),
                                       followup_item.c.deadline < today)
    raised: list[int] = []
    with _engine(target).begin() as c:
        for r in c.execute(q).all():
            item = _item(r)
            days = overdue_days(item.status, item.deadline, today)
            level = escalation_level(days)
            if level <= item.escalation:
                continue
            res = c.execute(followup_item.update()
                            .where(followup_item.c.id == item.id, followup_item.c.escalation == item.escalation)
                            .values(escalation=level))
            if res.rowcount != 1:
                continue  # another process escalated it meanwhile
            c.execute(followup_event.insert().values(item_id=item.id, at=now, username=SYSTEM_USER,
                                                     action="escalate", status_after=item.status,
                                                     text=f"{level}:{days}", attachments=None))
            audit.record(target, SYSTEM_USER, "followup_escalate", f"followup:{item.id}",
                         f"level {level}, {days} days overdue", conn=c)
            raised.append(item.id)
    return raised


def counts(items: Sequence[Item], today: dt.date | None = None) -> dict[str, int]:
    """How many items per status, plus overdue (for the page's summary line)."""
    today = today or dt.date.today()
    out = {s: 0 for s in (OPEN, REPLIED, DONE, CLOSED)}
    for i in items:
        out[i.status] = out.get(i.status, 0) + 1
    out["overdue"] = sum(1 for i in items if i.is_overdue(today))
    out["active"] = sum(1 for i in items if i.status in ACTIVE)
    return out


def state_at(target: Any, when: dt.datetime | None = None) -> list[tuple[Item, str, int]]:
    """Every item as it stood at `when` (now when None): (item, status then, days overdue then).

    Rebuilt from the history (the last event at or before `when`), so the meeting pack of a period
    frozen at `when` lists the items as they were at the freeze, whatever happened since. Items
    written later are left out; the most escalated and longest overdue come first.
    """
    when = when or _now()
    with _engine(target).connect() as c:
        items = [_item(r) for r in c.execute(sa.select(followup_item).where(followup_item.c.created_at <= when))]
        rows = c.execute(sa.select(followup_event.c.item_id, followup_event.c.status_after)
                         .where(followup_event.c.at <= when).order_by(followup_event.c.id)).all()
    status = {int(r.item_id): r.status_after for r in rows}  # the last event wins
    out = []
    for i in items:
        s = status.get(i.id, i.status)
        out.append((i, s, overdue_days(s, i.deadline, when.date())))
    return sorted(out, key=lambda x: (-escalation_level(x[2]), -x[2], x[0].deadline, x[0].id))
