"""Provincial major applications: the register, the app league table and the rollout matrix.

Seed 001: apps are judged by 应用活跃率 (active ÷ authorised users), 实活率 (really active ÷
authorised) and 满意率 (satisfied ÷ ratings). Each rate is Σnumerator ÷ Σdenominator over the
regions and months asked about, with the catalogue's aggregation rules: user counts are stocks
(the value at the last month of the period, summed across regions), ratings are flows (summed
over months and regions) — never a mean of rates. Seed 004: 31 provincial major apps must be
rolled out (贯通) to every county; the rollout matrix says which app is live where at a date and
ranks counties by their rollout rate. No Streamlit.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa

from metrics.formats import publish
from metrics.geography import PROVINCE, Geography
from metrics.periods import Period
from metrics.ranks import competition_rank, rank_published
from store.schema_apps import app_rollout, app_usage, major_app

STOCKS = ("users_authorised", "users_active", "users_real_active")  # last value in the period
FLOWS = ("ratings", "ratings_satisfied")  # summed over the period
# rate -> (numerator, denominator); the catalogue KPIs with the same definition at region level
RATES: dict[str, tuple[str, str]] = {
    "activity_rate": ("users_active", "users_authorised"),
    "real_activity_rate": ("users_real_active", "users_authorised"),
    "satisfaction_rate": ("ratings_satisfied", "ratings"),
}
RATE_KPIS = {"activity_rate": "app_activity_rate", "real_activity_rate": "app_real_activity_rate",
             "satisfaction_rate": "app_satisfaction"}
RATE_DECIMALS = 1  # every rate here is shown (and so ranked) at one decimal of a percent: 93.1%
ROLLOUT_STATES = ("live", "in_progress", "not_started", "not_applicable")


# -- reading -----------------------------------------------------------------------------------
def _frame(conn: sa.Connection, query: sa.Select, table: sa.Table) -> pd.DataFrame:
    rows = conn.execute(query).mappings().all()
    return pd.DataFrame(rows, columns=[c.name for c in table.columns])


def _dates(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    for c in cols:
        df[c] = pd.to_datetime(df[c]).dt.date
        df[c] = df[c].where(df[c].notna(), None)
    return df


def load_register(engine: sa.Engine) -> pd.DataFrame:
    """The major apps, in launch order."""
    with engine.connect() as conn:
        df = _frame(conn, sa.select(major_app).order_by(major_app.c.launch_date, major_app.c.code), major_app)
    return _dates(df, ("launch_date",))


def load_rollout(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        df = _frame(conn, sa.select(app_rollout), app_rollout)
    return _dates(df, ("started_date", "live_date"))


def load_usage(engine: sa.Engine, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Usage rows of the months from `start` to `end` (first days of months)."""
    q = sa.select(app_usage).where(app_usage.c.month >= start.replace(day=1), app_usage.c.month <= end)
    with engine.connect() as conn:
        df = _frame(conn, q, app_usage)
    return _dates(df, ("month",))


# -- league table ------------------------------------------------------------------------------
def period_usage(usage: pd.DataFrame, period: Period, regions: list[str] | None = None) -> pd.DataFrame:
    """Per (app, region) for the period: stocks at the last month with data, flows summed."""
    u = usage[(usage["month"] >= period.start.replace(day=1)) & (usage["month"] <= period.end)]
    if regions is not None:
        u = u[u["region_code"].isin(regions)]
    if u.empty:
        return pd.DataFrame(columns=["app_code", "region_code", *STOCKS, *FLOWS])
    u = u.sort_values("month")
    g = u.groupby(["app_code", "region_code"])
    return pd.concat([g[list(STOCKS)].last(), g[list(FLOWS)].sum()], axis=1).reset_index()


def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """Σnumerator ÷ Σdenominator for each rate (NaN on a zero denominator)."""
    out = df.copy()
    for rate, (num, den) in RATES.items():
        d = out[den].astype(float)
        out[rate] = (out[num].astype(float) / d.where(d > 0)).astype(float)
    return out


def league_table(usage: pd.DataFrame, register: pd.DataFrame, period: Period,
                 regions: list[str] | None = None) -> pd.DataFrame:
    """One row per app over `regions` (None: all): the three rates, a rank on each (1 = best, on the
    rate as shown), and the overall rank on the mean of the three ranks (ties broken by activity rate)."""
    per = period_usage(usage, period, regions)
    tot = per.groupby("app_code")[list(STOCKS + FLOWS)].sum()
    reg = register.set_index("code")
    tot = tot.reindex(reg.index, fill_value=0)
    out = add_rates(tot.reset_index().rename(columns={"index": "app_code", "code": "app_code"}))
    out = out.merge(reg[["name_zh", "name_en", "system_code", "owner_zh", "owner_en", "launch_date"]],
                    left_on="app_code", right_index=True)
    for rate in RATES:
        out[f"rank_{rate}"] = rank_published(out[rate], "percent", RATE_DECIMALS)
    mean_rank = out[[f"rank_{r}" for r in RATES]].mean(axis=1, skipna=False)
    shown_activity = publish(out["activity_rate"], "percent", RATE_DECIMALS)
    key = mean_rank - shown_activity.fillna(0) * 1e-6  # the tie-break, on the activity rate as shown
    out["rank"] = competition_rank(key, up=False)
    out["rank_of"] = float(key.notna().sum())
    return out.sort_values(["rank", "app_code"], na_position="last").reset_index(drop=True)


def league_totals(table: pd.DataFrame) -> dict[str, float]:
    """All apps together: Σ of each count and the rates Σnum ÷ Σden (what the region's KPIs show)."""
    sums = {c: float(table[c].sum()) for c in STOCKS + FLOWS}
    for rate, (num, den) in RATES.items():
        sums[rate] = sums[num] / sums[den] if sums[den] > 0 else float("nan")
    return sums


# -- rollout -----------------------------------------------------------------------------------
def rollout_state(rollout: pd.DataFrame, on: dt.date) -> pd.Series:
    """live / in_progress / not_started of each rollout row on date `on`."""
    live = rollout["live_date"].map(lambda d: d is not None and not pd.isna(d) and d <= on)
    started = rollout["started_date"].map(lambda d: d is not None and not pd.isna(d) and d <= on)
    return pd.Series(np.where(live, "live", np.where(started, "in_progress", "not_started")), index=rollout.index)


def rollout_matrix(rollout: pd.DataFrame, register: pd.DataFrame, on: dt.date,
                   counties: list[str]) -> pd.DataFrame:
    """Counties × required apps: each cell the app's state in the county on `on`. An app applies to a
    county when the register has a rollout row for the pair (海上综合智治 has none in a landlocked
    county): other cells are not_applicable and stay out of the county's denominator. A county with no
    rows at all (a register written before applicability) needs every app."""
    required = register[register["rollout_required"].astype(bool)]["code"].tolist()
    r = rollout[rollout["app_code"].isin(required) & rollout["region_code"].isin(counties)]
    r = r.assign(state=rollout_state(r, on))
    m = r.pivot(index="region_code", columns="app_code", values="state")
    m = m.reindex(index=counties, columns=required)
    known = m.notna().any(axis=1)
    return m.where(~known.to_numpy()[:, None] | m.notna(), "not_applicable").fillna("not_started")


def rollout_summary(matrix: pd.DataFrame, geo: Geography) -> pd.DataFrame:
    """Per county: apps live, in progress, required (the apps that apply to it), rollout rate, rank among
    the counties shown (competition ranking, best first); then each city's and the province's Σlive ÷ Σrequired."""
    county = pd.DataFrame({
        "region": matrix.index,
        "live": (matrix == "live").sum(axis=1).to_numpy(),
        "in_progress": (matrix == "in_progress").sum(axis=1).to_numpy(),
        "required": (matrix != "not_applicable").sum(axis=1).to_numpy(),
    })
    county["level"] = "county"
    county["city"] = county["region"].map(geo.city_of)
    city = county.groupby("city")[["live", "in_progress", "required"]].sum().reset_index()
    city = city.assign(region=city["city"], level="city")
    prov = county[["live", "in_progress", "required"]].sum().to_frame().T.assign(region=PROVINCE, level="province",
                                                                                    city=None)
    out = pd.concat([prov, city, county], ignore_index=True)
    for c in ("live", "in_progress", "required"):
        out[c] = out[c].astype(int)
    out["rate"] = out["live"] / out["required"].where(out["required"] > 0)
    is_c = out["level"] == "county"
    out["rank"] = np.nan
    out.loc[is_c, "rank"] = rank_published(out.loc[is_c, "rate"], "percent", RATE_DECIMALS)
    out["rank_of"] = float(is_c.sum())
    return out
