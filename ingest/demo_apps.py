"""Deterministic demo registers of the 31 provincial major applications: register, rollout, usage.

Drawn *from* the demo observations so that the registers and the monthly KPIs tell one story:
- rollout (贯通): a county's apps go live in a county-specific order (earlier-launched apps tend to
  come first), and the number live at each month end equals that county's `major_apps_live`
  observation, so the rollout matrix gives exactly the KPI 省级重大应用贯通率;
- usage: each city's monthly totals of the app measures (authorised, active, really active users;
  ratings and satisfied ratings) are split across the apps with app-specific propensities, capped
  so that no app has more active users than authorised ones, and summing exactly to the city's
  totals — the app league table over all apps gives the KPIs 应用活跃率/实活率/满意率.

`load_demo_registers` also writes the 七张问题清单 demo (ingest.demo_problems). No number here is
real; every row is marked as demo.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ingest.demo_character import character
from ingest.demo_problems import generate_problems
from metrics.geography import Geography
from metrics.periods import month_end
from store import Store
from store.schema_apps import app_rollout, app_usage, major_app, problem, problem_event

# code, system, name_zh, name_en, owner_zh, owner_en (names from the seeds: 001, 004)
APPS: list[tuple[str, str, str, str, str, str]] = [
    ("qzwtqd", "party", "七张问题清单", "Seven problem lists", "省委办公厅", "General Office of the Provincial Party Committee"),
    ("gqljd", "party", "公权力大数据监督", "Big-data oversight of public power", "省纪委省监委",
     "Provincial Commission for Discipline Inspection and Supervision"),
    ("zlhgb", "party", "浙里好干部", "Good cadres in Zhejiang", "省委组织部", "Organisation Department of the Provincial Party Committee"),
    ("hsgmqj", "party", "红色根脉强基工程", "Red roots: strengthening the base", "省委组织部",
     "Organisation Department of the Provincial Party Committee"),
    ("yldzx", "party", "舆论引导在线", "Public opinion guidance online", "省委宣传部",
     "Publicity Department of the Provincial Party Committee"),
    ("rddblz", "party", "人大代表履职", "People's deputies' duties", "省人大常委会办公厅",
     "General Office of the Provincial People's Congress Standing Committee"),
    ("gjxssb", "government", "民生“关键小事”智能速办", "Key small matters of livelihood, fast", "省政府办公厅",
     "General Office of the Provincial Government"),
    ("jsjfzd", "government", "减税降费直达快享", "Tax and fee cuts delivered directly", "省税务局", "Provincial Tax Service"),
    ("zlbp", "government", "浙里办票", "Zhejiang e-invoices", "省财政厅", "Provincial Department of Finance"),
    ("fxftzx", "government", "防汛防台在线", "Flood and typhoon control online", "省水利厅",
     "Provincial Department of Water Resources"),
    ("zlwfcs", "government", "浙里无废城市", "Zero-waste cities", "省生态环境厅", "Provincial Department of Ecology and Environment"),
    ("ypaqhxz", "government", "药品安全智慧监管“黑匣子”", "Drug safety 'black box' supervision", "省药监局",
     "Provincial Medical Products Administration"),
    ("csdxyh", "government", "城市地下隐患智防", "Urban underground hazard prevention", "省建设厅",
     "Provincial Department of Housing and Urban-Rural Development"),
    ("gpzx", "economy", "公平在线", "Fair competition online", "省市场监管局", "Provincial Administration for Market Regulation"),
    ("wmzx", "economy", "外卖在线", "Food delivery online", "省市场监管局", "Provincial Administration for Market Regulation"),
    ("yxtzeb", "economy", "有效投资e本账", "Effective investment e-ledger", "省发展改革委",
     "Provincial Development and Reform Commission"),
    ("gdzb", "economy", "耕地智保", "Smart farmland protection", "省自然资源厅", "Provincial Department of Natural Resources"),
    ("zyhr", "society", "浙医互认", "Mutual recognition of medical tests", "省卫生健康委", "Provincial Health Commission"),
    ("axzx", "society", "安薪在线", "Wages paid safely online", "省人力社保厅",
     "Provincial Department of Human Resources and Social Security"),
    ("khtgfw", "society", "课后托管服务", "After-school care", "省教育厅", "Provincial Department of Education"),
    ("zysy", "society", "浙有善育", "Good childcare in Zhejiang", "省卫生健康委", "Provincial Health Commission"),
    ("zlky", "society", "浙里康养", "Elderly care in Zhejiang", "省民政厅", "Provincial Department of Civil Affairs"),
    ("qmydzx", "culture", "全民阅读在线", "Reading for all online", "省委宣传部",
     "Publicity Department of the Provincial Party Committee"),
    ("pzwhzd", "culture", "品质文化智达惠享", "Quality culture for all", "省文化和旅游厅",
     "Provincial Department of Culture and Tourism"),
    ("hszyzx", "culture", "红色资源在线", "Red heritage online", "省文化和旅游厅", "Provincial Department of Culture and Tourism"),
    ("fdz", "rule_of_law", "反电诈", "Anti telecom fraud", "省公安厅", "Provincial Public Security Department"),
    ("zya", "rule_of_law", "浙运安", "Safe hazardous-goods transport", "省交通运输厅", "Provincial Department of Transport"),
    ("dzhzf", "rule_of_law", "“大综合一体化”执法监管", "Integrated law enforcement and supervision", "省司法厅",
     "Provincial Department of Justice"),
    ("hszhzz", "rule_of_law", "海上综合智治", "Integrated maritime governance", "省自然资源厅",
     "Provincial Department of Natural Resources"),
    ("mhww", "grassroots", "民呼我为", "People call, we act", "省信访局", "Provincial Letters and Visits Bureau"),
    ("zjexzx", "grassroots", "浙江e行在线", "Zhejiang e-travel online", "省公安厅", "Provincial Public Security Department"),
]
# apps that apply only where their subject exists (the 贯通 denominator is the apps that apply to the county)
COASTAL_ONLY = {"hszhzz"}  # 海上综合智治: counties with a sea coastline
NOT_IN_URBAN_CORE = {"gdzb"}  # 耕地智保: central urban districts have no farmland to protect
FIRST_LAUNCH = dt.date(2020, 6, 1)  # the demo's first KPI month (2021-01) already has ~30% of apps live
LAST_LAUNCH = dt.date(2021, 1, 20)
USAGE_MEASURES = {  # app_usage column -> the catalogue measure it splits
    "users_authorised": "app_users_authorised",
    "users_active": "app_users_active",
    "users_real_active": "app_users_real_active",
    "ratings": "app_ratings",
    "ratings_satisfied": "app_ratings_satisfied",
}


@dataclass
class AppsDemo:
    apps: pd.DataFrame  # the major_app rows
    rollout: pd.DataFrame  # the app_rollout rows
    usage: pd.DataFrame  # the app_usage rows


def applicable(counties: list[str]) -> dict[str, list[str]]:
    """The major apps required of each county (seed 004: 31 provincial major apps, less those whose
    subject the county lacks, from data/regions/county_character.csv; unknown counties need all)."""
    try:
        ch = character()
    except FileNotFoundError:
        ch = pd.DataFrame()
    out = {}
    for c in counties:
        row = ch.loc[c] if c in ch.index else None
        codes = [a[0] for a in APPS]
        if row is not None and not int(row["coastal"]):
            codes = [a for a in codes if a not in COASTAL_ONLY]
        if row is not None and row["kind"] == "urban_core":
            codes = [a for a in codes if a not in NOT_IN_URBAN_CORE]
        out[c] = codes
    return out


def register(rng: np.random.Generator) -> pd.DataFrame:
    """The 31 apps with launch dates spread before the first demo month."""
    span = (LAST_LAUNCH - FIRST_LAUNCH).days
    offsets = np.sort(rng.integers(0, span, size=len(APPS)))
    order = rng.permutation(len(APPS))  # which app launched when
    rows = []
    for i, (code, system, zh, en, ozh, oen) in enumerate(APPS):
        rows.append(dict(code=code, name_zh=zh, name_en=en, system_code=system, owner_zh=ozh, owner_en=oen,
                         launch_date=FIRST_LAUNCH + dt.timedelta(days=int(offsets[order[i]])),
                         rollout_required=True, is_demo=True))
    return pd.DataFrame(rows)


def _series(obs: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Current values of one monthly county measure as a county x month frame."""
    cur = obs[(obs["measure_code"] == measure) & obs.get("is_current", True)]
    wide = cur.pivot_table(index="region_code", columns="obs_date", values="value", aggfunc="last")
    wide.columns = [pd.Timestamp(c).date() for c in wide.columns]
    return wide.sort_index(axis=1)


def rollout(apps: pd.DataFrame, obs: pd.DataFrame, geo: Geography, rng: np.random.Generator) -> pd.DataFrame:
    """Live dates per (app, county) matching the county's monthly `major_apps_live` exactly."""
    live = _series(obs, "major_apps_live").reindex(geo.counties)
    months = list(live.columns)
    launch = pd.to_datetime(apps["launch_date"]).dt.date.tolist()
    launch_rank = np.argsort(np.argsort(apps["launch_date"].to_numpy()))
    rows = []
    code_pos = {c: i for i, c in enumerate(apps["code"])}
    need = applicable(list(live.index))
    for county, values in live.iterrows():
        mine = np.array([code_pos[c] for c in need[county] if c in code_pos])  # only the apps that apply here
        n = len(mine)
        counts = values.ffill().fillna(0).clip(0, n).astype(int).to_numpy()
        counts = np.maximum.accumulate(counts)
        order = mine[np.argsort(launch_rank[mine] / len(apps) + rng.normal(0, 0.35, size=n))]  # earlier first
        live_date: dict[int, dt.date] = {}
        prev = 0
        for mi, m in enumerate(months):
            for pos in range(prev, counts[mi]):
                a = int(order[pos])
                lo = max(launch[a], m) if mi else launch[a]
                hi = month_end(m)
                lo = min(lo, hi)
                live_date[a] = lo + dt.timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))
            prev = counts[mi]
        last = months[-1] if months else dt.date.today().replace(day=1)
        for pos, a in enumerate(order):
            a = int(a)
            if a in live_date:
                started = max(launch[a], live_date[a] - dt.timedelta(days=int(rng.integers(20, 120))))
                rows.append((apps["code"].iat[a], county, started, live_date[a]))
            elif pos < prev + 3:  # the next few are being worked on
                started = max(launch[a], month_end(last) - dt.timedelta(days=int(rng.integers(10, 150))))
                rows.append((apps["code"].iat[a], county, min(started, month_end(last)), None))
            else:
                rows.append((apps["code"].iat[a], county, None, None))
    return pd.DataFrame(rows, columns=["app_code", "region_code", "started_date", "live_date"])


def allocate(total: np.ndarray, weights: np.ndarray, caps: np.ndarray | None = None) -> np.ndarray:
    """Integer split of `total` (shape S) over the last axis of `weights` (S x A), proportional to
    the weights, each part at most its cap; the parts sum exactly to the total (caps permitting)."""
    total = np.asarray(total, dtype=float)
    w = np.asarray(weights, dtype=float).clip(min=0)
    cap = np.full(w.shape, np.inf) if caps is None else np.asarray(caps, dtype=float)
    if caps is not None:
        total = np.minimum(total, cap.sum(axis=-1))
    alloc = np.zeros(w.shape)
    fixed = np.zeros(w.shape, dtype=bool)
    for _ in range(w.shape[-1] + 1):  # water-filling: fill capped parts, spread the rest
        free = ~fixed & (w > 0)
        rem = total - np.where(fixed, alloc, 0).sum(axis=-1)
        wsum = (w * free).sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(free, rem[..., None] * w / np.where(wsum > 0, wsum, 1), 0)
        over = free & (share >= cap)
        alloc = np.where(fixed, alloc, np.where(over, cap, share))
        if not over.any():
            break
        fixed |= over
    base = np.floor(alloc + 1e-9)
    short = np.rint(total - base.sum(axis=-1)).astype(int)  # units still to hand out
    frac = np.where(base < cap, alloc - base, -1.0)
    rank = np.argsort(np.argsort(-frac, axis=-1, kind="stable"), axis=-1)
    base += (rank < short[..., None]) & (frac >= 0)
    return base.astype(np.int64)


def usage(apps: pd.DataFrame, obs: pd.DataFrame, geo: Geography, rng: np.random.Generator) -> pd.DataFrame:
    """Per (app, city, month) usage, summing exactly to each city's monthly app measures."""
    n = len(apps)
    popularity = rng.lognormal(0, 0.8, size=n)
    activity = rng.lognormal(0, 0.35, size=n)
    real = rng.lognormal(0, 0.45, size=n)
    satisfaction = 1 / (1 + np.exp(-(2.2 + rng.normal(0, 0.45, size=n))))  # an app's typical satisfied share
    city_of = {c: geo.city_of(c) for c in geo.counties}
    cur = obs[obs["measure_code"].isin(USAGE_MEASURES.values()) & obs.get("is_current", True)]
    cur = cur.assign(city=cur["region_code"].map(city_of), obs_date=pd.to_datetime(cur["obs_date"]).dt.date)
    # a city-month counts only counties that reported all five measures (as the engine's ratio pairs do)
    full = cur.groupby(["region_code", "obs_date"])["measure_code"].transform("nunique") == len(USAGE_MEASURES)
    tot = cur[full].pivot_table(index=["city", "obs_date"], columns="measure_code", values="value", aggfunc="sum")
    tot = tot.reindex(columns=list(USAGE_MEASURES.values())).fillna(0)
    s = len(tot)
    if s == 0:
        return pd.DataFrame(columns=["app_code", "region_code", "month", *USAGE_MEASURES])
    noise = rng.lognormal(0, 0.05, size=(s, n))
    auth = allocate(tot["app_users_authorised"].to_numpy(), popularity[None, :] * noise)
    act = allocate(tot["app_users_active"].to_numpy(), auth * activity[None, :], caps=auth)
    rea = allocate(tot["app_users_real_active"].to_numpy(), auth * real[None, :], caps=auth)
    rat = allocate(tot["app_ratings"].to_numpy(), (act + 1) * noise)
    sat = allocate(tot["app_ratings_satisfied"].to_numpy(), rat * satisfaction[None, :], caps=rat)
    idx = tot.index.to_frame(index=False)
    return pd.DataFrame({
        "app_code": np.tile(apps["code"].to_numpy(), s),
        "region_code": np.repeat(idx["city"].to_numpy(), n),
        "month": np.repeat(idx["obs_date"].to_numpy(), n),
        "users_authorised": auth.reshape(-1), "users_active": act.reshape(-1),
        "users_real_active": rea.reshape(-1), "ratings": rat.reshape(-1), "ratings_satisfied": sat.reshape(-1),
    })


def generate_apps(obs: pd.DataFrame, geo: Geography, seed: int = 2021) -> AppsDemo:
    rng = np.random.default_rng(seed + 404)
    apps = register(rng)
    return AppsDemo(apps, rollout(apps, obs, geo, rng), usage(apps, obs, geo, rng))


def _records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict("records") if len(df) else []


def write_registers(store: Store, apps: AppsDemo, problems: pd.DataFrame, events: pd.DataFrame) -> None:
    """Replace the registers' content in one transaction."""
    with store.engine.begin() as conn:
        for t in (problem_event, problem, app_usage, app_rollout, major_app):
            conn.execute(t.delete())
        for table, df in ((major_app, apps.apps), (app_rollout, apps.rollout), (app_usage, apps.usage),
                          (problem, problems), (problem_event, events)):
            recs = _records(df)
            for i in range(0, len(recs), 5000):
                conn.execute(table.insert(), recs[i : i + 5000])
        if store.dialect == "postgresql":
            for name in ("problem", "problem_event"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
                )


def load_demo_registers(store: Store, obs: pd.DataFrame, geo: Geography, seed: int = 2021,
                        problems: pd.DataFrame | None = None, events: pd.DataFrame | None = None) -> dict[str, int]:
    """Generate and write the app and problem registers for a demo database built from `obs`. `problems`
    and `events` are the register the demo's problem KPIs were counted from (ingest.demo.generate);
    without them the register is drawn again for the span of `obs`."""
    apps = generate_apps(obs, geo, seed)
    if problems is None or events is None:
        last = pd.to_datetime(obs["obs_date"]).max().date() if len(obs) else dt.date.today()
        problems, events = generate_problems(geo, seed, month_end(last.replace(day=1)))
    write_registers(store, apps, problems, events)
    return {"apps": len(apps.apps), "rollout": len(apps.rollout), "usage": len(apps.usage),
            "problems": len(problems), "problem_events": len(events)}


def count_rows(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0)
                for t in (major_app, app_rollout, app_usage, problem, problem_event)}
