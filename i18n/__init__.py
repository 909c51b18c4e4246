"""The one text mechanism: every user-facing string, in Chinese and English, looked up by key.

Each area keeps its own table beside its code (ui/texts/*, pack/texts.py, ingest/messages.py,
metrics/texts.py, scheduler/texts.py) and registers it here when imported, so the scheduler and the
pack never import the app to get a sentence. A key is defined once across all areas: a clash fails
at import, not as a wrong word on a screen. This package imports nothing of the project; it sits
below metrics, ingest, pack and ui.

An English text may be a pair of plural forms, ``{"one": "1 KPI", "other": "{n} KPIs"}``, chosen by
the ``n`` argument; Chinese has no plural, so its texts are always plain templates.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
PLURAL_FORMS = frozenset({"one", "other"})

Text = str | Mapping[str, str]  # a template, or English plural forms keyed "one"/"other"

ZH: dict[str, str] = {}
EN: dict[str, Text] = {}
AREAS: dict[str, str] = {}  # key -> the area (module) that registered it, for clash messages


def register(area: str, zh: Mapping[str, str], en: Mapping[str, Text]) -> None:
    """Add an area's table; a key another area already defined is an error (one key, one text)."""
    clash = {k: AREAS[k] for k in (zh.keys() | en.keys()) if k in AREAS and AREAS[k] != area}
    if clash:
        raise KeyError(f"{area} redefines keys of other areas: {sorted(clash.items())}")
    for k, v in en.items():
        if isinstance(v, Mapping) and set(v) != PLURAL_FORMS:
            raise ValueError(f"{area}: plural text {k!r} needs exactly the forms {sorted(PLURAL_FORMS)}")
    ZH.update(zh)
    EN.update(en)
    AREAS.update(dict.fromkeys(zh.keys() | en.keys(), area))


def plural(text: Text, n: object) -> str:
    """The form of `text` for the count `n`: 'one' for exactly 1, 'other' for everything else."""
    if isinstance(text, str):
        return text
    try:
        one = float(n) == 1  # type: ignore[arg-type]
    except (TypeError, ValueError):
        one = False
    return text["one" if one else "other"]


def template(key: str, lang: str = "zh", n: object = None) -> str:
    """The raw template of `key` (the plural form for `n` in English); KeyError if no area defines it."""
    return ZH[key] if lang != "en" else plural(EN[key], n)


def tr(key: str, /, lang: str = "zh", **kw: object) -> str:
    """The text `key` in `lang` (anything but "en" is Chinese), formatted with `kw`."""
    text = template(key, lang, kw.get("n"))
    return text.format(**kw) if kw else text


def placeholders(text: Text) -> set[str]:
    """The field names a template uses ({n}, {kpi}, {size_mb:.1f} → n, kpi, size_mb); all forms of a plural."""
    forms = [text] if isinstance(text, str) else list(text.values())
    return {f.split(".")[0].split("[")[0] for t in forms for _, f, _, _ in string.Formatter().parse(t) if f}
