"""Composite evaluation schemes and red/black list rules (赛马晾晒), defined in a file, not in code.

`definitions/schemes.yaml` sits beside the KPI catalogue so the reform office can change a weight,
a tier rule or a list threshold without a release. It is validated on load, like the catalogue:
a bad entry fails with a message naming the scheme (or list rule) and the field, and a KPI code
that the catalogue does not know — or that exists only at province level, so cannot be raced
below it — is rejected there rather than producing an empty league table later.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from metrics.catalogue import Catalogue
from metrics.catalogue import catalogue as default_catalogue

SCHEMES_PATH = Path(__file__).parent / "definitions" / "schemes.yaml"

Normalisation = Literal["attainment", "minmax", "zscore"]
PopulationKind = Literal["counties", "cities"]


class SchemeError(ValueError):
    """schemes.yaml is invalid; the message names the scheme or list rule and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchemeKpi(_Strict):
    kpi: str
    weight: float = Field(gt=0)


class TierRule(_Strict):
    """How scored regions are put into tiers (梯队).

    share: by rank position; `cuts` are cumulative shares of the scored regions, e.g. [1/3, 2/3]
    puts ranks 1..30 of 90 in the first tier, 31..60 in the second, the rest in the third (ties
    share a tier because they share a rank).
    score: by score; `cuts` are descending thresholds, e.g. [90, 80]: score >= 90 first tier,
    >= 80 second, below that third.
    """

    method: Literal["share", "score"] = "share"
    cuts: list[float] = [1 / 3, 2 / 3]
    # a region is only put below a cut when its score is more than `separation` standard errors of the
    # difference from the boundary (share) or the threshold (score); closer ones share the better tier
    separation: float = Field(default=1.0, ge=0)
    labels_zh: list[str] = ["第一梯队", "第二梯队", "第三梯队"]
    labels_en: list[str] = ["First tier", "Second tier", "Third tier"]

    @model_validator(mode="after")
    def _check(self) -> TierRule:
        if len(self.labels_zh) != len(self.cuts) + 1 or len(self.labels_en) != len(self.cuts) + 1:
            raise ValueError(f"{len(self.cuts)} cuts need {len(self.cuts) + 1} labels in each language")
        if self.method == "share":
            if any(not 0 < c < 1 for c in self.cuts) or self.cuts != sorted(self.cuts):
                raise ValueError("share cuts must be increasing fractions between 0 and 1")
        elif self.cuts != sorted(self.cuts, reverse=True):
            raise ValueError("score cuts must be decreasing thresholds")
        return self


class Scheme(_Strict):
    """A weighted set of KPIs, normalised one way, scored per region, ranked and tiered.

    Per-KPI contribution = scale x (weight / Σ weights) x normalised value; score = offset + Σ
    contributions. Normalised values are direction-aware (higher is always better):
    attainment: min(attainment, cap), attainment being value/target (target/value for 'down');
    minmax: (v - min) / (max - min) over the scored population, inverted for 'down' KPIs;
    zscore: (v - mean) / sd (population sd, ddof=0), sign flipped for 'down' KPIs.
    """

    code: str
    name_zh: str
    name_en: str
    description_zh: str = ""
    description_en: str = ""
    population: PopulationKind = "counties"
    normalisation: Normalisation
    cap: float = Field(default=1.2, gt=0)  # attainment only: beating a target by miles earns no more than this
    scale: float = Field(default=100.0, gt=0)
    offset: float = 0.0
    kpis: list[SchemeKpi] = Field(min_length=1)
    tiers: TierRule = TierRule()
    # official: the recipe is the reform office's published one; assumed: ours, for the demo (演示口径)
    recipe: Literal["official", "assumed"] = "assumed"
    recipe_note_zh: str = ""
    recipe_note_en: str = ""

    @model_validator(mode="after")
    def _check(self) -> Scheme:
        codes = [k.kpi for k in self.kpis]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"KPI(s) listed twice: {dup}")
        return self

    @property
    def weights(self) -> dict[str, float]:
        """Weights normalised to sum to 1 (the file may use any positive numbers, e.g. points)."""
        total = sum(k.weight for k in self.kpis)
        return {k.kpi: k.weight / total for k in self.kpis}

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh

    def label(self, lang: str = "zh") -> str:
        """The name as it must appear on screen: an assumed recipe says so beside it."""
        if self.recipe == "official":
            return self.name(lang)
        return f"{self.name_en} (demo recipe, assumed)" if lang == "en" else f"{self.name_zh}（演示口径）"


class ListRule(_Strict):
    """One red-list (红榜, honour) or black-list (黑榜, aired for improvement) rule.

    top_n / bottom_n: the best / worst `n` ranked regions on a KPI or a scheme (ties at the
    boundary are all listed; small samples and non-reporters are never listed on ranks).
    consecutive_decline: the KPI got worse (direction-aware) in each of the last `k` months.
    off_target: the KPI missed its target in each of the last `m` months.
    overdue: the region did not report the KPI for the period (逾期未报).
    """

    code: str
    board: Literal["red", "black"]
    rule: Literal["top_n", "bottom_n", "consecutive_decline", "off_target", "overdue"]
    kpis: list[str] = []
    scheme: str | None = None
    population: PopulationKind = "counties"
    n: int | None = Field(default=None, ge=1)
    k: int | None = Field(default=None, ge=1)
    m: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> ListRule:
        if bool(self.kpis) == bool(self.scheme):
            raise ValueError("give either 'kpis' or 'scheme'")
        if self.scheme and self.rule not in ("top_n", "bottom_n"):
            raise ValueError(f"rule {self.rule} works on KPIs, not on a scheme")
        need = {"top_n": "n", "bottom_n": "n", "consecutive_decline": "k", "off_target": "m"}.get(self.rule)
        if need and getattr(self, need) is None:
            raise ValueError(f"rule {self.rule} needs {need!r}")
        return self


class SchemeBook(_Strict):
    version: int
    schemes: list[Scheme]
    lists: list[ListRule] = []

    def scheme(self, code: str) -> Scheme:
        for s in self.schemes:
            if s.code == code or s.name_zh == code:
                return s
        raise KeyError(f"unknown scheme {code!r}; known: {[s.code for s in self.schemes]}")

    def rule(self, code: str) -> ListRule:
        for r in self.lists:
            if r.code == code:
                return r
        raise KeyError(f"unknown list rule {code!r}")


def _entry_name(raw: dict, loc: tuple) -> str:
    """Turn a pydantic error location into 'scheme <code>: field <name>'."""
    if len(loc) >= 2 and loc[0] in ("schemes", "lists") and isinstance(loc[1], int):
        try:
            code = raw[loc[0]][loc[1]].get("code", f"#{loc[1]}")
        except (IndexError, AttributeError, KeyError, TypeError):
            code = f"#{loc[1]}"
        field = ".".join(str(p) for p in loc[2:]) or "(entry)"
        kind = "scheme" if loc[0] == "schemes" else "list rule"
        return f"{kind} {code}: field {field!r}"
    return "schemes.yaml: field " + ".".join(str(p) for p in loc)


def check_against_catalogue(book: SchemeBook, catalogue: Catalogue) -> list[str]:
    """Problems that need the catalogue: unknown KPI codes, province-only KPIs, missing targets."""
    level = {m.code: m.level for m in catalogue.measures}
    known = {k.code: k for k in catalogue.kpis}
    problems: list[str] = []

    def check_kpi(where: str, code: str) -> bool:
        if code not in known:
            problems.append(f"{where}: unknown KPI {code!r} (not in definitions/kpis.yaml)")
            return False
        if level[known[code].measures[0]] != "county":
            problems.append(f"{where}: KPI {code!r} is measured at province level only and cannot be ranked")
            return False
        return True

    codes = [s.code for s in book.schemes] + [r.code for r in book.lists]
    for dup in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(f"schemes.yaml: code {dup!r} is used twice")
    for s in book.schemes:
        for i, sk in enumerate(s.kpis):
            where = f"scheme {s.code}: field 'kpis.{i}.kpi'"
            if check_kpi(where, sk.kpi) and s.normalisation == "attainment" and not known[sk.kpi].targets:
                problems.append(f"{where}: KPI {sk.kpi!r} has no target, so cannot be normalised by attainment")
    schemes = {s.code for s in book.schemes}
    for r in book.lists:
        for i, code in enumerate(r.kpis):
            where = f"list rule {r.code}: field 'kpis.{i}'"
            if check_kpi(where, code) and r.rule == "off_target" and not known[code].targets:
                problems.append(f"{where}: KPI {code!r} has no target, so 'off_target' cannot apply")
        if r.scheme and r.scheme not in schemes:
            problems.append(f"list rule {r.code}: field 'scheme': unknown scheme {r.scheme!r}")
    return problems


def parse_schemes(raw: dict, catalogue: Catalogue | None = None) -> SchemeBook:
    """Validate a raw mapping against the models and the catalogue; raise SchemeError naming the entry."""
    try:
        book = SchemeBook.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{_entry_name(raw, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise SchemeError("invalid schemes file:\n  " + "\n  ".join(lines)) from None
    problems = check_against_catalogue(book, catalogue or default_catalogue())
    if problems:
        raise SchemeError("invalid schemes file:\n  " + "\n  ".join(problems))
    return book


def load_schemes(path: Path | str = SCHEMES_PATH, catalogue: Catalogue | None = None) -> SchemeBook:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return parse_schemes(raw, catalogue)


@lru_cache(maxsize=1)
def schemes() -> SchemeBook:
    """The project's schemes, loaded and validated once per process against the project catalogue."""
    return load_schemes()
