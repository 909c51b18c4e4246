"""七张问题清单: problem status at a date, on-time closure, overdue counts and the 问题管控力指数.

The register (store/schema_apps.py `problem`, `problem_event`) holds one row per problem; every
figure here is computed from its dates as of a given day, so a past period shows what was known
then. Counts add up across regions; rates are Σnumerator ÷ Σdenominator at every level (a city's
rate is never the mean of its counties'); the index of a city or the province is computed from
its aggregated components. Weights and the look-back window live in definitions/problems.yaml.
No Streamlit.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from metrics.geography import PROVINCE, Geography
from metrics.periods import add_months
from metrics.ranks import rank_published
from store.schema_apps import problem, problem_event

CONFIG_PATH = Path(__file__).parent / "definitions" / "problems.yaml"
Component = Literal["ontime_rate", "close_rate", "not_overdue_share", "self_found_share"]
# the component -> (numerator column, denominator column) of the per-region frame
COMPONENT_PARTS: dict[str, tuple[str, str]] = {
    "ontime_rate": ("closed_ontime", "due_in_window"),
    "close_rate": ("closed", "found"),
    "not_overdue_share": ("open_in_time", "open"),
    "self_found_share": ("self_found_in_window", "found_in_window"),
}
INDEX_DECIMALS = 1  # the index is shown (and so ranked) at one decimal: 87.3
COUNT_COLUMNS = ["found", "closed", "open", "overdue", "open_in_time", "due_in_window", "closed_ontime",
                 "found_in_window", "self_found_in_window"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Named(_Strict):
    code: str
    name_zh: str
    name_en: str

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh


class IndexComponent(_Strict):
    code: Component
    weight: float = Field(ge=0)
    name_zh: str
    name_en: str
    definition_zh: str = ""
    definition_en: str = ""

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh


class IndexSpec(_Strict):
    name_zh: str
    name_en: str
    scale: float = 100.0
    components: list[IndexComponent]

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh

    @model_validator(mode="after")
    def _check(self) -> IndexSpec:
        codes = [c.code for c in self.components]
        if len(codes) != len(set(codes)):
            raise ValueError("index components repeat a code")
        if not self.components or sum(c.weight for c in self.components) <= 0:
            raise ValueError("index needs at least one component with a positive weight")
        return self


class ProblemConfig(_Strict):
    version: int
    sources: list[Named]
    statuses: list[Named]
    window_months: int = Field(default=12, ge=1, le=120)
    index: IndexSpec

    def source(self, code: str) -> Named:
        return next(s for s in self.sources if s.code == code)

    def status(self, code: str) -> Named:
        return next(s for s in self.statuses if s.code == code)


class ProblemConfigError(ValueError):
    """problems.yaml is invalid; the message names the field."""


def parse_config(raw: dict) -> ProblemConfig:
    try:
        return ProblemConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors()]
        raise ProblemConfigError("invalid problems.yaml:\n  " + "\n  ".join(lines)) from None


def load_config(path: Path | str = CONFIG_PATH) -> ProblemConfig:
    with open(path, encoding="utf-8") as fh:
        return parse_config(yaml.safe_load(fh))


@lru_cache(maxsize=1)
def config() -> ProblemConfig:
    """The project's problem-list configuration, loaded and validated once per process."""
    return load_config()


# -- status -----------------------------------------------------------------------------------
def status_at(found: dt.date, deadline: dt.date, closed: dt.date | None, on: dt.date) -> str:
    """closed when closed by `on`; overdue when still open past the deadline; else open."""
    if closed is not None and closed <= on:
        return "closed"
    return "overdue" if deadline < on else "open"


def as_of(problems: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    """The problems found by `on`, with their status and days overdue as they stood that day.

    Date columns stay datetime64 (NaT for 'not closed by then') so comparisons are vectorised.
    """
    day = pd.Timestamp(on)
    found = pd.to_datetime(problems["found_date"])
    df = problems[found <= day].copy()
    df["found_date"] = pd.to_datetime(df["found_date"])
    df["deadline"] = pd.to_datetime(df["deadline"])
    closed = pd.to_datetime(df["closed_date"])
    df["closed_date"] = closed.where(closed <= day)
    is_closed = df["closed_date"].notna()
    df["status_then"] = np.where(is_closed, "closed", np.where(df["deadline"] < day, "overdue", "open"))
    late_open = (day - df["deadline"]).dt.days
    late_closed = (df["closed_date"] - df["deadline"]).dt.days
    df["days_overdue"] = np.where(df["status_then"] == "overdue", late_open,
                                  np.where(is_closed, late_closed.clip(lower=0), 0)).astype(int)
    return df


def county_counts(problems: pd.DataFrame, on: dt.date, window_months: int, counties: list[str],
                  due_from: dt.date | None = None) -> pd.DataFrame:
    """Counts per county as of `on` (all counties listed, zeros where none). On-time closure counts
    the problems due from `due_from` to `on` — the period asked about, so the figure equals the KPI
    问题按期整改率 of that period — or, without it, over the look-back window."""
    df = as_of(problems, on)
    day = pd.Timestamp(on)
    start = pd.Timestamp(add_months(on.replace(day=1), -(window_months - 1)))
    due_start = pd.Timestamp(due_from) if due_from is not None else start
    due_in_window = (df["deadline"] >= due_start) & (df["deadline"] <= day)
    ontime = df["closed_date"].notna() & (df["closed_date"] <= df["deadline"])
    found_window = df["found_date"] >= start
    parts = pd.DataFrame({
        "region": df["region_code"],
        "found": 1,
        "closed": (df["status_then"] == "closed").astype(int),
        "open": (df["status_then"] != "closed").astype(int),
        "overdue": (df["status_then"] == "overdue").astype(int),
        "open_in_time": (df["status_then"] == "open").astype(int),
        "due_in_window": due_in_window.astype(int),
        "closed_ontime": (due_in_window & ontime).astype(int),
        "found_in_window": found_window.astype(int),
        "self_found_in_window": (found_window & df["self_found"].astype(bool)).astype(int),
    })
    out = parts.groupby("region")[COUNT_COLUMNS].sum().reindex(counties, fill_value=0)
    out.index.name = "region"
    return out.reset_index()


def with_rates(counts: pd.DataFrame, cfg: ProblemConfig) -> pd.DataFrame:
    """Add each component's share (Σnum ÷ Σden; NaN on a zero denominator, except 100% 'not
    overdue' when nothing is open) and the weighted index (none for a region without problems)."""
    out = counts.copy()
    for comp, (num, den) in COMPONENT_PARTS.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            share = out[num] / out[den].where(out[den] > 0)
        if comp == "not_overdue_share":
            share = share.where(out[den] > 0, 1.0)
        out[comp] = share.astype(float)
    weights = {c.code: c.weight for c in cfg.index.components}
    num = sum(out[c].fillna(0) * w for c, w in weights.items())
    den = sum(out[c].notna() * w for c, w in weights.items())
    out["index"] = (cfg.index.scale * num / den.where(den > 0)).astype(float)
    out.loc[out["found"] == 0, "index"] = np.nan  # nothing on the lists yet: no basis to score or rank
    return out


def region_table(problems: pd.DataFrame, on: dt.date, geo: Geography, cfg: ProblemConfig | None = None,
                 counties: list[str] | None = None, due_from: dt.date | None = None) -> pd.DataFrame:
    """Every county, city and the province: counts, rates, index; counties and cities ranked by the index
    as shown (metrics.ranks: two counties showing 87.3 share a rank).
    With `due_from` (the period's first day) the on-time rate is the period's, as the KPI tile shows it."""
    cfg = cfg or config()
    cc = county_counts(problems, on, cfg.window_months, counties or geo.counties, due_from)
    cc["level"] = "county"
    cc["city"] = cc["region"].map(geo.city_of)
    cities = cc.groupby("city")[COUNT_COLUMNS].sum().reset_index().rename(columns={"city": "region"})
    cities["level"], cities["city"] = "city", cities["region"]
    prov = cc[COUNT_COLUMNS].sum().to_frame().T.assign(region=PROVINCE, level="province", city=None)
    out = with_rates(pd.concat([prov, cities, cc], ignore_index=True), cfg)
    for col in COUNT_COLUMNS:
        out[col] = out[col].astype(int)
    out["rank"], out["rank_of"] = np.nan, np.nan
    for level in ("county", "city"):  # counties among the counties, cities among the cities
        at = out["level"] == level
        out.loc[at, "rank"] = rank_published(out.loc[at, "index"], "decimal", INDEX_DECIMALS)
        out.loc[at, "rank_of"] = float(out.loc[at, "index"].notna().sum())
    return out


# -- reading the register -----------------------------------------------------------------------
def load_problems(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(sa.select(problem).order_by(problem.c.id)).mappings().all())
    if df.empty:
        return pd.DataFrame(columns=[c.name for c in problem.columns])
    for c in ("found_date", "deadline", "closed_date"):
        df[c] = pd.to_datetime(df[c]).dt.date
        df[c] = df[c].where(df[c].notna(), None)
    df["self_found"] = df["self_found"].astype(bool)
    return df


def load_events(engine: sa.Engine, problem_id: int) -> pd.DataFrame:
    """A problem's history, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(problem_event).where(problem_event.c.problem_id == problem_id)
            .order_by(problem_event.c.event_date, problem_event.c.id)
        ).mappings().all()
    df = pd.DataFrame(rows, columns=[c.name for c in problem_event.columns])
    if not df.empty:
        df["event_date"] = pd.to_datetime(df["event_date"]).dt.date
    return df


def filter_problems(df: pd.DataFrame, sources: list[str] | None = None, statuses: list[str] | None = None,
                    regions: list[str] | None = None, overdue_only: bool = False, text: str = "") -> pd.DataFrame:
    """The list's filters (on an `as_of` frame): source, status then, regions, overdue, title text."""
    m = pd.Series(True, index=df.index)
    if sources:
        m &= df["source"].isin(sources)
    if statuses:
        m &= df["status_then"].isin(statuses)
    if regions is not None:
        m &= df["region_code"].isin(regions)
    if overdue_only:
        m &= df["status_then"] == "overdue"
    if text:
        m &= df["title_zh"].str.contains(text, regex=False) | df["title_en"].str.contains(text, case=False, regex=False)
    return df[m]


# -- scope (auth.policy: a scoped user reads only the problems of their regions) ------------------------
def in_scope(problems: pd.DataFrame, allowed: frozenset[str] | None) -> pd.DataFrame:
    """The register's rows whose region is in `allowed` (None: the province, every row)."""
    if allowed is None:
        return problems
    return problems[problems["region_code"].isin(allowed)]


def find_problem(problems: pd.DataFrame, code: str | None, allowed: frozenset[str] | None) -> pd.Series | None:
    """The problem with `code` (None when there is none); PermissionError when its region is outside
    `allowed` — a problem code is guessable, so the lookup must not run on the unscoped register."""
    if not code:
        return None
    hit = problems[problems["code"] == code]
    if hit.empty:
        return None
    p = hit.iloc[0]
    if allowed is not None and p["region_code"] not in allowed:
        raise PermissionError(f"problem {code} ({p['region_code']}) is outside the scope")
    return p


def load_scoped_events(engine: sa.Engine, problem_id: int, allowed: frozenset[str] | None) -> pd.DataFrame:
    """A problem's history when its region is in `allowed` (PermissionError otherwise)."""
    if allowed is not None:
        with engine.connect() as conn:
            region = conn.execute(sa.select(problem.c.region_code).where(problem.c.id == problem_id)).scalar()
        if region is None or region not in allowed:
            raise PermissionError(f"problem {problem_id} is outside the scope")
    return load_events(engine, problem_id)
