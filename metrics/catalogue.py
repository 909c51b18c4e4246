"""The KPI catalogue: the single definition of every measure and KPI.

The engine, the pages, the exports and the docs all read `definitions/kpis.yaml` through this
module, so a KPI's name, unit, formula, direction and targets exist exactly once. Validation runs
on load: a bad entry fails with a message that names the entry and the field.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CATALOGUE_PATH = Path(__file__).parent / "definitions" / "kpis.yaml"

Grain = Literal["day", "month"]
# sum: flows. mean_daily: summed across regions, averaged across days (daily actives, calls/day).
# last: stocks, the value at the period's last reported time point.
Aggregation = Literal["sum", "mean_daily", "last"]
Level = Literal["county", "city", "province"]
Direction = Literal["up", "down"]
KpiKind = Literal["simple", "ratio", "yoy_growth"]
Fmt = Literal["percent", "integer", "decimal"]


class CatalogueError(ValueError):
    """A catalogue entry is invalid; the message names the entry and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class System(_Strict):
    code: str
    name_zh: str
    name_en: str
    short_zh: str
    short_en: str
    order: int


class DemoSpec(_Strict):
    """How the synthetic demo generator draws a measure (never used for real data).

    flow: expected amount per 10k residents per month (per day for day grain), moving from
    `start` (2021-01) to `end` (2026-12). stock: a cumulative count per 10k residents on the same
    path. share: a binomial share of measure `of`, rate moving from `start` to `end`.
    fixed: the same `start` value in every region and period.
    """

    kind: Literal["flow", "stock", "share", "fixed"]
    start: float
    end: float | None = None
    of: str | None = None
    weekend: float = 1.0  # day grain: weekend level relative to weekdays
    shanqu_lag: float = 0.35  # share: mountain counties' gap to the asymptote is this much larger

    @model_validator(mode="after")
    def _check(self) -> DemoSpec:
        if self.kind == "share" and not self.of:
            raise ValueError("share needs 'of'")
        if self.kind == "share" and not (0 <= self.start <= 1 and 0 <= (self.end or 0) <= 1):
            raise ValueError("share rates must lie in [0, 1]")
        return self


class Measure(_Strict):
    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    grain: Grain
    aggregation: Aggregation
    level: Level
    source_zh: str
    source_en: str
    demo: DemoSpec

    @model_validator(mode="after")
    def _check(self) -> Measure:
        if self.aggregation == "mean_daily" and self.grain != "day":
            raise ValueError("mean_daily needs grain 'day'")
        return self


PLAN_DOC_ZH = "《浙江省数字化改革总体方案》"  # seed 002, where the catalogue's seed targets come from
PLAN_DOC_EN = "the provincial digital-reform plan"


class Target(_Strict):
    year: int = Field(ge=2020, le=2035)
    value: float
    source: Literal["seed", "assumed"]
    note_zh: str = ""
    note_en: str = ""
    # the document a seed target is quoted from (default: the provincial plan, seed 002)
    doc_zh: str = ""
    doc_en: str = ""

    def kind_label(self, lang: str = "zh") -> str:
        """规划目标 (named document) for a seed target, 工作目标（假设） for an assumed one."""
        if self.source == "seed":
            return f"规划目标·{self.doc_zh or PLAN_DOC_ZH}" if lang != "en" else f"plan target ({self.doc_en or PLAN_DOC_EN})"
        return "工作目标（假设）" if lang != "en" else "working target (assumed)"


class StatusRule(_Strict):
    """Red/amber/green on attainment (value vs target, direction-aware).

    attainment: green when attainment >= green, amber when >= amber, else red.
    gap: for rates, green when the gap to target is <= 0, amber when within `amber` (absolute,
    in the KPI's stored unit, e.g. 0.02 = 2 percentage points), else red.
    """

    method: Literal["attainment", "gap"] = "attainment"
    green: float = 1.0
    amber: float = 0.95


class Pacing(_Strict):
    """How a year-end target is spread over the year (序时进度) for counts, stocks and cumulative KPIs.

    linear: from the previous year-end value to the target, month/12 of the way by each month's end.
    profile: `profile` gives the cumulative share of the year's change due by the end of each month
    (12 non-decreasing values ending at 1), e.g. factories named in two batches a year.
    """

    method: Literal["linear", "profile"] = "linear"
    profile: list[float] | None = None
    note_zh: str = ""
    note_en: str = ""

    @model_validator(mode="after")
    def _check(self) -> Pacing:
        if self.method == "profile":
            p = self.profile or []
            if len(p) != 12 or any(b < a for a, b in zip(p, p[1:], strict=False)) or p[0] < 0 \
                    or abs(p[-1] - 1) > 1e-9:
                raise ValueError("a profile is 12 non-decreasing cumulative shares from >= 0 ending at 1")
        elif self.profile is not None:
            raise ValueError("only method 'profile' takes a profile")
        return self


class Kpi(_Strict):
    code: str
    system: str
    name_zh: str
    name_en: str
    # what people call it besides its name (日活, 一网通办, 整改率): the question parser of metrics.ask
    # reads them; each alias names one KPI only (checked on load), so a question never picks between two
    aliases_zh: list[str] = []
    aliases_en: list[str] = []
    kind: KpiKind
    measure: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    basis: Literal["item", "case"] | None = None
    unit_zh: str
    unit_en: str
    format: Fmt
    decimals: int = Field(default=1, ge=0, le=4)
    direction: Direction
    frequency: Literal["daily", "monthly"]
    owner_zh: str
    owner_en: str
    definition_zh: str
    definition_en: str
    targets: list[Target] = []
    status: StatusRule | None = None
    headline: int | None = None  # order on the leaders' overview, None = not a headline tile
    # below this a county's rate is flagged as small-sample (per month for flows). Unset on a rate
    # of cases with a status band: derived by `small_sample_floor`; stated only where that rule does
    # not fit (a mean of durations), with the reason beside it in the YAML.
    min_denominator: float | None = None
    # where the yearly targets apply: every region (rates), or the province only (counts such as
    # 3.0M daily actives). Unset: rates everywhere, everything else the province only.
    target_scope: Literal["all", "province"] | None = None
    # 序时进度: how a count's year-end target is spread over the year. Unset on a count with targets:
    # linear. Rates never: they keep their annual target all year.
    pacing: Pacing | None = None

    @model_validator(mode="after")
    def _check(self) -> Kpi:
        if self.kind == "ratio":
            if not (self.numerator and self.denominator) or self.measure:
                raise ValueError("a ratio needs numerator and denominator, and no measure")
        elif not self.measure or self.numerator or self.denominator:
            raise ValueError(f"a {self.kind} KPI needs measure, and no numerator/denominator")
        if self.pacing is not None and self.format == "percent":
            raise ValueError("a rate keeps its annual target all year: 'pacing' is for counts, stocks and cumulative KPIs")
        years = [t.year for t in self.targets]
        if len(years) != len(set(years)):
            raise ValueError("targets repeat a year")
        return self

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(m for m in (self.measure, self.numerator, self.denominator) if m)

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh

    def unit(self, lang: str = "zh") -> str:
        return self.unit_en if lang == "en" else self.unit_zh

    def definition(self, lang: str = "zh") -> str:
        return self.definition_en if lang == "en" else self.definition_zh

    @property
    def targets_everywhere(self) -> bool:
        return self.target_scope == "all" or (self.target_scope is None and self.format == "percent")

    @property
    def pacing_rule(self) -> Pacing | None:
        """The 序时 rule in force: the stated one; linear for a count or stock (a simple KPI) with targets;
        None for rates and averages (a ratio such as days per approval), which keep the annual target."""
        if self.format == "percent" or not self.targets:
            return None
        if self.pacing is not None:
            return self.pacing
        return Pacing() if self.kind == "simple" else None

    def target_for(self, year: int) -> tuple[float, Target, bool] | None:
        """The target in force for `year`: that year's, else the latest earlier one (carried)."""
        earlier = [t for t in self.targets if t.year <= year]
        if not earlier:
            return None
        t = max(earlier, key=lambda t: t.year)
        return t.value, t, t.year != year


def small_sample_floor(k: Kpi, rule: StatusRule, denominator_aggregation: str | None) -> float | None:
    """The fewest cases a month on which a county's rate is judged: one case must not move it by
    more than its amber band.

    With fewer, a single case decides green or red (a 2-point band on 30 cases: one case is 3.3
    points). The band is the gap rule's amber points, or the attainment rule's share of the latest
    target. Rates of cases only: a stock's denominator (apps rolled out, accounts activated) is a
    complete count, not a sample, and a KPI without a target has no band to protect.
    """
    if k.kind != "ratio" or k.format != "percent" or not k.targets or denominator_aggregation != "sum":
        return None
    target = max(k.targets, key=lambda t: t.year).value
    if rule.method == "gap":
        band = rule.amber
    else:
        band = target * (1 - rule.amber) if k.direction == "up" else target * (1 / rule.amber - 1)
    return float(math.ceil(1 / band - 1e-9)) if band > 0 else None


class Catalogue(_Strict):
    version: int
    default_status: StatusRule
    systems: list[System]
    measures: list[Measure]
    kpis: list[Kpi]

    @model_validator(mode="after")
    def _cross_check(self) -> Catalogue:
        for kind, items in (("system", self.systems), ("measure", self.measures), ("kpi", self.kpis)):
            codes = [i.code for i in items]
            dup = {c for c in codes if codes.count(c) > 1}
            if dup:
                raise ValueError(f"duplicate {kind} code(s): {sorted(dup)}")
        systems = {s.code for s in self.systems}
        measures = {m.code: m for m in self.measures}
        for k in self.kpis:
            if k.system not in systems:
                raise ValueError(f"kpi {k.code}: field 'system': unknown system {k.system!r}")
            for field in ("measure", "numerator", "denominator"):
                ref = getattr(k, field)
                if ref and ref not in measures:
                    raise ValueError(f"kpi {k.code}: field {field!r}: unknown measure {ref!r}")
            levels = {measures[m].level for m in k.measures}
            if len(levels) > 1:
                raise ValueError(f"kpi {k.code}: field 'numerator': measures reported at mixed levels {levels}")
        names = {k.name_zh: k.code for k in self.kpis} | {k.name_en.lower(): k.code for k in self.kpis}
        for k in self.kpis:
            for alias in [*k.aliases_zh, *(a.lower() for a in k.aliases_en)]:
                other = names.setdefault(alias, k.code)
                if other != k.code:
                    raise ValueError(f"kpi {k.code}: field 'aliases': {alias!r} already names kpi {other}")
        for m in self.measures:
            if m.demo.of and m.demo.of not in measures:
                raise ValueError(f"measure {m.code}: field 'demo.of': unknown measure {m.demo.of!r}")
        derived = [k if k.min_denominator is not None
                   else k.model_copy(update={"min_denominator": small_sample_floor(
                       k, k.status or self.default_status, measures[k.denominator].aggregation
                       if k.denominator else None)})
                   for k in self.kpis]
        object.__setattr__(self, "kpis", derived)  # frozen model: filled in once, while validating
        return self

    # -- look-ups -------------------------------------------------------------------------
    def kpi(self, code: str) -> Kpi:
        for k in self.kpis:
            if k.code == code:
                return k
        raise KeyError(code)

    def measure(self, code: str) -> Measure:
        for m in self.measures:
            if m.code == code:
                return m
        raise KeyError(code)

    def system(self, code: str) -> System:
        for s in self.systems:
            if s.code == code:
                return s
        raise KeyError(code)

    def kpis_of(self, system: str) -> list[Kpi]:
        return [k for k in self.kpis if k.system == system]

    def headline_kpis(self) -> list[Kpi]:
        return sorted((k for k in self.kpis if k.headline is not None), key=lambda k: k.headline or 0)

    def status_rule(self, kpi: Kpi) -> StatusRule:
        return kpi.status or self.default_status


def _entry_name(raw: dict, loc: tuple) -> str:
    """Turn a pydantic error location into 'kpi <code>, field <name>'."""
    if len(loc) >= 2 and loc[0] in ("kpis", "measures", "systems") and isinstance(loc[1], int):
        try:
            code = raw[loc[0]][loc[1]].get("code", f"#{loc[1]}")
        except (IndexError, AttributeError, KeyError):
            code = f"#{loc[1]}"
        field = ".".join(str(p) for p in loc[2:]) or "(entry)"
        return f"{loc[0][:-1]} {code}: field {field!r}"
    return "catalogue: field " + ".".join(str(p) for p in loc)


def parse_catalogue(raw: dict) -> Catalogue:
    """Validate a raw mapping; raise CatalogueError naming the entry and field."""
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            # model-level validators put their message on the entry itself
            lines.append(f"{_entry_name(raw, loc)}: {err['msg']}")
        raise CatalogueError("invalid KPI catalogue:\n  " + "\n  ".join(lines)) from None


def load_catalogue(path: Path | str = CATALOGUE_PATH) -> Catalogue:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return parse_catalogue(raw)


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The project's catalogue, loaded and validated once per process."""
    return load_catalogue()

