"""Bring a database to a usable state: schema at head, reference data, demo data if empty."""

from __future__ import annotations

import datetime as dt
import time

from ingest.demo import generate
from ingest.demo_apps import load_demo_registers
from metrics.catalogue import Catalogue
from metrics.catalogue import catalogue as default_catalogue
from metrics.geography import Geography, geography
from store import Store


def create_demo_database(
    url: str | None = None,
    seed: int = 2021,
    today: dt.date | None = None,
    catalogue: Catalogue | None = None,
    geo: Geography | None = None,
    now: dt.datetime | None = None,
) -> dict[str, float | int | str]:
    """(Re)create the demo content of the database at `url`; returns timings and counts."""
    cat, geo = catalogue or default_catalogue(), geo or geography()
    store = Store(url)
    t0 = time.perf_counter()
    store.migrate()
    store.sync_reference(geo)
    t1 = time.perf_counter()
    data = generate(cat, geo, seed=seed, today=today, now=now)
    t2 = time.perf_counter()
    # apps and problem lists, before the version bump; the problem register is the one the KPIs were counted from
    load_demo_registers(store, data.observations, geo, seed, data.problems, data.problem_events)
    store.replace_all(
        data.batches,
        data.observations,
        {
            "is_demo": "1",
            "demo_seed": str(seed),
            "demo_generated_at": dt.datetime.now().replace(microsecond=0).isoformat(),
            "demo_overdue": ",".join(data.overdue),
        },
    )
    from auth.accounts import ensure_demo_accounts  # demo sign-in for each role

    ensure_demo_accounts(store)
    t3 = time.perf_counter()
    return {
        "dialect": store.dialect,
        "observations": len(data.observations),
        "batches": len(data.batches),
        "migrate_s": round(t1 - t0, 3),
        "generate_s": round(t2 - t1, 3),
        "load_s": round(t3 - t2, 3),
        "total_s": round(t3 - t0, 3),
        "last_month": f"{data.observations['obs_date'].max():%Y-%m}",
        "overdue": ",".join(data.overdue),
    }


def seed_demo_extras(store: Store, today: dt.date | None = None) -> list[int]:
    """What a demo has beyond the figures, for `./cockpit run`'s first start and `python -m metrics demo`
    alike: the demo sign-in accounts and the 批示督办 items (only into a demo without items yet)."""
    if not store.is_demo():
        return []
    from auth.accounts import ensure_demo_accounts
    from followup import demo as followup_demo

    ensure_demo_accounts(store)
    return followup_demo.seed(store, today)


def ensure_database(url: str | None = None, seed: int = 2021) -> Store:
    """Migrate; on an empty database create the demo data (the app's first start)."""
    store = Store(url)
    store.migrate()
    if store.data_version() == 0:
        create_demo_database(url, seed=seed)
    return store
