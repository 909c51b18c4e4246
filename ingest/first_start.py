"""First start of the app: migrate the database and, when it is empty, fill it with demo data."""

from __future__ import annotations

import time

from ingest.bootstrap import ensure_database
from store.db import database_url


def main() -> None:
    url = database_url()
    shown = url.split("@")[-1] if "@" in url else url
    t0 = time.perf_counter()
    store = ensure_database(url)
    counts = store.counts()
    demo = " (演示数据 / demo data)" if store.is_demo() else ""
    print(f"» database {shown}: {counts['observation']:,} observations{demo}, ready in {time.perf_counter() - t0:.1f} s")
    from auth import accounts, check  # issue #9: demo sign-in shown, production refused

    if store.is_demo():
        demo_users = accounts.ensure_demo_accounts(store)
        print("» demo sign-in: " + ", ".join(f"{n} / {pw}" for n, pw, _, _ in demo_users))
    for problem in check.problems(store, url):
        raise SystemExit(f"refusing to start: {problem}")


if __name__ == "__main__":
    main()
