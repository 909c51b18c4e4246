"""One rank rule (metrics.ranks): ties on the figure as shown, direction, who takes part — and every
module that ranks (engine, league tables, schemes, apps, problems) goes through it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics import apps, evaluate, league, problems
from metrics.periods import Period
from metrics.ranks import competition_rank, rank_key, rank_published, ranked_count

ROOT = Path(__file__).resolve().parent.parent
NOISY = [0.1 + 0.2, 0.3, 0.2]  # 0.30000000000000004 and 0.3 are the same figure on screen


@pytest.mark.parametrize(("values", "up", "expected"), [
    (NOISY, True, [1, 1, 3]),
    (NOISY[::-1], True, [3, 1, 1]),
    (NOISY, False, [2, 2, 1]),
    (NOISY[::-1], False, [1, 2, 2]),
])
def test_float_noise_ties_in_both_orders_and_directions(values, up, expected):
    assert competition_rank(pd.Series(values), up).tolist() == expected


def test_every_module_gives_the_tie_example_the_same_ranks():
    # the engine's (rank_within), the league table's (standings) and the rule itself agree
    df = pd.DataFrame({"kpi": "k", "value": NOISY, "direction": "up", "format": "decimal", "decimals": 1,
                       "rankable": True})
    r, n = evaluate.rank_within(df, pd.Series(True, index=df.index))
    assert r.tolist() == [1, 1, 3] and n.tolist() == [3, 3, 3]
    rows = df.assign(region=["a", "b", "c"], level="county", complete=True, small_sample=False, pending=False, denominator=np.nan)
    assert league.standings(rows, up=True)["rank"].tolist() == [1, 1, 3]
    assert evaluate.competition_rank is league.competition_rank is competition_rank


def test_who_takes_part_and_groups():
    v = pd.Series([0.5, 0.7, np.nan, 0.7, 0.9])
    among = pd.Series([True, True, True, True, False])  # the last is a small sample: not ranked here
    assert competition_rank(v, among=among).tolist()[:2] == [3, 1]
    assert pd.isna(competition_rank(v, among=among)).tolist() == [False, False, True, False, True]
    assert ranked_count(v, among=among).tolist()[:2] == [3, 3] and pd.isna(ranked_count(v, among=among)[4])
    by = pd.Series(["x", "x", "y", "y", "y"])
    r = competition_rank(v, by=by)
    assert r[[0, 1, 3, 4]].tolist() == [2, 1, 2, 1] and pd.isna(r[2])
    assert ranked_count(v, by=by)[[0, 1, 3, 4]].tolist() == [2, 2, 2, 2]
    # direction per row (rows of several KPIs)
    assert rank_key(pd.Series([0.5, 0.5]), pd.Series([True, False])).tolist() == [-0.5, 0.5]


def test_ranked_on_the_figure_as_shown():
    # 93.004% and 92.996% both show 93.0%: one rank, not first and second
    assert rank_published(pd.Series([0.93004, 0.92996, 0.95]), "percent", 1).tolist() == [2, 2, 1]
    assert rank_published(pd.Series([87.34, 87.26, 90.0]), "decimal", 1).tolist() == [2, 2, 1]


def _register(codes: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"code": codes, "name_zh": codes, "name_en": codes, "system_code": "gov", "owner_zh": "",
                         "owner_en": "", "launch_date": dt.date(2020, 1, 1), "rollout_required": True})


def test_apps_that_show_the_same_rates_share_their_ranks():
    """Two apps showing 93.0% activity were ranked first and second on the hidden third decimal."""
    month = dt.date(2023, 1, 1)
    usage = pd.DataFrame({
        "app_code": ["A", "B"], "region_code": "330102", "month": month,
        "users_authorised": [100_000, 100_000], "users_active": [93_004, 92_996],
        "users_real_active": [50_000, 50_000], "ratings": [1_000, 1_000], "ratings_satisfied": [900, 900],
    })
    table = apps.league_table(usage, _register(["A", "B"]), Period.parse("2023-01"))
    assert table["rank_activity_rate"].tolist() == [1, 1]
    assert table["rank"].tolist() == [1, 1]


def test_counties_with_the_same_problem_index_on_screen_share_a_rank():
    # the index is shown at one decimal: 87.34 and 87.26 are both 87.3
    out = pd.DataFrame({"level": "county", "index": [87.34, 87.26, 90.0]})
    ranks = rank_published(out["index"], "decimal", problems.INDEX_DECIMALS)
    assert ranks.tolist() == [2, 2, 1]


def test_no_module_ranks_by_itself():
    """`.rank(` appears only in metrics/ranks.py: a new table cannot bring its own tie rule."""
    offenders = []
    for path in sorted((ROOT / "metrics").glob("*.py")):
        if path.name == "ranks.py":
            continue
        if re.search(r"\.rank\(", path.read_text(encoding="utf-8")):
            offenders.append(path.name)
    assert offenders == []
