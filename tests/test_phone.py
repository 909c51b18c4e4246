"""The phone layout without a browser: which user agents get it, the phone overview and the KPI detail
page under AppTest (both languages, a city scope, a county region), and that the phone shows the
desktop's figures. The layout rules (no sideways scroll, two tiles a row, 44 px targets) are checked in
a browser: tests/test_browser_phone.py.
"""

from __future__ import annotations

import re

import pytest

from tests.app_helpers import html_text, run
from ui.shell import phone_ua

PHONES = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) DingTalk(7.6.0) Chrome/126.0",
    "Mozilla/5.0 (Linux; Android 12; V2055A) AppleWebKit/537.36 (KHTML, like Gecko) TaurusApp/2.1 Chrome/99.0",
]
DESKTOPS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 "
    "Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "",
    None,
]


@pytest.mark.parametrize("agent", PHONES)
def test_phone_user_agents_get_the_phone_layout(agent):
    assert phone_ua(agent)


@pytest.mark.parametrize("agent", DESKTOPS)
def test_desktops_and_tablets_keep_the_desktop_layout(agent):
    assert not phone_ua(agent)


def _phone_tiles(body: str) -> dict[str, str]:
    """kpi code -> the value shown on its phone tile."""
    return dict(re.findall(r'data-kpi="([^"]+)" href="kpi\?[^"]*"[^>]*>.*?<span class="ph-value">([^<]*)</span>', body,
                           re.S))


def test_phone_overview_shows_the_desktop_figures(app_db, use_db):
    use_db(app_db)
    desktop = html_text(run())
    body = html_text(run(view="phone"))
    tiles = _phone_tiles(body)
    assert len(tiles) == 10
    for kpi, value in tiles.items():  # the desktop tile of the same KPI shows the same value
        assert re.search(rf'data-kpi="{kpi}".*?<div class="t-value">{re.escape(value)}</div>', desktop, re.S), kpi
    assert body.count('class="sys"') == 8 and 'class="ph-sys"' in body
    assert 'class="ph-chip">2022-03<' in body and 'class="ph-chip">全省<' in body
    assert "view=phone" in body  # links keep the layout chosen by hand
    assert "view=desktop" in body  # and offer to leave it


def test_phone_overview_english_and_city(app_db, use_db):
    use_db(app_db)
    at = run(view="phone", lang="en", scope="330600")
    body = html_text(at)
    assert "Shaoxing" in body and "Systems" in body and "Map · Shaoxing" in body
    assert "各系统" not in body
    assert len(_phone_tiles(body)) == 10


@pytest.mark.parametrize("params", [
    {},
    {"kpi": "online_handling_rate"},
    {"kpi": "online_handling_rate", "region": "330102"},
    {"kpi": "online_handling_rate", "region": "330600", "lang": "en"},
    {"kpi": "online_handling_rate", "region": "not-a-region"},
    {"kpi": "zlb_dau", "view": "phone"},
])
def test_kpi_detail_page(app_db, use_db, params):
    use_db(app_db)
    at = run("pages/kpi.py", **params)
    body = html_text(at)
    assert 'class="ph-big"' in body and 'class="ph-def"' in body
    assert len(at.get("plotly_chart")) == 1  # the trend with its target
    back = [e.proto for e in at.get("page_link")]
    assert any(lk.label in ("返回总览", "Back to overview") for lk in back)
    if params.get("region") == "330102":
        assert 'class="ph-chip">上城区<' in body
        assert any("上城区" in lk.label for lk in back)  # the county's profile
    if params.get("region") == "not-a-region":
        assert 'class="ph-chip">全省<' in body
