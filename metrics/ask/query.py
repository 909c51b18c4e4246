"""The structured query a question is read into, and the clarification given when it cannot be.

Both are plain frozen dataclasses with a stable dict form, so the corpus in the tests, the CLI's
--json and a model endpoint (which may only produce this shape) all speak the same language.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

Intent = Literal["value", "change", "ranking", "status_list", "compare", "trend", "forecast", "not_reported"]
INTENTS: tuple[str, ...] = ("value", "change", "ranking", "status_list", "compare", "trend", "forecast",
                            "not_reported")
# not_met: amber or red against the target in force (the pro-rata one for a paced count); met: green;
# red: red only; behind_pace: a paced count short of its 序时 target; overdue: report past its due day;
# not_reported: not in yet (overdue or not yet due); at_risk: year-end target unlikely (p < 0.5)
Condition = Literal["not_met", "met", "red", "behind_pace", "overdue", "not_reported", "at_risk"]
CONDITIONS: tuple[str, ...] = ("not_met", "met", "red", "behind_pace", "overdue", "not_reported", "at_risk")


@dataclass(frozen=True)
class Query:
    """What a question asks, in catalogue codes: nothing here is free text.

    regions: named regions (GB/T 2260 codes, peer-group codes, township codes).
    population: a set of regions raced or listed, as metrics.rankings.Population spells it
    ("counties", "cities", "city:331100", "group:SHANQU_HAIDAO25", "townships:330802") or
    "class:跨越发展类" (the 山区26县 development classes).
    period: a metrics.periods.Period label ("2026-10", "2026-Q3", "2026-10-YTD", "2025", "2026-11-20").
    """

    intent: Intent
    kpis: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    population: str | None = None
    period: str = ""
    compare_to: Literal["prev", "yoy"] | None = None
    months: int | None = None  # trend window ending with `period`
    rank: Literal["top", "bottom", "position", "all"] | None = None
    n: int | None = None
    condition: Condition | None = None
    # 上个月 when its reports are not yet due: the month the words meant ("2026-11"); `period` is then
    # the latest due month the answer is about, and the reading says so
    asked_period: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The non-default fields (lists for tuples): the corpus's and the JSON output's form."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "intent" or v not in (None, (), ""):
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Query:
        """The inverse of as_dict; unknown keys or values raise ValueError (a model's output is checked)."""
        names = {f.name for f in fields(cls)}
        bad = set(d) - names
        if bad:
            raise ValueError(f"unknown query field(s): {sorted(bad)}")
        if d.get("intent") not in INTENTS:
            raise ValueError(f"unknown intent {d.get('intent')!r}")
        if d.get("condition") not in (None, *CONDITIONS):
            raise ValueError(f"unknown condition {d.get('condition')!r}")
        kw = {k: tuple(v) if k in ("kpis", "regions") else v for k, v in d.items()}
        return cls(**kw)


ClarifyReason = Literal[
    "empty", "unknown_word", "outside_catalogue", "ambiguous_kpi", "ambiguous_region", "missing_kpi",
    "period_outside_data", "two_periods", "change_basis", "group_not_valid", "not_township_kpi", "province_only",
    "two_questions",
]


@dataclass(frozen=True)
class Clarification:
    """The parser did not read the question exactly: what it did not understand and what it could mean."""

    reason: ClarifyReason
    message_zh: str
    message_en: str
    candidates: tuple[str, ...] = ()  # readable choices ("江北区（宁波市）", "一网通办率（办件）")
    words: tuple[str, ...] = ()  # the words concerned, as typed

    def message(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message_zh

    def as_dict(self) -> dict[str, Any]:
        return {"clarify": self.reason, "message_zh": self.message_zh, "message_en": self.message_en,
                "candidates": list(self.candidates), "words": list(self.words)}


@dataclass
class Figure:
    """One figure of an answer, as the pages show it (value, status, coverage)."""

    kpi: str
    region: str
    period: str
    value: float | None
    text: str  # the value formatted as on the pages
    status: str | None = None
    target: float | None = None
    n_reported: int | None = None
    n_expected: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # change, rank, probability … by intent
