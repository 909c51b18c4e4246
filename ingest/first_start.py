"""First start of the app: migrate the database and, when it is empty, fill it with demo data."""

from __future__ import annotations

import argparse
import os
import time

from ingest.bootstrap import ensure_database
from store.db import database_url


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--townships", action="store_true", default=os.environ.get("COCKPIT_DEMO_TOWNSHIPS") == "1",
                    help="add the ~1,360 township breakdown of the grassroots KPIs to the demo (slower first start)")
    args = ap.parse_args(argv)
    url = database_url()
    shown = url.split("@")[-1] if "@" in url else url
    t0 = time.perf_counter()
    store = ensure_database(url)
    if args.townships and store.is_demo():
        from ingest.demo_townships import add_townships, has_townships

        if not has_townships(store):
            stats = add_townships(store)
            print(f"» township demo (演示数据): {stats['townships']:,} townships, {stats['rows']:,} observations")
    counts = store.counts()
    demo = " (演示数据 / demo data)" if store.is_demo() else ""
    print(f"» database {shown}: {counts['observation']:,} observations{demo}, ready in {time.perf_counter() - t0:.1f} s")
    from auth import accounts, check  # demo sign-in shown, production refused

    if store.is_demo():
        demo_users = accounts.ensure_demo_accounts(store)
        print("» demo sign-in: " + ", ".join(f"{n} / {pw}" for n, pw, _, _ in demo_users))
        from ingest.bootstrap import seed_demo_extras  # the same extras as `python -m ingest demo`

        if items := seed_demo_extras(store):
            print(f"» demo instructions (批示督办): {len(items)} items")
    for problem in check.problems(store, url):
        raise SystemExit(f"refusing to start: {problem}")


if __name__ == "__main__":
    main()
