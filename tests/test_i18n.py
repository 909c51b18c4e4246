"""The one text mechanism: every key in both languages with the same placeholders, English plurals,
and one definition per key across all areas."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import i18n
import ingest.messages
import metrics.ask.texts
import metrics.texts
import pack.texts
import push.texts
import scheduler.texts
import ui.i18n
from i18n import EN, ZH, placeholders, register, tr
from metrics.catalogue import catalogue
from metrics.geography import geography
from metrics.summary import KpiFacts, kpi_sentence

ROOT = Path(__file__).resolve().parent.parent
AREA_MODULES = (ui.i18n, pack.texts, ingest.messages, metrics.texts, metrics.ask.texts, scheduler.texts, push.texts)

# Import messages name a measure in Chinese by its Chinese name and in English by its code, so their
# placeholders differ on purpose (the code is what a developer searches the catalogue for).
NAMED_DIFFERENTLY = {"num_gt_den", "cumulative_falls", "stock_falls", "outlier_history", "outlier_peer",
                     "same_in_column"}


def test_every_area_that_registers_is_imported_here() -> None:
    """A new text table must be checked below: find every module that registers one."""
    found = set()
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in (".venv", "var", "tests", "i18n"):
            continue
        if re.search(r"^\s*register\(", path.read_text(encoding="utf-8"), re.M):
            found.add(".".join(rel.with_suffix("").parts).removesuffix(".__init__"))
    imported = {m.__name__ for m in AREA_MODULES} | {"ui.texts"}
    assert found <= imported, sorted(found - imported)


def test_every_key_has_both_languages_and_the_same_placeholders() -> None:
    assert ZH.keys() == EN.keys()
    assert len(ZH) > 900  # the app, the pack, the import, the summaries and the scheduler
    for key, zh in ZH.items():
        assert isinstance(zh, str) and zh, key  # Chinese has no plural forms
        en = EN[key]
        assert en if isinstance(en, str) else all(en.values()), key
        if key not in NAMED_DIFFERENTLY:
            assert placeholders(zh) == placeholders(en), key


def test_plural_forms_share_their_placeholders_and_count_with_n() -> None:
    plurals = {k: v for k, v in EN.items() if not isinstance(v, str)}
    assert len(plurals) >= 20
    for key, forms in plurals.items():
        assert set(forms) == {"one", "other"}, key
        assert placeholders(forms["one"]) == placeholders(forms["other"]), key
        assert "n" in placeholders(forms["other"]), key  # the count that chooses the form


def test_english_plurals() -> None:
    kw = {"scope": "Zhejiang", "period": "2026-10"}
    assert tr("system_table", "en", n=1, **kw) == "Zhejiang · 2026-10 · 1 KPI"
    assert tr("system_table", "en", n=3, **kw) == "Zhejiang · 2026-10 · 3 KPIs"
    assert tr("system_table", "en", n=0, **kw) == "Zhejiang · 2026-10 · 0 KPIs"
    assert tr("system_table", "zh", n=1, **kw) == "Zhejiang · 2026-10 · 1 项指标"
    assert tr("missing_reports", "en", n=1) == "1 KPI not reported for this period"
    assert tr("missing_reports", "en", n=2) == "2 KPIs not reported for this period"
    assert ingest.messages.text("nothing_changed", "en", n=1).startswith("the 1 value equals")
    assert ingest.messages.text("nothing_changed", "en", n=5).startswith("all 5 values equal")
    assert i18n.plural({"one": "a", "other": "b"}, 1.0) == "a" and i18n.plural({"one": "a", "other": "b"}, None) == "b"


def test_summary_sentences_count_correctly_in_english() -> None:
    cat, geo = catalogue(), geography()
    k = next(k for k in cat.kpis if k.format == "percent")
    base = dict(kpi=k.code, region="330100", value=0.9, change=None, target=None, shortfall=None, status="none",
                child_level="county", n_children=0, n_children_on_target=0, best_child=None, rank=None,
                rank_of=None, province_only=False)
    one = kpi_sentence(KpiFacts(**base, n_missing=1), k, geo, "en")
    two = kpi_sentence(KpiFacts(**base, n_missing=2), k, geo, "en")
    assert one.endswith("; 1 county not reported") and two.endswith("; 2 counties not reported")
    assert kpi_sentence(KpiFacts(**base, n_missing=2), k, geo, "zh").endswith("；2个区县逾期未报")


def test_a_key_is_defined_once_across_areas() -> None:
    with pytest.raises(KeyError, match="redefines"):
        register("some.other.area", {"nav_map": "地图"}, {"nav_map": "Map"})
    with pytest.raises(ValueError, match="plural"):
        register("some.other.area", {"x_test_only": "x"}, {"x_test_only": {"one": "x", "many": "y"}})
    assert "x_test_only" not in ZH


def test_the_scheduler_and_the_pack_do_not_import_the_app() -> None:
    """Low layers never import ui/, pages/ or Streamlit (the scheduler's pack job builds decks headless)."""
    code = ("import sys\n"
            "import scheduler.__main__, scheduler.pack_job, pack.build, pack.export, ingest.__main__, metrics.cli\n"
            "import store, auth, followup.service\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('ui', 'pages', 'streamlit', 'deploy'))\n"
            "assert not bad, bad\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr
    out = subprocess.run([sys.executable, "-c", "import sys, metrics.cli, metrics.rankings, metrics.league, "
                          "metrics.composite, metrics.redblack, metrics.comparison, metrics.summary, "
                          "metrics.forecast\nassert not [m for m in sys.modules if m.split('.')[0] == 'ingest']"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr


def test_every_audit_action_has_its_words() -> None:
    """The audit log shows actions as words (the admin page's table and filter): a new action needs its
    two texts, or the admin page fails when it lists the filter."""
    from auth.audit import ACTIONS

    missing = [a for a in ACTIONS if f"auth_act_{a}" not in ZH or f"auth_act_{a}" not in EN]
    assert not missing, missing
