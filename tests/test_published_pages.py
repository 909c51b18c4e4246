"""What the pages show of the published-figure rules: tiles name their target's kind, system tiles'
scores and colours agree, 序时 targets on count tiles (AppTest, the short demo database)."""

from __future__ import annotations

import re

from tests.app_helpers import html_text, run
from ui import fmt


def test_tiles_name_plan_or_working_targets_and_pace_counts(app_db, use_db):  # noqa: F811
    use_db(app_db)
    body = html_text(run())
    targets = re.findall(r'<div class="t-target">([^<·]*)', body)
    assert len(targets) == 10
    assert all(re.match(r"(规划目标|工作目标|序时目标|无目标值) ", x + " ") for x in targets), targets
    # the plan's targets lead: the first tiles are plan targets (rates) or a count's 序时目标
    assert all(not x.startswith("工作目标") for x in targets[:7]), targets
    assert any(x.startswith("工作目标") for x in targets[7:])
    assert "落后序时" in body or "超序时" in body or "持平序时" in body  # a count tile shows its 序时 position


def test_system_scores_and_colours_agree(app_db, use_db):  # noqa: F811
    use_db(app_db)
    body = html_text(run())
    tiles = re.findall(r'<div class="sys"[^>]*border-left-color:(#[0-9a-f]+)">.*?<div class="s-score"[^>]*>([^<]*)</div>'
                       r'\s*<div class="s-sub">([^<]*)</div>', body, re.S)
    assert len(tiles) == 8
    for colour, score, sub in tiles:
        assert "0/0" not in sub
        m = re.search(r"(\d+)/(\d+)", sub)
        if score == "100.0":
            assert colour == fmt.STATUS_COLOURS["green"] and m and m.group(1) == m.group(2), (score, sub)
        if m and m.group(1) != m.group(2):
            assert score != "100.0" and colour != fmt.STATUS_COLOURS["green"], (score, sub)
        if score == "—":
            assert "暂无设定目标" in sub or colour == fmt.STATUS_COLOURS["missing"]


def test_definitions_panel_says_how_a_target_is_applied(app_db, use_db):  # noqa: F811
    use_db(app_db)
    at = run("pages/system.py", system="economy", skpi="future_factories")
    text = " ".join(str(e.value) for e in at.get("html")) + " ".join(str(e.value) for e in at.get("markdown"))
    assert "序时考核" in text and "规划目标" in text
    at = run("pages/system.py", system="platform", skpi="share_satisfaction")
    text = " ".join(str(e.value) for e in at.get("html")) + " ".join(str(e.value) for e in at.get("markdown"))
    assert "不做序时分解" in text and "工作目标" in text
