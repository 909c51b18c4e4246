"""Check located records against the catalogue, the geography and what is already stored.

Errors block the whole file (the store is all-or-nothing); warnings (values far from the county's
history or its peers, stocks that drop) are shown and do not block, because a real swing in a
tiny county is possible and only the county can confirm it. Every issue names its cell.

Vectorised on purpose: a daily feed has a million rows, so each check works on unique values
(regions, measures, periods) or on whole columns, and only failing rows become `Issue` objects
(the first `MAX_LISTED` per kind, then one summary line).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ingest.messages import Issue, text
from ingest.messages import num as fmt
from ingest.reader import Formula, header_measure, is_blank, measure_lookup
from metrics.catalogue import Catalogue
from metrics.geography import Geography
from metrics.periods import add_months
from store import Store

MAX_LISTED = 5000  # failing cells collected per kind (for the row ranges); the rest are only counted
SHOWN_IN_FULL = 3  # per column and cause, the first ones in full; the rest as one line of row ranges
EARLIEST_REPORT = dt.date(2021, 1, 1)  # the reform's start: county reports before it are refused
EARLIEST_FEED = dt.date(2016, 1, 1)  # platform logs reach further back
HISTORY_FACTOR = 3.0  # warn when a value is this many times above/below the county's recent median
PEER_FACTOR = 5.0  # ... or this many times above/below the per-resident median of the counties
MIN_PEERS = 10
STOCK_DROP_WARN = 0.10  # a non-cumulative stock falling more than this share ...
STOCK_DROP_MIN = 5  # ... and more than this many units is worth a question


@dataclass
class Context:
    cat: Catalogue
    geo: Geography
    store: Store | None
    as_county: str | None  # the reporting county: other counties' rows are refused
    today: dt.date
    earliest: dt.date = EARLIEST_REPORT


@dataclass
class Validation:
    issues: list[Issue] = field(default_factory=list)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)  # valid rows with their source cells
    n_records: int = 0
    stored: pd.DataFrame | None = None  # current stored values around the file's keys (for the preview)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


class _Collector:
    """Issues per kind, listing the first MAX_LISTED and counting the rest."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.listed: dict[str, int] = {}
        self.extra: dict[tuple[str, str], int] = {}

    def cap(self, idx: np.ndarray, severity: str, code: str) -> np.ndarray:
        """The first rows of a failing check worth listing; the rest are only counted (a bad
        million-row feed must not build a million messages)."""
        if len(idx) > MAX_LISTED:
            self.extra[(severity, code)] = self.extra.get((severity, code), 0) + len(idx) - MAX_LISTED
        return idx[:MAX_LISTED]

    def cap_frame(self, df: pd.DataFrame, severity: str, code: str) -> pd.DataFrame:
        if len(df) > MAX_LISTED:
            self.extra[(severity, code)] = self.extra.get((severity, code), 0) + len(df) - MAX_LISTED
        return df.head(MAX_LISTED)

    def add(self, severity: str, code: str, rec: Any | None = None, col: str | None = None,
            header: str | None = None, **params: Any) -> None:
        if self.listed.get(code, 0) >= MAX_LISTED:
            self.extra[(severity, code)] = self.extra.get((severity, code), 0) + 1
            return
        self.listed[code] = self.listed.get(code, 0) + 1
        row = None if rec is None else int(rec["row"])
        self.issues.append(Issue(severity, code, row=row, col=col, header=header, params=params))  # type: ignore[arg-type]

    def finish(self) -> list[Issue]:
        """The issues with repeats folded: one bad cell copied down a column is one cause, so per
        (column, cause) the first SHOWN_IN_FULL are kept in full and the rest become one line with
        their rows in ranges (第 7–57 行), instead of fifty identical lines."""
        groups: dict[tuple[str, str, str | None], list[Issue]] = {}
        for i in self.issues:
            groups.setdefault((i.severity, i.code, i.col), []).append(i)
        out: list[Issue] = []
        for (severity, code, col), items in groups.items():
            if len(items) <= SHOWN_IN_FULL + 1 or col is None:
                out += items
                continue
            out += items[:SHOWN_IN_FULL]
            rest = items[SHOWN_IN_FULL:]
            header = rest[0].header
            out.append(Issue(severity, "same_in_column", col=col, params={  # type: ignore[arg-type]
                "col": col, "cause": code, "n": len(items), "shown": SHOWN_IN_FULL, "more": len(rest),
                "rows": compact_rows([i.row for i in rest if i.row is not None]),
                "header": {"zh": f"（{header}）", "en": f" ({header})"} if header else {"zh": "", "en": ""}}))
        for (severity, code), n in self.extra.items():
            out.append(Issue(severity, "more_of_kind", params={"n": n, "code": code}))  # type: ignore[arg-type]
        return out


def compact_rows(rows: list[int]) -> str:
    """7, 8, 9, 12, 14, 15 -> "7–9、12、14–15": consecutive rows as ranges."""
    parts: list[str] = []
    for r in sorted(set(rows)):
        if parts and isinstance(parts[-1], list) and parts[-1][1] == r - 1:
            parts[-1][1] = r
        else:
            parts.append([r, r])  # type: ignore[arg-type]
    return "、".join(f"{a}" if a == b else f"{a}–{b}" for a, b in parts)  # type: ignore[misc]


# -- parsing of single cells ------------------------------------------------------------------------
_MONTH_RES = [re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$"), re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月?$"),
              re.compile(r"^(\d{4})(\d{2})$")]
_DAY_RES = [re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]00:00(?::00)?)?$"),
            re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"), re.compile(r"^(\d{4})(\d{2})(\d{2})$")]


def parse_period(v: Any) -> tuple[dt.date, bool] | None:
    """(date, is_month) for a month (2024-06, 2024年6月, 202406) or a day (2024-06-03, Excel dates)."""
    if isinstance(v, dt.datetime):
        return v.date(), False
    if isinstance(v, dt.date):
        return v, False
    if isinstance(v, bool):
        return None
    if isinstance(v, float):
        if not v.is_integer():
            return None
        v = int(v)
    s = str(v).strip()
    try:
        for pat in _MONTH_RES:
            m = pat.match(s)
            if m:
                return dt.date(int(m[1]), int(m[2]), 1), True
        for pat in _DAY_RES:
            m = pat.match(s)
            if m:
                return dt.date(int(m[1]), int(m[2]), int(m[3])), False
    except ValueError:
        return None
    return None


def region_key(v: Any) -> str:
    """A region cell as text: 330102, 330102.0 and ' 330102 ' are the same code."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v).strip()
    if re.fullmatch(r"\d{6}\.0+", s):
        return s.split(".")[0]
    if re.fullmatch(r"\d{6}0{6}", s):  # 12-digit statistical codes
        return s[:6]
    return s


# A thousands separator (ASCII comma, full-width comma or a space) is accepted only where thousands
# are: 1,200 and 128，542 are numbers, 12,00 or 1，2 are typing slips that must not become 1200 or 12.
_SEPARATORS = re.compile(r"[,，\s]")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:([,，]|\s)\d{3})(?:\1\d{3})*(?:\.\d*)?$")


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None or isinstance(v, Formula):
        return None
    if isinstance(v, int | float):
        x = float(v)
    else:
        s = str(v).strip()
        if _SEPARATORS.search(s):
            if not _GROUPED.match(s):
                return None
            s = _SEPARATORS.sub("", s)
        try:
            x = float(s)
        except ValueError:
            return None
    return x if math.isfinite(x) else None


def bad_separator(v: Any) -> bool:
    """A numeric-looking text whose separators are in the wrong place (for the message)."""
    if not isinstance(v, str):
        return False
    s = v.strip()
    return bool(_SEPARATORS.search(s)) and not _GROUPED.match(s) and \
        re.fullmatch(r"[+-]?[\d,，\s]+(?:\.\d*)?", s) is not None


def _numbers(s: pd.Series) -> pd.Series:
    """Vectorised `_number`: plain numeric text goes through pandas, anything odd through Python."""
    if pd.api.types.infer_dtype(s, skipna=True) == "string":
        out = pd.to_numeric(s.str.strip(), errors="coerce").astype(float)
        odd = out.isna() & s.notna()
        if odd.any():
            out[odd] = s[odd].map(_number).astype(float)
    else:
        out = s.map(_number).astype(float)
    return out.where(np.isfinite(out))


# -- the checks ----------------------------------------------------------------------------------------
def validate(records: pd.DataFrame, ctx: Context) -> Validation:
    """All row-level and cross-row checks; returns the issues and the rows that passed."""
    c = _Collector()
    recs = records.reset_index(drop=True)
    n = len(recs)
    bad = np.zeros(n, dtype=bool)
    cat, geo = ctx.cat, ctx.geo
    measures = {m.code: m for m in cat.measures}

    # formulas without a cached value, in any of the four roles (CSV cells are all text)
    for role in ("region", "period", "measure", "value"):
        if pd.api.types.infer_dtype(recs[role], skipna=True) in ("string", "empty", "integer", "floating"):
            continue
        is_f = recs[role].map(lambda v: isinstance(v, Formula)).to_numpy(dtype=bool)
        for i in c.cap(np.nonzero(is_f)[0], "error", "formula_uncomputed"):
            rec = recs.iloc[i]
            c.add("error", "formula_uncomputed", rec, rec[f"{role}_col"], _hdr(rec, role), formula=str(rec[role]))
        bad |= is_f

    # measures
    lookup = measure_lookup(cat)
    m_blank = is_blank(recs["measure"]).to_numpy() & ~bad
    uniq = {v: header_measure(v, lookup) for v in pd.unique(recs.loc[~m_blank & ~bad, "measure"])}
    measure_code = recs["measure"].map(uniq).where(~m_blank & ~bad, None).astype(object)
    for i in c.cap(np.nonzero(m_blank)[0], "error", "measure_blank"):
        rec = recs.iloc[i]
        c.add("error", "measure_blank", rec, rec["measure_col"])
    unknown = (~m_blank & ~bad & measure_code.isna()).to_numpy()
    for i in c.cap(np.nonzero(unknown)[0], "error", "measure_unknown"):
        rec = recs.iloc[i]
        c.add("error", "measure_unknown", rec, rec["measure_col"], value=rec["measure"],
              hint=_hint(str(rec["measure"]), cat))
    level = measure_code.map({m.code: m.level for m in cat.measures})
    province = (measure_code.notna() & (level != "county")).to_numpy()
    for i in c.cap(np.nonzero(province)[0], "error", "measure_province"):
        rec = recs.iloc[i]
        m = measures[measure_code[i]]
        c.add("error", "measure_province", rec, rec["measure_col"], value=m.code, name=m.name_zh)
    bad |= m_blank | unknown | province

    # regions
    r_blank = is_blank(recs["region"]).to_numpy() & ~bad
    for i in c.cap(np.nonzero(r_blank)[0], "error", "region_blank"):
        rec = recs.iloc[i]
        c.add("error", "region_blank", rec, rec["region_col"])
    bad |= r_blank
    verdict = {v: _region_verdict(v, ctx) for v in pd.unique(recs.loc[~bad, "region"])}
    kinds = recs["region"].map({v: k for v, (k, _) in verdict.items()}).where(~bad, None)
    region_code = recs["region"].map({v: p for v, (k, p) in verdict.items() if k == "ok"}).where(~bad, None)
    r_bad = (~bad & (kinds != "ok")).to_numpy()
    for i in c.cap(np.nonzero(r_bad)[0], "error", "region"):
        rec = recs.iloc[i]
        kind, payload = verdict[rec["region"]]
        c.add("error", kind, rec, rec["region_col"], _hdr(rec, "region"), **payload)
    bad |= r_bad

    # periods (their meaning depends on the measure's grain)
    p_blank = is_blank(recs["period"]).to_numpy() & ~bad
    for i in c.cap(np.nonzero(p_blank)[0], "error", "period_blank"):
        rec = recs.iloc[i]
        c.add("error", "period_blank", rec, rec["period_col"])
    bad |= p_blank
    grain = measure_code.map({m.code: m.grain for m in cat.measures})
    pairs = pd.Series(list(zip(recs["period"], grain, strict=True)), dtype=object).where(~bad, None)
    outcome = {key: _period_outcome(key[0], key[1], ctx) for key in pd.unique(pairs[~bad])}
    obs_date = pairs.map({k: v[1] for k, v in outcome.items() if v[0] == "ok"}).where(~bad, None)
    p_bad = (~bad & obs_date.isna()).to_numpy()
    for i in c.cap(np.nonzero(p_bad)[0], "error", "period"):
        rec = recs.iloc[i]
        code, params = outcome[pairs[i]]
        c.add("error", code, rec, rec["period_col"], **{**params, "measure": measure_code[i]})
    bad |= p_bad
    # codes valid only from/until a date (splits: 余杭 before 2021-04, 临平 did not exist yet)
    for ch in geo.code_changes.values():
        if ch.kind != "split":
            continue
        in_change = (~bad & region_code.isin(ch.new_codes)).to_numpy()
        if not in_change.any():
            continue
        cutoff = np.where(grain == "month", ch.valid_until.replace(day=1), ch.valid_until)
        early = np.zeros(n, dtype=bool)
        early[in_change] = obs_date[in_change].to_numpy() < cutoff[in_change]
        for i in c.cap(np.nonzero(early)[0], "error", "region"):
            rec = recs.iloc[i]
            code, params = _split_issue(region_code[i], obs_date[i], grain[i], ch, ctx)
            c.add("error", code, rec, rec["region_col"], **params)
        bad |= early

    # values
    v_blank = is_blank(recs["value"]).to_numpy() & ~bad
    for i in c.cap(np.nonzero(v_blank)[0], "error", "value_blank"):
        rec = recs.iloc[i]
        c.add("error", "value_blank", rec, rec["value_col"], rec["header"])
    bad |= v_blank
    value = pd.Series(np.nan, index=recs.index)
    value[~bad] = _numbers(recs.loc[~bad, "value"])
    not_num = (~bad & value.isna()).to_numpy()
    for i in c.cap(np.nonzero(not_num)[0], "error", "value_not_number"):
        rec = recs.iloc[i]
        code = "value_bad_separator" if bad_separator(rec["value"]) else "value_not_number"
        c.add("error", code, rec, rec["value_col"], rec["header"], value=str(rec["value"])[:40])
    neg = (~bad & ~not_num & (value < 0)).to_numpy()
    for i in c.cap(np.nonzero(neg)[0], "error", "value_negative"):
        rec = recs.iloc[i]
        c.add("error", "value_negative", rec, rec["value_col"], rec["header"], value=fmt(value[i]))
    bad |= not_num | neg

    good = pd.DataFrame({
        "region_code": region_code[~bad].astype(str), "measure_code": measure_code[~bad].astype(str),
        "obs_date": obs_date[~bad], "value": value[~bad].astype(float),
        "row": recs.loc[~bad, "row"].astype(int), "col": recs.loc[~bad, "value_col"],
        "header": recs.loc[~bad, "header"],
    }).reset_index(drop=True)

    # duplicates inside the file
    key = ["region_code", "measure_code", "obs_date"]
    dup = good.duplicated(key, keep="first")
    if dup.any():
        first_row = good.groupby(key, sort=False)["row"].transform("first")
        for i in c.cap(np.nonzero(dup.to_numpy())[0], "error", "duplicate_row"):
            rec = good.iloc[i]
            c.add("error", "duplicate_row", rec, rec["col"], rec["header"], first_row=int(first_row.iloc[i]),
                  region=rec["region_code"], measure=rec["measure_code"], period=_label(rec["obs_date"], grain="x"))
        good = good.loc[~dup].reset_index(drop=True)

    if good.empty or ctx.store is None:
        return Validation(c.finish(), good, n)
    stored = _stored_context(good, ctx)
    _check_ratios(good, stored, ctx, c)
    _check_stocks(good, stored, ctx, c)
    _check_outliers(good, stored, ctx, c)
    return Validation(c.finish(), good, n, stored.own)


def _hdr(rec: Any, role: str) -> str | None:
    return rec["header"] if role == "value" else None


def _label(d: dt.date, grain: str) -> str:
    return f"{d:%Y-%m}" if grain == "month" or d.day == 1 else d.isoformat()


def _hint(cell: str, cat: Catalogue) -> dict[str, str]:
    names = {m.code: m for m in cat.measures}
    choices = list(names) + [m.name_zh for m in cat.measures]
    best = difflib.get_close_matches(cell.strip(), choices, n=1, cutoff=0.5)
    if not best:
        return _both("measure_hint_none")
    m = names.get(best[0]) or next(x for x in cat.measures if x.name_zh == best[0])
    return {"zh": text("measure_hint", "zh", code=m.code, name=m.name_zh),
            "en": text("measure_hint", "en", code=m.code, name=m.name_en)}  # names differ by language


def _both(code: str, **params: Any) -> dict[str, str]:
    """A message fragment in both languages, to be embedded as a parameter."""
    return {"zh": text(code, "zh", **params), "en": text(code, "en", **params)}


def _region_verdict(v: Any, ctx: Context) -> tuple[str, Any]:
    """('ok', code) or (issue code, params) for one distinct region cell."""
    geo = ctx.geo
    key = region_key(v)
    code = None
    if key in geo.regions:
        code = key
    elif key in geo.code_changes:
        ch = geo.code_changes[key]
        new = [f"{c}（{geo.get(c).name_zh}）" for c in ch.new_codes]
        new_en = [f"{c} ({geo.get(c).name_en})" for c in ch.new_codes]
        return "region_abolished", {"value": key, "old_name": ch.old_name_zh, "until": ch.valid_until.isoformat(),
                                    "note": {"zh": ch.note_zh, "en": ch.note_en},
                                    "suggest": {"zh": "或".join(new), "en": " or ".join(new_en)}}
    else:
        try:
            code = geo.resolve(key)
        except KeyError:
            return "region_unknown", {"value": key}
    r = geo.get(code)
    if r.level != "county":
        return "region_not_county", {"value": code, "name": r.name_zh}
    if ctx.as_county and code != ctx.as_county:
        a = geo.get(ctx.as_county)
        return "region_other_county", {"value": code, "name": r.name_zh, "as_code": a.code, "as_name": a.name_zh}
    return "ok", code


def _period_outcome(v: Any, grain: str, ctx: Context) -> tuple[str, Any]:
    """('ok', obs_date) or (issue code, params) for one distinct (period cell, measure grain)."""
    p = parse_period(v)
    if p is None:
        return "period_invalid", {"value": v}
    d, is_month = p
    if grain == "day" and is_month:
        return "period_needs_day", {"value": v}
    d = d.replace(day=1) if grain == "month" else d
    label = _label(d, grain)
    if (grain == "month" and d >= ctx.today.replace(day=1)) or (grain == "day" and d >= ctx.today):
        return "period_future", {"value": label, "today": ctx.today.isoformat()}
    if d < ctx.earliest:
        return "period_too_early", {"value": label, "earliest": ctx.earliest.isoformat()}
    return "ok", d


def _split_issue(code: str, d: dt.date, grain: str, ch: Any, ctx: Context) -> tuple[str, dict]:
    """A still-current code that was split (余杭 before 2021-04) or a code the split created."""
    label = _label(d, grain)
    if code == ch.old_code:
        new = "、".join(f"{c}（{ctx.geo.get(c).name_zh}）" for c in ch.new_codes)
        new_en = " and ".join(f"{c} ({ctx.geo.get(c).name_en})" for c in ch.new_codes)
        return "region_split", {"value": code, "old_name": ch.old_name_zh, "date": label,
                                "note": {"zh": ch.note_zh, "en": ch.note_en}, "suggest": {"zh": new, "en": new_en}}
    return "region_not_yet", {"value": code, "name": ctx.geo.get(code).name_zh, "date": label,
                              "until": ch.valid_until.isoformat(), "old": ch.old_code}


# -- cross-row checks against the store --------------------------------------------------------------
@dataclass
class _Stored:
    own: pd.DataFrame  # current values of the file's regions, its measures and their partners, a year back
    peers: pd.DataFrame  # current values of all counties at the file's dates


def _pairs(cat: Catalogue) -> list[tuple[str, str, str]]:
    seen, out = set(), []
    for k in cat.kpis:  # a share never exceeds its base; an average (days per request) may
        if k.kind == "ratio" and k.format == "percent" and (k.numerator, k.denominator) not in seen:
            seen.add((k.numerator, k.denominator))
            out.append((k.numerator, k.denominator, k.code))
    return out


def _stored_context(good: pd.DataFrame, ctx: Context) -> _Stored:
    assert ctx.store is not None
    ms = set(good["measure_code"])
    for num, den, _ in _pairs(ctx.cat):
        if num in ms:
            ms.add(den)
        if den in ms:
            ms.add(num)
    start = min(good["obs_date"])
    start = add_months(start.replace(day=1), -12)
    end = max(good["obs_date"])
    own = ctx.store.current_values(ms, start, end, regions=good["region_code"].unique())
    dates = set(good["obs_date"].unique())
    dates |= {add_months(d.replace(day=1), -1) for d in dates if d.day == 1}  # fallback: the month before
    if set(ctx.geo.counties) <= set(good["region_code"].unique()):  # a feed: `own` already holds every county
        peers = own[own["measure_code"].isin(set(good["measure_code"])) & (own["obs_date"] >= min(dates))]
    else:
        peers = ctx.store.current_values(good["measure_code"].unique(), min(dates), end,
                                         dates=dates if len(dates) <= 400 else None)
    return _Stored(own, peers)


def _lookup_frame(good: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """File values first, stored values where the file has none: the values after the commit."""
    key = ["region_code", "measure_code", "obs_date"]
    f = good[key + ["value", "row", "col"]].assign(src="file")
    s = stored[key + ["value"]].assign(src="stored", row=None, col=None)
    both = pd.concat([f, s], ignore_index=True) if not s.empty else f
    return both.drop_duplicates(key, keep="first")


def _check_ratios(good: pd.DataFrame, stored: _Stored, ctx: Context, c: _Collector) -> None:
    """Numerator <= denominator for every ratio KPI, on the values as they would be after the commit.

    Same-grain pairs match on the date; a daily numerator over a monthly stock (浙政钉日活 over
    activated accounts) matches each day with its month. One merge for all pairs.
    """
    measures = {m.code: m for m in ctx.cat.measures}
    in_file = set(good["measure_code"].unique())
    pairs = pd.DataFrame([p for p in _pairs(ctx.cat) if p[0] in in_file or p[1] in in_file],
                         columns=["num", "den", "kpi"])
    if pairs.empty:
        return
    gn, gd = pairs["num"].map(lambda m: measures[m].grain), pairs["den"].map(lambda m: measures[m].grain)
    pairs = pairs[(gn == gd) | ((gn == "day") & (gd == "month"))].assign(by_month=(gn != gd))
    after = _lookup_frame(good, stored.own)
    a = after.merge(pairs, left_on="measure_code", right_on="num")
    a["k"] = a["obs_date"]
    if a["by_month"].any():
        sel = a["by_month"].to_numpy(dtype=bool)
        firsts = {d: d.replace(day=1) for d in pd.unique(a.loc[sel, "obs_date"])}
        a.loc[sel, "k"] = a.loc[sel, "obs_date"].map(firsts)
    b = after.rename(columns={"measure_code": "den", "obs_date": "k"})
    j = a.merge(b, on=["region_code", "den", "k"], suffixes=("_n", "_d"))
    j = j[(j["value_n"] > j["value_d"] + 1e-9) & ((j["src_n"] == "file") | (j["src_d"] == "file"))]
    for _, r in c.cap_frame(j, "error", "num_gt_den").iterrows():
        num, den = r["num"], r["den"]
        nm, dm, kpi = measures[num], measures[den], ctx.cat.kpi(r["kpi"])
        at_num = r["src_n"] == "file"
        if not at_num:  # the file lowered a denominator below the stored numerator
            where = _both("num_stored")
        elif r["src_d"] == "file":
            where = _both("den_in_file", row=int(r["row_d"]), col=r["col_d"])
        else:
            where = _both("den_stored")
        loc = {"row": r["row_n"] if at_num else r["row_d"]}
        c.add("error", "num_gt_den", loc, r["col_n"] if at_num else r["col_d"], num if at_num else den,
              num=num, num_name=nm.name_zh, num_value=fmt(r["value_n"]), den=den, den_name=dm.name_zh,
              den_value=fmt(r["value_d"]), den_where=where, kpi=kpi.code, kpi_name=kpi.name_zh)


def _is_cumulative(m: Any) -> bool:
    return "累计" in m.name_zh or "cumulative" in m.name_en.lower()


def _check_stocks(good: pd.DataFrame, stored: _Stored, ctx: Context, c: _Collector) -> None:
    """Stocks ('last') against the previous month: cumulative ones may not fall, others are asked about."""
    measures = {m.code: m for m in ctx.cat.measures}
    stocks = [m for m in measures.values() if m.aggregation == "last" and m.grain == "month"]
    rows = good[good["measure_code"].isin([m.code for m in stocks])]
    if rows.empty:
        return
    after = _lookup_frame(good, stored.own)
    prev = after[["region_code", "measure_code", "obs_date", "value"]].rename(
        columns={"obs_date": "prev_date", "value": "prev"})
    rows = rows.assign(prev_date=rows["obs_date"].map(lambda d: add_months(d, -1)))
    j = rows.merge(prev, on=["region_code", "measure_code", "prev_date"])
    for _, r in c.cap_frame(j[j["value"] < j["prev"] - 1e-9], "error", "cumulative_falls").iterrows():
        m = measures[r["measure_code"]]
        params = dict(name=m.name_zh, measure=m.code, value=fmt(r["value"]), prev=fmt(r["prev"]),
                      prev_period=f"{r['prev_date']:%Y-%m}")
        if _is_cumulative(m):
            c.add("error", "cumulative_falls", r, r["col"], m.code, **params)
        elif r["prev"] - r["value"] > max(STOCK_DROP_WARN * r["prev"], STOCK_DROP_MIN):
            c.add("warning", "stock_falls", r, r["col"], m.code, drop=(r["prev"] - r["value"]) / r["prev"], **params)


def _check_outliers(good: pd.DataFrame, stored: _Stored, ctx: Context, c: _Collector) -> None:
    """Warnings: far from the county's own recent median, or from its peers per resident."""
    measures = {m.code: m for m in ctx.cat.measures}
    # own history: the stored values before the file's earliest date
    hist = stored.own[stored.own["obs_date"] < min(good["obs_date"])]
    if not hist.empty:
        med = hist.groupby(["region_code", "measure_code"])["value"].agg(["median", "count"]).reset_index()
        j = good.merge(med, on=["region_code", "measure_code"])
        j = j[(j["count"] >= 3) & (j["median"] > 0)]
        factor = np.maximum(j["value"] / j["median"], j["median"] / j["value"].clip(lower=1e-9))
        flag = (factor > HISTORY_FACTOR) & ((j["value"] - j["median"]).abs() > 10)
        hits = c.cap_frame(j[flag].assign(f=factor[flag]), "warning", "outlier_history")
        for _, r in hits.iterrows():
            m, f = measures[r["measure_code"]], r["f"]
            c.add("warning", "outlier_history", r, r["col"], m.code, name=m.name_zh, measure=m.code,
                  value=fmt(r["value"]), ref=fmt(r["median"]), factor=float(f))
    # peers: per resident, file values over stored ones, per measure and date
    key = ["region_code", "measure_code", "obs_date"]
    allv = _lookup_frame(good, stored.peers)[key + ["value"]]
    pop = {code: float(ctx.geo.get(code).population or 0) for code in allv["region_code"].unique()
           if code in ctx.geo.regions}
    allv = allv.assign(pc=allv["value"] / allv["region_code"].map(pop).replace(0, np.nan))
    # both per resident and as is: counts that do not scale with population (事项数, apps required)
    # are compared as they are, so only a value far off on both scales is questioned
    stats = allv.groupby(["measure_code", "obs_date"]).agg(pc=("pc", "median"), raw=("value", "median"),
                                                           count=("value", "size"))
    stats = stats[stats["count"] >= MIN_PEERS]
    j = good.copy()
    keys = pd.Series(list(zip(j["measure_code"], j["obs_date"], strict=True)), index=j.index, dtype=object)
    # a county reporting early has few peers for its month yet: compare with the month before
    grain = j["measure_code"].map({m.code: m.grain for m in ctx.cat.measures})
    missing = ~keys.isin(list(stats.index)) & (grain == "month")
    if missing.any():
        keys[missing] = [(m, add_months(d, -1)) for m, d in keys[missing]]
    j["median"] = keys.map(stats["pc"])
    j["raw_median"] = keys.map(stats["raw"])
    j = j[j["median"].notna() & (j["median"] > 0) & (j["raw_median"] > 0) & (j["value"] > 0)]
    if j.empty:
        return
    pc = j["value"] / j["region_code"].map(pop)
    f_pc = np.maximum(pc / j["median"], j["median"] / pc)
    f_raw = np.maximum(j["value"] / j["raw_median"], j["raw_median"] / j["value"])
    factor = f_pc
    flag = (f_pc > PEER_FACTOR) & (f_raw > PEER_FACTOR)
    for _, r in c.cap_frame(j[flag].assign(f=factor[flag]), "warning", "outlier_peer").iterrows():
        m, f = measures[r["measure_code"]], r["f"]
        c.add("warning", "outlier_peer", r, r["col"], m.code, name=m.name_zh, measure=m.code, factor=float(f))
