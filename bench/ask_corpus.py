"""The 问数 question corpora and how a parse is scored against them, for the tests and the bench alike:
one rule for what "exact", "clarification instead" and "wrong" mean.

tests/ask_corpus.yaml gives each question either `expect` (the Query as a dict) or `clarify` (the reason
the parser must ask back with). tests/ask_blind_corpus.yaml, written without reading the parser, gives
`expect`: a Query dict or the word "clarify" (any clarification), the province being the default place.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import yaml

from metrics.ask import Clarification, Query, parse
from metrics.geography import PROVINCE
from metrics.periods import Period

TESTS = Path(__file__).resolve().parent.parent / "tests"
CORPUS = TESTS / "ask_corpus.yaml"
BLIND = TESTS / "ask_blind_corpus.yaml"


def load(path: Path) -> tuple[dict, list[dict]]:
    """The parse context a corpus was written for (today, latest, newest, first) and its questions."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    c = raw["context"]
    ctx = {"today": dt.date.fromisoformat(str(c["today"])), "latest": Period.parse(str(c["latest"])),
           "newest": Period.parse(str(c["newest"])), "first": dt.date.fromisoformat(f"{c['first']}-01")}
    return ctx, raw["questions"]


def _province_default(d: dict) -> dict:
    """The province is the default place: regions ["330000"] and no regions mean the same."""
    out = dict(d)
    regions = [r for r in out.pop("regions", []) if r != PROVINCE]
    if regions:
        out["regions"] = regions
    return out


def verdict(item: dict, got: Query | Clarification, province_default: bool = False) -> str:
    """"exact", "clarify" (a clarification where a query or another reason was meant) or "wrong" (a
    query other than the one meant: a figure nobody asked for would be answered)."""
    if "clarify" in item:
        ok = isinstance(got, Clarification) and got.reason == item["clarify"]
    elif item["expect"] == "clarify":
        ok = isinstance(got, Clarification)
    else:
        norm = _province_default if province_default else (lambda d: d)
        ok = isinstance(got, Query) and norm(got.as_dict()) == norm(item["expect"])
    if ok:
        return "exact"
    return "clarify" if isinstance(got, Clarification) else "wrong"


def score(path: Path, province_default: bool = False) -> dict:
    """Every question of the corpus parsed and judged: n, the (question, expected, got) triples per
    verdict, and the milliseconds each parse took."""
    ctx, questions = load(path)
    out: dict = {"n": len(questions), "exact": [], "clarify": [], "wrong": [], "ms": []}
    for item in questions:
        t = time.perf_counter()
        got = parse(item["q"], **ctx)
        out["ms"].append((time.perf_counter() - t) * 1000)
        want = item.get("expect", item.get("clarify"))
        shown = got.reason if isinstance(got, Clarification) else got.as_dict() if isinstance(got, Query) else got
        out[verdict(item, got, province_default)].append((item["q"], want, shown))
    return out
