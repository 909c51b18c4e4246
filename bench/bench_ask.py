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
from pathlib import Path

from bench import ask_corpus
from bench.timing import demo_database, timed
from metrics.ask import ask
from metrics.ask.parser import lexicon
from metrics.catalogue import catalogue
from metrics.geography import geography

DB = Path(os.environ.get("BENCH_RANK_DB", "/tmp/cockpit-bench-rank.sqlite"))
TODAY = dt.date(2026, 11, 23)  # the demo history runs to 2026-10
GOAL_MS = 50.0
ANSWER_QUESTIONS = [
    "上个月丽水哪些县一网通办率没达标？", "今年以来浙里办日活比去年同期增长多少？", "山区海岛25县掌上办理率排名后五是谁？",
    "柯城区的问题按期整改率最近半年怎么走的？", "哪些指标年底完不成？", "杭州和宁波的一网通办率对比",
    "柯城区一网通办率在全省排第几", "上个月哪些县逾期未报", "三季度全省掌上办理率",
]


def parse_accuracy() -> dict:
    build_s, _ = timed(lambda: lexicon(catalogue(), geography()))
    m = ask_corpus.score(ask_corpus.CORPUS)
    n, exact, clarified, wrong = m["n"], len(m["exact"]), len(m["clarify"]), len(m["wrong"])
    times = sorted(m["ms"])
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
    m = ask_corpus.score(ask_corpus.BLIND, province_default=True)
    n, exact, clarified, wrong = m["n"], len(m["exact"]), len(m["clarify"]), len(m["wrong"])
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
