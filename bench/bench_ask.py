"""Benchmark of 问数: parse accuracy on the question corpus and time per question.

Parse: every question of tests/ask_corpus.yaml read with the corpus's context; reports exact
matches, clarifications instead of a query, wrong queries (must be 0) and the time per question
(goal: at most 50 ms; the lexicon is built once per process and timed apart). Answer: a handful of
questions of every intent on the province-scale demo database (shared with bench_rankings), timed
cold (fresh engine) and warm — the same work as the page the answer links to.

    python -m bench ask            # BENCH_ASK_ANSWERS=0 skips the answers (no demo database needed)
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from pathlib import Path

import yaml

from bench.timing import demo_database, timed
from metrics.ask import Clarification, Query, ask, parse
from metrics.ask.parser import lexicon
from metrics.catalogue import catalogue
from metrics.geography import geography
from metrics.periods import Period

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "ask_corpus.yaml"
# written without reading the parser; "expect: clarify" or a Query dict, the province being the default place
BLIND = Path(__file__).resolve().parent.parent / "tests" / "ask_blind_corpus.yaml"
DB = Path(os.environ.get("BENCH_RANK_DB", "/tmp/cockpit-bench-rank.sqlite"))
TODAY = dt.date(2026, 11, 23)  # the demo history runs to 2026-10
GOAL_MS = 50.0
ANSWER_QUESTIONS = [
    "上个月丽水哪些县一网通办率没达标？", "今年以来浙里办日活比去年同期增长多少？", "山区海岛25县掌上办理率排名后五是谁？",
    "柯城区的问题按期整改率最近半年怎么走的？", "哪些指标年底完不成？", "杭州和宁波的一网通办率对比",
    "柯城区一网通办率在全省排第几", "上个月哪些县逾期未报", "三季度全省掌上办理率",
]


def parse_accuracy() -> dict:
    raw = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    c = raw["context"]
    ctx = {"today": dt.date.fromisoformat(str(c["today"])), "latest": Period.parse(str(c["latest"])),
           "newest": Period.parse(str(c["newest"])), "first": dt.date.fromisoformat(f"{c['first']}-01")}
    build_s, _ = timed(lambda: lexicon(catalogue(), geography()))
    exact = clarified = wrong = 0
    times = []
    for item in raw["questions"]:
        t = time.perf_counter()
        got = parse(item["q"], **ctx)
        times.append((time.perf_counter() - t) * 1000)
        if "expect" in item:
            ok = isinstance(got, Query) and got.as_dict() == item["expect"]
        else:
            ok = isinstance(got, Clarification) and got.reason == item["clarify"]
        exact += ok
        clarified += (not ok) and isinstance(got, Clarification)
        wrong += (not ok) and not isinstance(got, Clarification)
    n = len(raw["questions"])
    times.sort()
    out = {"questions": n, "exact": exact, "accuracy": exact / n, "clarified_instead": clarified, "wrong": wrong,
           "parse_median_ms": statistics.median(times), "parse_p95_ms": times[int(0.95 * (n - 1))],
           "parse_max_ms": times[-1], "lexicon_build_s": build_s}
    print(f"corpus: {n} questions, exact {exact} ({exact / n:.1%}), clarification instead {clarified}, "
          f"wrong query {wrong}")
    print(f"parse: median {out['parse_median_ms']:.2f} ms, p95 {out['parse_p95_ms']:.2f} ms, max "
          f"{out['parse_max_ms']:.2f} ms per question (goal <= {GOAL_MS:.0f} ms); lexicon built once in "
          f"{build_s:.2f} s")
    return out


def blind_accuracy() -> dict:
    """The blind corpus: exact, clarification instead, wrong (a query other than the one meant)."""
    raw = yaml.safe_load(BLIND.read_text(encoding="utf-8"))
    c = raw["context"]
    ctx = {"today": dt.date.fromisoformat(str(c["today"])), "latest": Period.parse(str(c["latest"])),
           "newest": Period.parse(str(c["newest"])), "first": dt.date.fromisoformat(f"{c['first']}-01")}

    def norm(d: dict) -> dict:
        out = dict(d)
        regions = [r for r in out.pop("regions", []) if r != "330000"]
        return {**out, "regions": regions} if regions else out

    exact = clarified = wrong = 0
    for item in raw["questions"]:
        got, want = parse(item["q"], **ctx), item["expect"]
        if want == "clarify":
            ok = isinstance(got, Clarification)
        else:
            ok = isinstance(got, Query) and norm(got.as_dict()) == norm(want)
        exact += ok
        clarified += (not ok) and isinstance(got, Clarification)
        wrong += (not ok) and not isinstance(got, Clarification)
    n = len(raw["questions"])
    print(f"blind corpus: {n} questions, exact {exact} ({exact / n:.1%}), clarification instead {clarified} "
          f"({clarified / n:.1%}), wrong query {wrong}")
    return {"questions": n, "exact": exact, "accuracy": exact / n, "clarified_instead": clarified, "wrong": wrong}


def answer_times() -> dict:
    from metrics.engine import MetricsEngine
    from store import Store

    store = Store(demo_database(DB, TODAY))
    out = {}
    for q in ANSWER_QUESTIONS:
        eng = MetricsEngine(store, today=TODAY)
        cold, a = timed(lambda eng=eng, q=q: ask(q, eng))
        warm, _ = timed(lambda eng=eng, q=q: ask(q, eng), repeat=3)
        out[q] = {"cold_s": cold, "warm_s": warm, "kind": a.kind}
        print(f"  {cold:6.2f} s cold, {warm:6.3f} s warm  [{a.kind}] {q}")
    return out


def run() -> dict:
    res = parse_accuracy()
    res["blind"] = blind_accuracy()
    if os.environ.get("BENCH_ASK_ANSWERS", "1") != "0":
        print("answers on the province-scale demo (cold = fresh engine, warm = cached figures):")
        res["answers"] = answer_times()
    return res


if __name__ == "__main__":
    run()
