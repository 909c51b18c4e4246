"""Every page and every download in the reader's language, in headless Chromium.

Each page is opened in Chinese and in English (?lang=en) by a role that sees it; the visible text of
the main area and the sidebar (icons' ligature names left out) must not show "None"/"nan", a code
word (sign_in, index_100 ...), Streamlit's own English strings in the Chinese UI, or Chinese in the
English UI. The download buttons of a few pages are clicked in both languages and the files read
back: headers in the chosen language, no code headers, rates written as percentages (CSV text
"76.0%", Excel cells with a percent number format), never raw fractions such as 0.7602220971.

Tables (st.dataframe) draw on a canvas, so their cells are not in the page text: their headers and
missing values are checked through the files the same frames download as.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.browser_helpers import sign_in, wait_finished

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OFFICE_PAGES = ("", "map", "county", "followup", "rankings", "compare", "system", "data_in", "quality",
                "pack", "present")
ADMIN_PAGES = ("jobs", "admin")
DOWNLOAD_PAGES = ("compare", "map", "admin")

# The visible text: every text node whose element is shown, without the Material icons' ligature
# names ("upload", "logout"), without what is hidden from everyone and without the visually hidden
# screen-reader text of Streamlit widgets that has no translation hook.
TEXT_JS = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('[data-testid="stIconMaterial"], script, style, [aria-hidden="true"]')) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const r = el.getBoundingClientRect();  // visually hidden, kept for screen readers only (the uploader's word)
    if (r.width <= 1 && r.height <= 1 && getComputedStyle(el).overflow === "hidden") continue;
    const s = n.textContent.trim();
    if (s) out.push(s);
  }
  return out.join("\\n");
}"""

MISSING_WORDS = re.compile(r"\b(None|nan|NaN)\b")
CODE_WORD = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # sign_in, index_100, drop_folder ...
STREAMLIT_EN = ("Select all", "Drag and drop", "Browse files", "per file", "Upload", "Choose options",
                "Choose an option", "No results")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
ASCII_WORD = re.compile(r"\b[A-Za-z][A-Za-z]{2,}\b")

# Latin words allowed in the Chinese UI, each with its reason
ZH_ALLOWED = {
    "English",  # the language switch names each language in itself
    "CSV", "Excel", "XLSX", "PDF", "PPTX",  # file formats are written so in Chinese too
    "Esc", "PageUp", "PageDown",  # key names on the keyboard
    "office", "admin", "leader", "analyst", "demo",  # account names (data: who is signed in, who submitted)
    "Skip", "main", "content",  # Streamlit's visually hidden skip link "Skip to main content" (no API to translate)
    "python", "scheduler",  # the command an administrator runs, shown as typed
    "auth", "token", "create", "list", "revoke",  # the token command beside the admin page's section, as typed
}
# Chinese allowed in the English UI, each with its reason
EN_ALLOWED = {
    "中文",  # the language switch names each language in itself
}


def _text(pg) -> str:
    return pg.evaluate(TEXT_JS)


def _leaks(text: str, lang: str) -> list[str]:
    found = [f"missing value shown as {m}" for m in sorted(set(MISSING_WORDS.findall(text)))]
    found += [f"code word {w}" for w in sorted(set(CODE_WORD.findall(text)))]
    if lang == "zh":
        found += [f"Streamlit English {s!r}" for s in STREAMLIT_EN if s in text]
        found += [f"English word {w}" for w in sorted(set(ASCII_WORD.findall(text)) - ZH_ALLOWED)]
    else:
        found += [f"Chinese {w}" for w in sorted(set(CJK.findall(text)) - EN_ALLOWED)]
    return found


@pytest.fixture(scope="module")
def signed(browser, app_url):
    """One signed-in page per role, reused across the page visits (signing in once each)."""
    pages = {}
    contexts = []

    def get(role: str):
        if role not in pages:
            ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
            contexts.append(ctx)
            pg = ctx.new_page()
            pg.goto(app_url + "/")
            wait_finished(pg)
            sign_in(pg, role)
            pages[role] = pg
        return pages[role]

    yield get
    for ctx in contexts:
        ctx.close()


def _open(signed, app_url: str, path: str, lang: str):
    pg = signed("admin" if path in ADMIN_PAGES else "office")
    pg.goto(f"{app_url}/{path}" + ("?lang=en" if lang == "en" else ""))  # "" is the overview, the default page
    wait_finished(pg)
    return pg


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", OFFICE_PAGES + ADMIN_PAGES, ids=lambda p: p or "overview")
def test_page_speaks_one_language(signed, app_url, path, lang):
    pg = _open(signed, app_url, path, lang)
    assert pg.locator('[data-testid="stException"]').count() == 0, pg.locator('[data-testid="stException"]').first.inner_text()
    leaks = _leaks(_text(pg), lang)
    assert not leaks, f"/{path} ({lang}): {leaks}"


# -- downloads ---------------------------------------------------------------------------------------------
RAW_FRACTION = re.compile(r"^-?0\.\d{4,}$")


def _files(pg) -> list[tuple[str, bytes]]:
    out = []
    buttons = pg.locator('[data-testid="stDownloadButton"] button:visible')  # a help tooltip keeps a hidden copy
    for i in range(buttons.count()):
        with pg.expect_download(timeout=30_000) as got:
            buttons.nth(i).click()
        d = got.value
        with open(d.path(), "rb") as f:
            out.append((d.suggested_filename, f.read()))
    return out


def _check_headers(name: str, headers: list[str], lang: str) -> None:
    from ui.downloads import untranslated

    assert headers, name
    assert not untranslated(headers), f"{name}: code headers {untranslated(headers)}"
    if lang == "en":
        assert not [h for h in headers if CJK.search(h)], f"{name}: Chinese headers {headers}"
    else:
        latin = [h for h in headers if ASCII_WORD.search(h) and not CJK.search(h)]
        assert not latin, f"{name}: English headers {latin}"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", DOWNLOAD_PAGES)
def test_downloads_speak_the_language_and_write_percentages(signed, app_url, path, lang):
    from openpyxl import load_workbook

    from ui.i18n import t

    pg = _open(signed, app_url, path, lang)
    if path == "admin":  # the audit log is the second tab
        pg.get_by_role("tab", name=t("auth_tab_audit", lang)).click()
    files = _files(pg)
    assert files, f"/{path}: no download button"
    percent_cells = 0
    for name, raw in files:
        stem = name.rsplit(".", 1)[0]
        if lang == "en":
            assert not CJK.search(stem), name
        else:
            assert not [w for w in ASCII_WORD.findall(stem) if w not in ZH_ALLOWED], name
        if name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
            _check_headers(name, rows[0], lang)
            cells = [c for r in rows[1:] for c in r]
            assert not [c for c in cells if RAW_FRACTION.match(c)], f"{name}: raw fractions"
            assert not [c for c in cells if c in ("nan", "None", "NaN")], f"{name}: missing written as a word"
            percent_cells += sum(bool(re.fullmatch(r"-?\d+(\.\d+)?%", c)) for c in cells)
        else:
            ws = load_workbook(io.BytesIO(raw)).active
            _check_headers(name, [str(c.value) for c in ws[1]], lang)
            for row in ws.iter_rows(min_row=2):
                for c in row:
                    if c.data_type == "n" and isinstance(c.value, float) and RAW_FRACTION.match(repr(c.value)):
                        assert "%" in c.number_format, f"{name} {c.coordinate}: fraction {c.value} without percent format"
                        percent_cells += 1
    if path in ("compare", "map"):  # the KPIs these pages open on are rates
        assert percent_cells, f"/{path}: no percentage in {[n for n, _ in files]}"
