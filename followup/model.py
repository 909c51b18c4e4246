"""批示督办 domain model: an instruction on a figure and its follow-up life cycle.

Life cycle (status of `followup_item`):

    open ──reply──▶ replied ──reply──▶ replied
      │                │
      └──mark_done──▶ done ◀──mark_done──┘
    replied | done ──close──▶ closed            (the author, or the reform office, accepts: 闭环)
    replied | done ──send_back──▶ open          (退回重办, with a reason; n_returned counts them)

Owners: a region (a county, or a city for a city-level figure) or a provincial department (a KPI
owner named in the catalogue, `owner_zh`). A region owner's figure must lie inside the owner's own
scope (a county owner gets only its own county's figure), so answering an item never shows an owner
a figure outside what their role may read.

Overdue is derived, never stored: an item that is open or replied after its deadline (today >
deadline) is overdue by (today − deadline) days; an item the owner has marked done is waiting for
the author and is not overdue. Escalation level from days overdue: 0 none, 1 督办 (overdue: shown in
the alerts panel), 2 通报 (more than ESCALATE_DAYS overdue: also listed first in the meeting pack).
The level reached is recorded on the item with an `escalate` event the first time it is reached
(`followup.service.escalate_overdue`), so the history says when an item escalated.

The recorded figure (`Figure`) is a copy of the engine's result when the instruction was written:
value, target, attainment, status, as-of date and the data version; it is never recomputed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

OPEN, REPLIED, DONE, CLOSED = "open", "replied", "done", "closed"
STATUSES = (OPEN, REPLIED, DONE, CLOSED)
ACTIVE = frozenset({OPEN, REPLIED, DONE})  # not yet closed
OWNER_REGION, OWNER_DEPARTMENT = "region", "department"
SOURCES = ("tile", "map", "league", "alert", "county", "page", "demo")
ACTIONS = ("create", "reply", "done", "close", "send_back", "escalate")

# action -> (statuses it may start from, status after)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "reply": (frozenset({OPEN, REPLIED}), REPLIED),
    "done": (frozenset({OPEN, REPLIED}), DONE),
    "close": (frozenset({REPLIED, DONE}), CLOSED),
    "send_back": (frozenset({REPLIED, DONE}), OPEN),
}
ESCALATE_DAYS = 7  # overdue by more than this: level 2 (通报)
DEFAULT_DAYS = 14  # default deadline: two weeks


@dataclass(frozen=True)
class Figure:
    """The figure as it was when the instruction was written (never recomputed)."""

    kpi: str
    region: str
    period: str
    value: float | None
    target: float | None
    attainment: float | None
    status: str
    as_of: str | None
    data_version: int


@dataclass(frozen=True)
class Item:
    id: int
    created_at: dt.datetime
    author: str
    author_role: str
    text: str
    source: str
    owner_kind: str
    owner_code: str
    deadline: dt.date
    status: str
    escalation: int
    n_returned: int
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    is_demo: bool
    figure: Figure

    def overdue_days(self, today: dt.date) -> int:
        return overdue_days(self.status, self.deadline, today)

    def is_overdue(self, today: dt.date) -> bool:
        return self.overdue_days(today) > 0

    def level(self, today: dt.date) -> int:
        return escalation_level(self.overdue_days(today))


@dataclass(frozen=True)
class Event:
    id: int
    item_id: int
    at: dt.datetime
    username: str
    action: str
    status_after: str
    text: str | None = None
    attachments: list[str] = field(default_factory=list)


def overdue_days(status: str, deadline: dt.date, today: dt.date) -> int:
    """Days past the deadline of an item still waiting for its owner (open/replied); else 0."""
    if status not in (OPEN, REPLIED):
        return 0
    return max((today - deadline).days, 0)


def escalation_level(days_overdue: int) -> int:
    if days_overdue <= 0:
        return 0
    return 2 if days_overdue > ESCALATE_DAYS else 1


def next_status(action: str, status: str) -> str:
    """The status after `action`, or ValueError when the action is not allowed from `status`."""
    if action not in TRANSITIONS:
        raise ValueError(f"unknown action {action!r}")
    allowed, after = TRANSITIONS[action]
    if status not in allowed:
        raise ValueError(f"cannot {action} an item that is {status}")
    return after
