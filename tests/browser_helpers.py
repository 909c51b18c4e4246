"""Helpers of the browser tests (headless Chromium driven by Playwright): waiting for a page to
settle, signing in through the form, checking that no request leaves the app and no exception
shows. The fixtures built on them (app_url, browser, page) are in conftest.py.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest

from bench.app_server import CHROMIUM

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
ADMIN_PATHS = ("/jobs", "/admin")  # pages only an administrator sees
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'


def require_chromium() -> None:
    from tests.conftest import REQUIRE_SERVERS

    if not os.path.exists(CHROMIUM):
        msg = f"{CHROMIUM} not found (apt-get install chromium fonts-noto-cjk)"
        if REQUIRE_SERVERS:
            pytest.fail(msg + " — browser tests are mandatory in CI", pytrace=False)
        pytest.skip(msg)


QUIET_MS = 300  # how long the app must stay settled: a rerun the browser itself asks for (a URL sync,
# the first st.navigation of a fresh session) starts within this after the previous run ended
SETTLED_JS = """(quietMs) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const settled = app && app.dataset.testScriptState === 'notRunning'
        && app.dataset.testConnectionState === 'CONNECTED'
        && !document.querySelector('[data-testid="stSkeleton"], [data-stale="true"]')
        && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'));
    const now = performance.now();
    if (!settled) { window.cockpitSettledSince = null; return false; }
    if (window.cockpitSettledSince == null) window.cockpitSettledSince = now;
    return now - window.cockpitSettledSince >= quietMs;
}"""


def wait_finished(page, timeout: float = 60_000) -> None:
    """Until the app is settled and stays so for QUIET_MS: script finished, connected, no skeleton and no
    stale element left, every Plotly chart drawn (checked on every animation frame)."""
    page.wait_for_selector(SETTLED, timeout=timeout)
    page.evaluate("() => { window.cockpitSettledSince = null; }")  # count from now, not an earlier wait
    page.wait_for_function(SETTLED_JS, arg=QUIET_MS, timeout=timeout, polling="raf")


def next_frame(pg) -> None:
    """Until the browser has painted the next frame (after a scroll, before a screenshot)."""
    pg.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r())))")


def recording_page(ctx):
    """A new page of the browser context `ctx` that keeps the URL of every request it makes in
    `pg.requests` (for assert_only_local: nothing may leave the host)."""
    pg = ctx.new_page()
    pg.requests = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    return pg


def sign_in(pg, user: str) -> None:
    """Sign in through the form with a demo account (the page must show the sign-in gate)."""
    from auth.accounts import DEMO_ACCOUNTS

    password = next(a[1] for a in DEMO_ACCOUNTS if a[0] == user)
    form = pg.locator('[data-testid="stForm"]')
    form.locator('input[type="text"]').first.fill(user)
    form.locator('input[type="password"]').fill(password)
    form.locator('input[type="password"]').press("Enter")  # submits the form
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stForm\"] input[type=password]')",
                         timeout=30_000)
    wait_finished(pg)
    pg.cockpit_user = user


def at_gate(pg) -> bool:
    form = pg.locator('[data-testid="stForm"]')
    return bool(form.count() and form.locator('input[type="password"]').count())


def assert_only_local(urls: list[str]) -> None:
    foreign = [u for u in urls if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in LOCAL_HOSTS]
    assert not foreign, f"requests left the app: {foreign[:10]}"


def assert_no_exception(page) -> None:
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()


# --- themes and the accessibility audit (shared by the a11y, wall and phone tests) ---

THEMES = ("dark", "light")
# the app's background in each theme (ui/theme.py PALETTES): proof the theme asked for is the one drawn
THEME_BACKGROUND = {"dark": "rgb(11, 20, 38)", "light": "rgb(248, 250, 252)"}
APP_BACKGROUND_JS = "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"


def themed_context(browser, app_url: str, theme: str, **options):
    """A browser context that prefers `theme` and carries it as the reader's remembered choice, so every
    page (sign-in included) opens in it without the reload that a change of theme costs."""
    ctx = browser.new_context(color_scheme=theme, **options)
    ctx.add_cookies([{"name": "cockpit_theme", "value": theme, "url": app_url}])
    return ctx


def assert_theme(pg, theme: str) -> None:
    pg.wait_for_function(f"() => ({APP_BACKGROUND_JS})() === {THEME_BACKGROUND[theme]!r}", timeout=30_000)


AXE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                   ".cache", "axe", "node_modules", "axe-core", "axe.min.js")
AXE_BLOCKING = ("critical", "serious")
# Streamlit's own sidebar navigation puts each section in a <div> inside its <ul> (its markup, not the
# app's; nothing in a page can change it): those list/listitem findings are left out, nothing else is
AXE_UPSTREAM = {"list": '[data-testid="stSidebarNavItems"]', "listitem": '[data-testid="stSidebarNavItems"]'}
RUN_AXE = """async (upstream) => {
    const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                                       resultTypes: ['violations'], elementRef: true});
    return r.violations.map(v => ({...v, nodes: v.nodes.filter(n => !(upstream[v.id] && n.element
                                                                       && n.element.closest(upstream[v.id])))}))
        .filter(v => v.nodes.length)
        .map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: '
                                                   + (n.failureSummary || '').slice(-200))}));
}"""


def require_axe() -> None:
    """axe-core is a test-time tool that `./cockpit test` installs with npm: mandatory under CI."""
    from tests.conftest import REQUIRE_SERVERS

    if not os.path.exists(AXE):
        msg = f"{AXE} not found (./cockpit test installs axe-core with npm)"
        if REQUIRE_SERVERS or os.environ.get("CI") == "true":
            pytest.fail(msg + " — the accessibility audit is mandatory in CI", pytrace=False)
        pytest.skip(msg)


def axe_violations(pg) -> list[dict]:
    """axe-core's critical and serious WCAG 2.1 A/AA violations on the page as it is drawn now."""
    require_axe()
    if not pg.evaluate("() => typeof window.axe !== 'undefined'"):
        pg.add_script_tag(path=AXE)
    return [v for v in pg.evaluate(RUN_AXE, AXE_UPSTREAM) if v["impact"] in AXE_BLOCKING]


def axe_report(found: dict[str, list[dict]]) -> str:
    return "\n".join(f"{p}: [{v['impact']}] {v['id']} — {v['help']}\n      " + "\n      ".join(v["nodes"])
                     for p, vs in found.items() for v in vs)


def assert_accessible(pg, what: str) -> None:
    """No critical or serious axe-core violation on the screen as it is now (contrast included)."""
    bad = axe_violations(pg)
    assert not bad, f"axe-core, {what}:\n{axe_report({pg.url: bad})}"
