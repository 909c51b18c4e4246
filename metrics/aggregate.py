"""Measure aggregation: county-month rollups -> one value per (group, measure, period).

SQL does the heavy part (joining the rollup to group membership and summing per group, measure
and month); the small per-month frame is then folded over each period by the measure's rule:

- sum         flows: Σ over regions and months
- mean_daily  daily counts: Σ over regions and days ÷ number of days with data
- last        stocks: Σ over regions of the value at the group's last reported date
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from metrics.catalogue import Catalogue
from metrics.periods import Period
from store.schema import region_member, rollup_month
from store.store import county_month_select, current_observations, observations_known_at

MONTH_COLS = ["group_code", "measure_code", "month", "value_sum", "n_obs", "n_regions", "max_n_obs",
              "last_date", "last_sum"]


PAIR_NUM, PAIR_DEN = "#num", "#den"


def ratio_pairs(catalogue: Catalogue, kpis: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """(kpi, numerator, denominator) of the ratio KPIs (all, or those in `kpis`)."""
    wanted = None if kpis is None else set(kpis)
    return [(k.code, k.numerator, k.denominator) for k in catalogue.kpis
            if k.kind == "ratio" and (wanted is None or k.code in wanted)]


def real_measure(code: str, catalogue: Catalogue) -> str:
    """The stored measure behind a code: itself, or a ratio KPI's numerator/denominator."""
    if code.endswith(PAIR_NUM):
        return catalogue.kpi(code[: -len(PAIR_NUM)]).numerator
    if code.endswith(PAIR_DEN):
        return catalogue.kpi(code[: -len(PAIR_DEN)]).denominator
    return code


def paired_rows(rows: pd.DataFrame, pairs: Sequence[tuple[str, str, str]]) -> pd.DataFrame:
    """Numerator and denominator rows of each ratio KPI, kept only for region-months that have both.

    A ratio is Σnumerator ÷ Σdenominator over the same regions: a county whose monthly
    denominator is missing must not leave its daily numerator in the group's sum.
    """
    if not pairs or rows.empty:
        return rows.iloc[0:0]
    region_ids, _ = pd.factorize(rows["region_code"])
    month_ids, _ = pd.factorize(rows["month"])
    key = region_ids.astype(np.int64) * 100_000 + month_ids
    measure_ids, measures = pd.factorize(rows["measure_code"])
    order = np.argsort(measure_ids, kind="stable")
    bounds = np.cumsum(np.bincount(measure_ids, minlength=len(measures)))[:-1]
    positions = dict(zip(measures, np.split(order, bounds), strict=True))
    take, codes = [], []
    for kpi, num, den in pairs:
        if num not in positions or den not in positions:
            continue
        pn, pd_ = positions[num], positions[den]
        kn, kd = key[pn], key[pd_]
        take += [pn[np.isin(kn, kd)], pd_[np.isin(kd, kn)]]
        codes += [kpi + PAIR_NUM, kpi + PAIR_DEN]
    if not take:
        return rows.iloc[0:0]
    idx = np.concatenate(take)
    labels = np.repeat(np.array(codes, dtype=object), [len(t) for t in take])
    return rows.iloc[idx].assign(measure_code=labels).reset_index(drop=True)


def real_measures(codes: Iterable[str], catalogue: Catalogue) -> dict[str, str]:
    return {c: real_measure(c, catalogue) for c in set(codes)}


def _membership(on: dt.date, groups: Sequence[str] | None):
    m = region_member
    q = sa.select(m.c.group_code, m.c.member_code).where(
        m.c.valid_from <= on, sa.or_(m.c.valid_to.is_(None), m.c.valid_to >= on)
    )
    if groups is not None:
        q = q.where(m.c.group_code.in_(list(groups)))
    return q


def _source(known_at: dt.datetime | None):
    return current_observations() if known_at is None else observations_known_at(known_at)


def to_ns(values) -> pd.Series:
    """Dates from any backend as datetime64[ns] (vectorised group-bys need real datetimes)."""
    s = pd.Series(values)
    if len(s) and isinstance(s.iloc[0], str):
        return pd.to_datetime(s.str.slice(0, 10), format="%Y-%m-%d").astype("datetime64[ns]")
    return pd.to_datetime(s).astype("datetime64[ns]")


def region_month_rows(
    conn: Connection,
    months: Sequence[dt.date],
    measures: Sequence[str],
    known_at: dt.datetime | None = None,
    day: dt.date | None = None,
) -> pd.DataFrame:
    """Region-month aggregates: the materialised rollup, or computed for `known_at` / one `day`."""
    if known_at is None and day is None:
        r = rollup_month.c
        # dates as text: parsed once, vectorised, instead of per row by the driver layer
        q = sa.select(
            r.measure_code, sa.type_coerce(r.month, sa.String), r.region_code, r.value_sum, r.n_obs,
            sa.type_coerce(r.last_date, sa.String), r.last_value,
        ).where(rollup_month.c.month.in_(list(months)), rollup_month.c.measure_code.in_(list(measures)))
    else:
        src = _source(known_at)
        if day is not None:
            src = src.where(src.selected_columns.obs_date == day)
        sub = county_month_select(src, months, measures).subquery()
        q = sa.select(sub.c.measure_code, sub.c.month, sub.c.region_code, sub.c.value_sum, sub.c.n_obs,
                      sub.c.last_date, sub.c.last_value)
    cols = ["measure_code", "month", "region_code", "value_sum", "n_obs", "last_date", "last_value"]
    df = pd.DataFrame(_fetch(conn, q), columns=cols)
    df["month"], df["last_date"] = to_ns(df["month"]), to_ns(df["last_date"])
    df["value_sum"] = df["value_sum"].astype(float)
    df["last_value"] = df["last_value"].astype(float)
    df["n_obs"] = df["n_obs"].astype(int)
    return df


def _fetch(conn: Connection, q) -> list[tuple]:
    """Rows straight from the driver's cursor: these columns need no SQLAlchemy result processing
    (dates are selected as text and parsed vectorised), and skipping it halves the read time."""
    res = conn.execute(q)
    return [tuple(r) for r in res.cursor.fetchall()] if res.cursor is not None else []


def memberships(conn: Connection, on: dt.date, groups: Sequence[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(list(map(tuple, conn.execute(_membership(on, groups)).fetchall())), columns=["group_code", "member_code"])


def group_month_frame(
    conn: Connection,
    months: Iterable[dt.date],
    measures: Sequence[str],
    membership_date: dt.date,
    groups: Sequence[str] | None = None,
    known_at: dt.datetime | None = None,
    day: dt.date | None = None,
    members: pd.DataFrame | None = None,
    pairs: Sequence[tuple[str, str, str]] = (),
) -> pd.DataFrame:
    """Per (group, measure, month): sums, counts and the stock sum at the group's last date.

    `pairs` adds, per ratio KPI, '<kpi>#num' and '<kpi>#den' over the region-months that
    reported both.

    SQL selects the region-month rollup rows (an index range); the fold over group membership
    is a vectorised pandas group-by over at most a few hundred thousand rows.
    """
    months = sorted(set(months))
    if not measures or not months:
        return pd.DataFrame(columns=MONTH_COLS)
    rows = region_month_rows(conn, months, measures, known_at, day)
    if pairs:
        rows = pd.concat([rows, paired_rows(rows, pairs)], ignore_index=True)
    if members is None:
        members = memberships(conn, membership_date, groups)
    elif groups is not None:
        members = members[members["group_code"].isin(list(groups))]
    j = rows.merge(members, left_on="region_code", right_on="member_code")
    keys = ["group_code", "measure_code", "month"]
    ld = j.groupby(keys, sort=False)["last_date"].transform("max")
    j["at_last"] = np.where(j["last_date"] == ld, j["last_value"], 0.0)
    out = j.groupby(keys, sort=False).agg(
        value_sum=("value_sum", "sum"), n_obs=("n_obs", "sum"), n_regions=("region_code", "size"),
        max_n_obs=("n_obs", "max"), last_date=("last_date", "max"), last_sum=("at_last", "sum"),
    ).reset_index()
    return out[MONTH_COLS]


def distinct_days(
    conn: Connection,
    keys: pd.DataFrame,
    membership_date: dt.date,
    known_at: dt.datetime | None = None,
    catalogue: Catalogue | None = None,
) -> pd.DataFrame:
    """Days with any data per (group, measure, month), for the months no member covers fully.

    Rare (a month where no member reported every day), so it reads the day rows and counts in
    pandas; for a ratio's paired measures only the region-months that reported both count.
    """
    cols = ["group_code", "measure_code", "month", "days"]
    if keys.empty:
        return pd.DataFrame(columns=cols)
    codes = sorted(set(keys["measure_code"]))
    real = {c: (real_measure(c, catalogue) if catalogue else c) for c in codes}
    months = sorted({m.date() for m in keys["month"]})
    src = _source(known_at)
    src = src.where(src.selected_columns.month.in_(months))
    src = src.where(src.selected_columns.measure_code.in_(sorted(set(real.values()))))
    sub = src.subquery("s")
    q = sa.select(sub.c.region_code, sub.c.measure_code, sa.type_coerce(sub.c.month, sa.String),
                  sa.type_coerce(sub.c.obs_date, sa.String))
    raw = pd.DataFrame(list(map(tuple, conn.execute(q).fetchall())),
                       columns=["region_code", "measure_code", "month", "obs_date"])
    raw["month"] = to_ns(raw["month"])
    members = memberships(conn, membership_date, sorted(set(keys["group_code"])))
    out = []
    for code in codes:
        r = raw[raw["measure_code"] == real[code]]
        if code.endswith((PAIR_NUM, PAIR_DEN)) and catalogue is not None:
            kpi = catalogue.kpi(code.rsplit("#", 1)[0])
            other = kpi.denominator if code.endswith(PAIR_NUM) else kpi.numerator
            r = r.merge(_months_with(conn, other, months, known_at), on=["region_code", "month"])
        j = r.merge(members, left_on="region_code", right_on="member_code")
        cnt = j.groupby(["group_code", "month"])["obs_date"].nunique().rename("days").reset_index()
        out.append(cnt.assign(measure_code=code))
    df = pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)
    return df.merge(keys[["group_code", "measure_code", "month"]], on=["group_code", "measure_code", "month"])


def _months_with(conn: Connection, measure: str, months: list[dt.date], known_at: dt.datetime | None) -> pd.DataFrame:
    """Region-months that have any value of `measure`."""
    rows = region_month_rows(conn, months, [measure], known_at)
    return rows[["region_code", "month"]].drop_duplicates()


def fold_period(
    frame: pd.DataFrame,
    period: Period,
    catalogue: Catalogue,
    day_counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Fold the per-month frame over `period`: one row per (group, measure) with `value`.

    Columns: group_code, measure_code, value, n_obs, months_reported, min_regions, max_regions,
    last_date.
    """
    cols = ["group_code", "measure_code", "value", "n_obs", "months_reported", "min_regions", "max_regions",
            "last_date"]
    f = frame[frame["month"].isin(to_ns(period.months))]
    if f.empty:
        return pd.DataFrame(columns=cols)
    agg_kind = {m.code: m.aggregation for m in catalogue.measures}
    real = real_measures(f["measure_code"].unique(), catalogue)
    kind = f["measure_code"].map({c: agg_kind[r] for c, r in real.items()})

    # days with data per (group, measure, month), for mean_daily measures
    days_in_month = f["month"].dt.days_in_month
    full = 1 if period.grain == "day" else days_in_month
    days = pd.Series(full, index=f.index).where(f["max_n_obs"] >= full, other=pd.NA)
    if day_counts is not None and not day_counts.empty:
        lookup = day_counts.set_index(["group_code", "measure_code", "month"])["days"]
        idx = pd.MultiIndex.from_frame(f[["group_code", "measure_code", "month"]])
        filled = pd.Series(lookup.reindex(idx).to_numpy(), index=f.index)
        days = days.fillna(filled)
    f = f.assign(kind=kind, days=pd.to_numeric(days, errors="coerce"))

    g = f.groupby(["group_code", "measure_code"], sort=False)
    out = g.agg(
        value_sum=("value_sum", "sum"), n_obs=("n_obs", "sum"), months_reported=("month", "nunique"),
        min_regions=("n_regions", "min"), max_regions=("n_regions", "max"), last_date=("last_date", "max"),
        days=("days", "sum"), kind=("kind", "first"),
    ).reset_index()
    # stocks: the sum at the group's last reported date across the whole period
    last_rows = f.merge(out[["group_code", "measure_code", "last_date"]], on=["group_code", "measure_code",
                                                                              "last_date"])
    last_sum = last_rows.groupby(["group_code", "measure_code"])["last_sum"].sum()
    out = out.merge(last_sum.rename("stock").reset_index(), on=["group_code", "measure_code"], how="left")
    value = out["value_sum"].astype(float)
    value = value.where(out["kind"] != "mean_daily", out["value_sum"] / out["days"].where(out["days"] > 0))
    value = value.where(out["kind"] != "last", out["stock"])
    out["value"] = value.astype(float)
    return out[cols]


def needs_day_counts(frame: pd.DataFrame, catalogue: Catalogue, period_grain: str) -> pd.DataFrame:
    """(group, measure, month) keys of mean_daily measures whose month no member fully covers."""
    if frame.empty or period_grain == "day":
        return frame.iloc[0:0]
    daily = {m.code for m in catalogue.measures if m.aggregation == "mean_daily"}
    real = real_measures(frame["measure_code"].unique(), catalogue)
    f = frame[frame["measure_code"].map({c: r in daily for c, r in real.items()}).astype(bool)]
    return f[f["max_n_obs"] < f["month"].dt.days_in_month]
