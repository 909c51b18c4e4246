"""Run the benchmarks named on the command line (default: all that exist)."""

from __future__ import annotations

import importlib
import sys

BENCHES = ["bench_metrics", "bench_overview", "bench_map", "bench_rankings", "bench_import", "bench_pack",
           "bench_forecast", "bench_township", "bench_pages", "bench_ask", "bench_cold", "bench_api",
           "bench_phone"]


def main(argv: list[str]) -> int:
    if argv[:1] == ["load"]:  # the production-layout load test takes its own options (bench/load_test.py)
        from bench import load_test

        return load_test.main(argv[1:])
    if argv[:1] == ["cold"]:  # the cold first visit through the production layout (bench/bench_cold.py)
        from bench import bench_cold

        return bench_cold.main(argv[1:])
    if argv[:1] == ["pages"]:  # the page-cost benchmark's options (bench/bench_pages.py)
        from bench import bench_pages

        return bench_pages.main(argv[1:])
    if argv[:1] == ["phone"]:  # the phone-against-desktop benchmark's options (bench/bench_phone.py)
        from bench import bench_phone

        return bench_phone.main(argv[1:])
    if argv[:1] == ["first_figure"]:  # wall-clock time to the first figure (bench/bench_first_figure.py)
        from bench import bench_first_figure

        return bench_first_figure.main(argv[1:])
    names = [a if a.startswith("bench_") else f"bench_{a}" for a in argv] or BENCHES
    for name in names:
        try:
            mod = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                print(f"(no benchmark {name})")
                continue
            raise
        print(f"\n=== {name} ===", flush=True)
        (getattr(mod, "main", None) or mod.run)()  # main() prints a summary where a module has one
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
