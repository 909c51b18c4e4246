"""A deterministic reader of cockpit questions (Chinese or English) into a `Query`.

It reads exactly or not at all: every word of the question must be a KPI name or alias from the
catalogue, a region from the reference geography, a period form, a keyword of an intent or
condition, or a filler word ("的", "是多少"). Anything else, an ambiguous region (a county and a
township of the same name), a period outside the data, or a question the catalogue cannot answer
comes back as a `Clarification` listing the candidates — never as a best guess.

The work: normalise (full-width to half-width, typos of common words, Chinese numerals in number
positions to Arabic), take out period and rank expressions with regular expressions, then scan the
rest with a longest-match over one lexicon of terms, and assemble the query from what was found.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from metrics.catalogue import Catalogue
from metrics.catalogue import catalogue as default_catalogue
from metrics.geography import PROVINCE, Geography, geography
from metrics.periods import Period, add_months, report_due
from metrics.townships import township_kpis

from .query import Clarification, Query

# -- normalisation ------------------------------------------------------------------------------

# typos people make in the common words (not in names: a misspelt name stays unknown and is asked about)
TYPOS: dict[str, str] = {
    "那些": "哪些", "那个": "哪个", "那几个": "哪几个", "排明": "排名", "拍名": "排名", "牌名": "排名",
    "达表": "达标", "打标": "达标", "环必": "环比", "还比": "环比", "同必": "同比", "增涨": "增长",
    "趋式": "趋势", "走式": "走势", "上各月": "上个月", "年低": "年底", "落后续时": "落后序时",
    "逾其": "逾期", "怎么养": "怎么样", "多扫": "多少", "一网通半": "一网通办", "掌上半": "掌上办",
    "浙理办": "浙里办", "浙里半": "浙里办", "预侧": "预测", "季读": "季度", "对必": "对比", "多小": "多少",
}
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9}
_CN_NUM = "零〇一二两三四五六七八九十百"
# Chinese numerals are converted only where a number stands (前五, 十月, 二〇二六年, 第三季度, 二十六县),
# never inside names such as 一网通办 or 四平台
_CN_BEFORE = re.compile(rf"(?<=前|后|第|近|末)([{_CN_NUM}]+)|([{_CN_NUM}]+)(?=个月|个季度|季度|月|年|县|名|位|个|项|天)")


def _cn_to_int(s: str) -> int | None:
    if all(c in _CN_DIGIT for c in s):
        if len(s) == 1:
            return _CN_DIGIT[s]
        return int("".join(str(_CN_DIGIT[c]) for c in s))  # 二〇二六 is read digit by digit
    total, cur = 0, 0
    for c in s:
        if c in _CN_DIGIT:
            cur = _CN_DIGIT[c]
        elif c == "十":
            total += (cur or 1) * 10
            cur = 0
        elif c == "百":
            total += (cur or 1) * 100
            cur = 0
        else:
            return None
    return total + cur


def normalise(text: str) -> str:
    """Half-width, lower case, no punctuation or spaces between CJK, typos fixed, numerals Arabic."""
    s = unicodedata.normalize("NFKC", text).lower().strip()
    s = re.sub(r"(?<=[a-z])['’]s\b", "", s)  # Hangzhou's: the possessive, not a word
    s = re.sub(r"[“”\"'‘’《》「」【】()\[\]（）]", "", s)
    s = re.sub(r"[?？!！。，,、;；:：~～…]+", " ", s)
    for wrong, right in TYPOS.items():
        s = s.replace(wrong, right)
    # a name like 一网通办 keeps its 一: the lookbehind/lookahead only fire on number positions
    s = _CN_BEFORE.sub(lambda m: str(_cn_to_int(m[0])) if _cn_to_int(m[0]) is not None else m[0], s)
    s = re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", s)  # spaces matter between English words only
    return re.sub(r"\s+", " ", s).strip()


_UNIT = re.compile(r"[a-z][a-z'\-]*|\d+(?:\.\d+)?|[^\sa-z\d]")


def units(s: str) -> tuple[str, ...]:
    """Scanning units: one CJK character, one English word or one number."""
    return tuple(_UNIT.findall(s))


# -- the lexicon --------------------------------------------------------------------------------

# keywords: term -> (slot, value). Slots: intent words, conditions, set markers, change bases.
_KW_ZH: dict[str, tuple[str, str]] = {}


def _kw(slot: str, value: str, *terms: str) -> None:
    for t in terms:
        _KW_ZH[t] = (slot, value)


_kw("change", "prev", "环比", "比上月", "比上个月", "较上月", "较上个月", "和上个月比", "跟上个月比", "比上期")
_kw("change", "yoy", "同比", "比去年同期", "较去年同期", "和去年同期比", "跟去年同期比", "比上年同期", "较上年同期")
_kw("change", "", "增长多少", "增长了多少", "增长", "增加", "下降", "降低", "提高", "提升", "变化", "涨了多少", "涨了",
    "跌了", "多了多少", "少了多少", "多了几个", "少了几个", "升了", "降了", "增幅", "降幅", "变动")
_kw("rank", "all", "排名", "排行", "排名情况", "排第几", "排在第几", "第几", "第几名", "排几", "名次", "赛马", "排行榜",
    "中排第几", "中排名", "中排几", "中排在第几", "中的排名", "排个名", "排一下名")
_kw("rank", "top1", "最高", "最好", "第1", "排第1", "领先", "拔尖")
_kw("rank", "bottom1", "最低", "最差", "垫底", "倒数第1", "末位", "最后1名", "排最后")
_kw("cond", "not_met", "没达标", "未达标", "不达标", "没有达标", "达不到目标", "没完成目标", "未完成目标", "没到目标",
    "低于目标", "不合格", "没达到目标", "未达到目标", "没有完成目标")
_kw("cond", "met", "达标", "已达标", "完成目标", "达到目标", "达标了", "达标没", "达标没有", "达标了没", "达标了没有")
_kw("cond", "red", "红灯", "亮红灯", "标红", "红色")
_kw("cond", "behind_pace", "落后序时", "落后于序时", "序时进度落后", "落后序时进度", "跟不上序时", "低于序时",
    "未达序时", "没达到序时进度", "落后进度")
_kw("cond", "overdue", "逾期未报", "超期未报", "逾期没报", "过了期限没报", "逾期未报送", "逾期")
_kw("cond", "not_reported", "没报", "未报", "还没报", "没有报", "没有报送", "未报送", "未上报", "没上报", "还没上报",
    "缺报", "没交", "还没交", "没填报", "未填报", "没报数", "还没报数", "还没报送", "没报送", "还未报送", "还未上报")
_kw("forecast", "", "能不能完成", "能否完成", "能完成吗", "完成得了吗", "能不能达标", "能否达标", "预测", "预计", "会不会完成",
    "能完成", "完得成吗", "能实现吗", "能不能实现", "能达标吗", "能达标")
_kw("forecast", "at_risk", "完不成", "完成不了", "难完成", "有风险", "可能完不成", "达不到", "实现不了", "够呛")
_kw("trend", "", "趋势", "走势", "怎么走", "怎么走的", "走向", "变化趋势", "怎么变", "怎么变的", "曲线", "逐月",
    "每个月", "每月", "历史", "走得怎么样", "趋势如何", "变化情况")
_kw("compare", "", "对比", "比较", "相比", "比一比", "哪个高", "谁高", "谁更高", "哪个好", "谁更好", "谁好", "pk",
    "和", "与", "跟", "同", "哪个更高", "差多少", "差距", "比", "高多少", "低多少", "高吗", "低吗", "更高", "更低",
    "高还是低", "好还是差", "更好", "更差", "哪个低", "谁低", "谁更低")
# 高/低/好/差 alone: a comparison between named regions ("杭州和宁波哪个高"); otherwise asked about
_kw("hl", "", "高", "低", "好", "差")
_kw("set", "county", "各县", "各区县", "各县市区", "各县市", "各县区", "所有县", "哪些县", "哪个县", "哪几个县", "几个县",
    "县区", "区县", "下辖县", "各个县", "每个县", "县里", "哪些区县", "哪个区县", "哪些县区", "县市区", "各地",
    "哪些地方", "哪些地区", "哪个地方", "的县", "的各县", "有哪些县", "的区县", "县有哪些", "有几个县", "多少个县",
    "哪些个县", "县市", "哪些县市")
_kw("set", "city", "各市", "各地市", "各设区市", "11个市", "哪个市", "哪些市", "哪几个市", "所有市", "地市", "设区市",
    "各个市", "11市", "11个设区市", "的市", "有哪些市", "有几个市", "几个市", "哪些个市")
_kw("set", "township", "各乡镇", "各街道", "各乡镇街道", "哪些乡镇", "哪个乡镇", "乡镇", "街道", "的乡镇")
_kw("which", "", "哪些", "哪几个", "哪个", "谁", "有哪些", "是哪些", "是谁", "有几个", "几个", "多少个", "名单",
    "列出", "清单")
_kw("kpiword", "", "指标", "哪些指标", "什么指标", "哪项指标", "哪几项", "哪几个指标", "目标")
_kw("province", PROVINCE, "全省", "浙江", "浙江省", "省里", "省级", "全省范围", "全浙江")

FILLERS_ZH = (
    # single characters only where they never carry the question (中, 位, 数, 为, 比 … can: 中位数, 为什么)
    "的", "了", "吗", "呢", "啊", "呀", "吧", "是", "在", "有", "都", "还", "又", "请", "把", "嘛", "哦", "吶",
    "请问", "帮我", "帮忙", "查", "查一下", "查查", "看看", "看一下", "看下", "告诉我", "我想知道", "想知道", "一下",
    "多少", "是多少", "有多少", "怎么样", "如何", "情况", "咋样", "现在", "目前", "当前", "数据", "数值", "水平", "大概",
    "具体", "给我", "列一下", "显示", "出来", "里面", "当中", "其中", "有没有", "以来", "这个", "那个",
    "能不能", "可以", "一共", "总共", "怎样", "我们", "我市", "我县", "本市", "本县", "么样", "水准", "表现", "是啥",
    "啥", "什么", "是什么", "成绩", "结果", "怎么", "排在", "还是", "以及", "分别", "各自", "百分点", "个百分点",
    "几个百分点", "多少个百分点", "数量", "想看一下", "想看看", "想了解", "了解一下", "领导", "高还是低", "好还是差",
    "是几", "多高", "多低", "几名", "名", "个", "率", "里", "量", "多少天", "几天",
)
FILLERS_EN = (
    "what", "is", "was", "were", "the", "of", "in", "for", "a", "an", "how", "did", "does", "do", "show", "me",
    "tell", "which", "are", "has", "have", "and", "vs", "versus", "with", "by", "to", "at", "on", "its", "their",
    "please", "much", "many", "this", "that", "value", "figure", "rate", "s", "be", "will", "it", "can", "over",
)
_KW_EN: dict[str, tuple[str, str]] = {
    "month over month": ("change", "prev"), "month on month": ("change", "prev"), "mom": ("change", "prev"), "year on year": ("change", "yoy"),
    "year over year": ("change", "yoy"), "yoy": ("change", "yoy"), "change": ("change", ""),
    "grow": ("change", ""), "growth": ("change", ""), "rank": ("rank", "all"), "ranking": ("rank", "all"),
    "ranked": ("rank", "all"), "highest": ("rank", "top1"), "best": ("rank", "top1"), "lowest": ("rank", "bottom1"),
    "worst": ("rank", "bottom1"), "missed the target": ("cond", "not_met"), "missed": ("cond", "not_met"),
    "below target": ("cond", "not_met"), "not met": ("cond", "not_met"), "did not meet": ("cond", "not_met"),
    "not meet": ("cond", "not_met"), "met the target": ("cond", "met"),
    "behind pace": ("cond", "behind_pace"), "overdue": ("cond", "overdue"), "not reported": ("cond", "not_reported"),
    "has not reported": ("cond", "not_reported"), "have not reported": ("cond", "not_reported"),
    "forecast": ("forecast", ""), "year end": ("forecast", ""), "year-end": ("forecast", ""),
    "on track": ("forecast", ""), "at risk": ("forecast", "at_risk"), "trend": ("trend", ""),
    "compare": ("compare", ""), "counties": ("set", "county"), "county": ("set", "county"),
    "cities": ("set", "city"), "province": ("province", PROVINCE), "zhejiang": ("province", PROVINCE),
    "kpis": ("kpiword", ""), "kpi": ("kpiword", ""), "target": ("kpiword", ""), "who": ("which", ""),
}

# words naming several KPIs at once: asked about, never picked between
GENERIC_ZH = ("满意度", "满意率", "贯通率", "贯通度", "办结率", "可靠率", "活跃率", "满足率", "整改", "应用数", "平台数",
              "处置率", "接通", "数字化", "利用率")

SET_LABEL = {"county": "各县", "city": "各市", "township": "各乡镇"}


@dataclass
class Lexicon:
    """term units -> what they name; built once per catalogue and geography."""

    terms: dict[tuple[str, ...], tuple[str, object]] = field(default_factory=dict)
    max_len: int = 1
    # the 山区26县 development classes: name -> member counties (dated like their group)
    classes: dict[str, list[str]] = field(default_factory=dict)

    def add(self, term: str, kind: str, value: object) -> None:
        key = units(normalise(term))
        if not key:
            return
        old = self.terms.get(key)
        if old is not None and old[0] == "region" and kind == "region":  # the same short name twice
            self.terms[key] = ("region", tuple(dict.fromkeys((*old[1], *value))))  # type: ignore[misc]
        elif old is None or _PRIORITY[kind] > _PRIORITY[old[0]]:
            self.terms[key] = (kind, value)
        self.max_len = max(self.max_len, len(key))


_PRIORITY = {"fill": 0, "kw": 1, "generic": 2, "region": 3, "class": 3, "kpi": 4}


def _short_names(name: str) -> list[str]:
    out = [name]
    if name.endswith("自治县"):  # 景宁畲族自治县 is 景宁
        out.append(name[:2])
    for suffix in ("街道", "市", "区", "县", "镇", "乡"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            out.append(name[: -len(suffix)])
            break
    return out


def _en_names(name: str) -> list[str]:
    low = name.lower()
    out = [low]
    for suffix in (" district", " county", " city", " subdistrict", " town", " township"):
        if low.endswith(suffix):
            out.append(low[: -len(suffix)])
    return out


_LEXICONS: dict[tuple[int, int], tuple[Catalogue, Geography, Lexicon]] = {}


def lexicon(cat: Catalogue, geo: Geography) -> Lexicon:
    """The lexicon of a catalogue and geography (both immutable once loaded: cached by identity)."""
    hit = _LEXICONS.get((id(cat), id(geo)))
    if hit is not None and hit[0] is cat and hit[1] is geo:
        return hit[2]
    lex = _build(cat, geo)
    _LEXICONS[(id(cat), id(geo))] = (cat, geo, lex)
    return lex


def _build(cat: Catalogue, geo: Geography) -> Lexicon:
    lex = Lexicon()
    for w in FILLERS_ZH + FILLERS_EN:
        lex.add(w, "fill", None)
    for t, v in _KW_ZH.items():
        lex.add(t, "kw", v)
    for t, v in _KW_EN.items():
        lex.add(t, "kw", v)
    names: dict[str, list[str]] = {}
    for k in cat.kpis:
        for t in (k.name_zh, k.name_en, *k.aliases_zh, *k.aliases_en):
            lex.add(t, "kpi", k.code)
            names.setdefault(normalise(t), []).append(k.code)
    for g in GENERIC_ZH:
        stem = g.rstrip("率度")
        hits = sorted({c for n, cs in names.items() if stem in n for c in cs})
        if units(g) not in lex.terms and len(hits) > 1:
            lex.add(g, "generic", tuple(hits))
    for r in geo.regions.values():
        for n in _short_names(r.name_zh) + _en_names(r.name_en):
            lex.add(n, "region", (r.code,))
    for t in geo.townships.values():
        for n in _short_names(t.name_zh):
            lex.add(n, "region", (t.code,))
    # townships have no English entries, so "Jiangbei" would read as 江北区 where "江北" is asked about:
    # an English name is as ambiguous as the Chinese name it spells ("Jiangbei District" stays exact)
    for r in geo.regions.values():
        zh, en = _short_names(r.name_zh), _en_names(r.name_en)
        pairs = [(en[0], zh[0]), (en[-1], zh[-1])] if len(en) > 1 else [(en[0], zh[-1])]
        for e, z in pairs:
            got = lex.terms.get(units(normalise(z)))
            if got is not None and got[0] == "region" and len(got[1]) > 1:  # type: ignore[arg-type]
                lex.add(e, "region", got[1])
    lex.add("26县", "region", ("SHANQU26",))
    lex.add("25县", "region", ("SHANQU_HAIDAO25",))
    lex.add("山区县", "region", ("SHANQU26", "SHANQU_HAIDAO25"))
    for name, members in _classes().items():
        lex.classes[name] = members
        lex.add(name, "class", name)
        lex.add(name.removesuffix("类"), "class", name)
        for suffix in ("县", "各县", "的县", "的各县", "哪些县", "哪个县"):
            lex.add(name + suffix, "class", name)
    return lex


@lru_cache(maxsize=1)
def _classes() -> dict[str, list[str]]:
    """Development classes of the 山区26县 (跨越发展类, 生态发展类) from the reference counties file."""
    import csv

    from metrics.geography import REGIONS_DIR

    out: dict[str, list[str]] = {}
    with open(REGIONS_DIR / "counties.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r.get("shanqu_class_zh"):
                out.setdefault(r["shanqu_class_zh"], []).append(r["code"])
    return {k: sorted(v) for k, v in out.items()}


CLASS_GROUP = "SHANQU26"  # the classes are sub-groups of 山区26县 and exist while it does


def class_members(name: str, on: dt.date, geo: Geography | None = None) -> list[str]:
    geo = geo or geography()
    if not geo.group_valid_on(CLASS_GROUP, on):
        return []
    return _classes().get(name, [])


# -- periods ------------------------------------------------------------------------------------


@dataclass
class _Found:
    period: Period | None = None
    periods: list[str] = field(default_factory=list)  # every period expression, as typed
    months: int | None = None
    yoy_base: bool = False  # 去年同期 as a period: the base period's year-ago twin
    year_end: bool = False
    rank: str | None = None
    n: int | None = None
    n_hint: int | None = None  # 哪三个县…最低: how many the superlative asks for
    ranks_conflict: bool = False  # 前五和后五: two questions in one
    asked: Period | None = None  # 上个月 as the calendar means it, when the answer is about `latest` instead


def _month_in_past(m: int, today: dt.date) -> tuple[int, int]:
    """'10月' is this year's October once it has begun, else last year's."""
    return (today.year if m <= today.month else today.year - 1), m


def _last_month(today: dt.date, latest: Period, f: _Found) -> Period:
    """上个月: the calendar's last month, unless its reports are not yet due (the 5th of December asks
    about November, due on the 15th): then the latest due month, as every page opens, and `f.asked`
    keeps the month the words meant so the reading and the sentence say so. A verdict on a month
    still coming in would read like one on a complete month."""
    m = add_months(today.replace(day=1), -1)
    p = Period.month(m.year, m.month)
    # only when the data is current (the latest month is the one before): stale data is asked about
    if p.end > latest.end and report_due(p.start) > today and add_months(p.start, -1) <= latest.start:
        f.asked = p
        return latest
    return p


def _take_periods(s: str, today: dt.date, latest: Period, f: _Found) -> str:
    """Take period and rank expressions out of `s` into `f`; return what is left."""
    y0 = latest.end.year

    def put(p: Period | None, m: re.Match) -> str:
        f.periods.append(m[0])
        if p is not None:
            f.period = p
        return " "

    def ytd(y: int, mth: int) -> Period:
        return Period.ytd(y, mth)

    rules: list[tuple[str, object]] = [
        (r"(?:今年)?(?:年底|年末|年终|到年底|全年目标)", lambda m: (setattr(f, "year_end", True), " ")[1]),
        (r"去年同期|上年同期", lambda m: (setattr(f, "yoy_base", True), " ")[1]),
        (r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]", lambda m: put(Period.day(dt.date(int(m[1]), int(m[2]), int(m[3]))), m)),
        (r"(\d{4})年上半年", lambda m: put(ytd(int(m[1]), 6), m)),
        (r"(?:去年|上年)(\d{1,2})月份?", lambda m: put(Period.month(today.year - 1, int(m[1])), m)),
        (r"今年上半年", lambda m: put(ytd(y0, 6), m)),
        (r"明年", lambda m: put(Period.year(today.year + 1), m)),
        (r"下个?月", lambda m: put(Period.month(add_months(today.replace(day=1), 1).year,
                                            add_months(today.replace(day=1), 1).month), m)),
        (r"明天|明日", lambda m: put(Period.day(today + dt.timedelta(days=1)), m)),
        (r"(\d{4})年(?:1-|1至|1到|前)(\d{1,2})个?月(?:份)?(?:累计)?", lambda m: put(ytd(int(m[1]), int(m[2])), m)),
        (r"(\d{4})年(\d{1,2})月份?", lambda m: put(Period.month(int(m[1]), int(m[2])), m)),
        (r"(?<!\d)(\d{4})[-./](\d{1,2})(?![\d.])", lambda m: put(Period.month(int(m[1]), int(m[2])), m)),
        (r"\bq([1-4]) (\d{4})\b", lambda m: put(Period.quarter(int(m[2]), int(m[1])), m)),
        (_EN_MONTH, lambda m: put(_en_month(m, today), m)),
        (r"(\d{4})年?(?:第)?([1-4])季度|(\d{4})年?q([1-4])",
         lambda m: put(Period.quarter(int(m[1] or m[3]), int(m[2] or m[4])), m)),
        (r"(?:最近|近|过去)(\d{1,2})个?月", lambda m: (setattr(f, "months", int(m[1])), f.periods.append(m[0]), " ")[2]),
        (r"(?:最近|近|过去)半年", lambda m: (setattr(f, "months", 6), f.periods.append(m[0]), " ")[2]),
        (r"(?:最近|近|过去)1年", lambda m: (setattr(f, "months", 12), f.periods.append(m[0]), " ")[2]),
        (r"上半年", lambda m: put(ytd(y0, 6), m)),
        (r"(?:今年)?(?:1-|1至|1到|前)(\d{1,2})个?月(?:份)?(?:累计)?", lambda m: put(ytd(y0, int(m[1])), m)),
        (r"上上个?月", lambda m: put(Period.month(add_months(today.replace(day=1), -2).year,
                                              add_months(today.replace(day=1), -2).month), m)),
        (r"上个?月", lambda m: put(_last_month(today, latest, f), m)),
        (r"本月|这个月|当月|这月", lambda m: put(Period.month(today.year, today.month), m)),
        (r"上个?季度", lambda m: put(_prev_quarter(today), m)),
        (r"(?:第)?([1-4])季度|q([1-4])", lambda m: put(_quarter_in_past(int(m[1] or m[2]), today), m)),
        (r"今年以来|年初以来|年初至今|今年累计|今年", lambda m: put(ytd(y0, latest.end.month), m)),
        (r"去年|上年", lambda m: put(Period.year(y0 - 1), m)),
        (r"(\d{4})年(?:以来|累计|全年)?", lambda m: put(Period.year(int(m[1])) if int(m[1]) < y0
                                                    else ytd(int(m[1]), latest.end.month), m)),
        (r"(?<!\d)(\d{1,2})月份?(?!\d)", lambda m: put(Period.month(*_month_in_past(int(m[1]), today)), m)),
        (r"昨天|昨日", lambda m: put(Period.day(today - dt.timedelta(days=1)), m)),
        (r"今天|今日", lambda m: put(Period.day(today), m)),
        (r"\blast month\b", lambda m: put(_last_month(today, latest, f), m)),
        (r"\bthis month\b", lambda m: put(Period.month(today.year, today.month), m)),
        (r"\b(?:this year|year to date|ytd)\b", lambda m: put(ytd(y0, latest.end.month), m)),
        (r"\blast year\b", lambda m: put(Period.year(y0 - 1), m)),
        (r"\b(?:in the )?(?:last|past) (\d{1,2}) months\b",
         lambda m: (setattr(f, "months", int(m[1])), f.periods.append(m[0]), " ")[2]),
        # rank expressions: 前5, 前五名, 后3, 倒数5, 末3位, top 5, bottom 3
        (r"(?:排名)?(?:前|top ?)(\d{1,2})(?:名|位|个)?", lambda m: _rank(f, "top", int(m[1]))),
        (r"倒数第1名?|最后1名", lambda m: _rank(f, "bottom", 1)),
        (r"哪(\d{1,2})个", lambda m: (setattr(f, "n_hint", int(m[1])), "哪些")[1]),
        (r"(?:排名)?(?:后|倒数|末|bottom ?)(\d{1,2})(?:名|位|个)?", lambda m: _rank(f, "bottom", int(m[1]))),
        (r"第(\d{1,2})名?", lambda m: _rank(f, "top", int(m[1])) if int(m[1]) == 1 else m[0]),
    ]
    for pat, fn in rules:
        s = re.sub(pat, fn, s)  # type: ignore[arg-type]
    return s


_EN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december")
# "may" alone is a verb: a month only with its year
_EN_MONTH = re.compile(r"\b(?:(" + "|".join(m for m in _EN_MONTHS if m != "may") + r"|sept|sep|oct|nov|dec|jan|feb|mar|apr|jun|jul|aug)"
                       r"(?: (\d{4}))?|(may) (\d{4}))\b")


def _en_month(m: re.Match, today: dt.date) -> Period:
    word, year = (m[1], m[2]) if m[1] else (m[3], m[4])
    month = next(i for i, full in enumerate(_EN_MONTHS, 1) if full.startswith(word))
    return Period.month(int(year), month) if year else Period.month(*_month_in_past(month, today))


def _rank(f: _Found, which: str, n: int) -> str:
    if f.rank is not None and (f.rank, f.n) != (which, n):
        f.ranks_conflict = True
    f.rank, f.n = which, n
    return " "


def _prev_quarter(today: dt.date) -> Period:
    q = (today.month - 1) // 3 + 1
    return Period.quarter(today.year, q - 1) if q > 1 else Period.quarter(today.year - 1, 4)


def _quarter_in_past(q: int, today: dt.date) -> Period:
    """'三季度' is this year's once it has begun, else last year's."""
    start = dt.date(today.year, 3 * (q - 1) + 1, 1)
    return Period.quarter(today.year if start <= today else today.year - 1, q)


# -- the parser ---------------------------------------------------------------------------------


def _region_label(geo: Geography, code: str) -> str:
    r = geo.get(code)
    if r.level == "township":
        return f"{r.name_zh}（{geo.get(r.parent_code or '').name_zh}）"
    if r.level == "county":
        return f"{r.name_zh}（{geo.get(r.parent_code or '').name_zh}）"
    return r.name_zh


def parse(
    question: str,
    *,
    today: dt.date,
    latest: Period,
    first: dt.date | None = None,
    newest: Period | None = None,
    catalogue: Catalogue | None = None,
    geo: Geography | None = None,
    home: str = PROVINCE,
) -> Query | Clarification:
    """Read `question` into a Query, or say what is unclear.

    today: the engine's today (本月, 上个月, 今天 count from it); latest: the engine's latest month
    (the default period; 今年以来 runs to it); first/newest: the first month with data and the newest
    month with any report (a period outside them is asked about; newest defaults to latest).
    home: the region a question without one is about (a city leader's city; the pages' scope).
    """
    cat = catalogue or default_catalogue()
    geo = geo or geography()
    lex = lexicon(cat, geo)
    s = normalise(question)
    if not s:
        return Clarification("empty", "请输入问题，例如：上个月丽水哪些县一网通办率没达标？",
                             "Ask a question, e.g. which counties of Lishui missed the online handling target last month?")
    f = _Found()
    # "比上个月", "较去年同期": a basis of change, not a period of its own
    s = re.sub(r"(?:比|较|和|跟|与|同)(?:去年|上年)同期(?:比|相比)?", " 同比 ", s)
    s = re.sub(r"(?:比|较|和|跟|与|同)(?:去年|上年)(?:比|相比)?(?![\d同])", " 同比 ", s)
    s = re.sub(r"(?:比|较|和|跟|与|同)(?:上个?月|上期)(?:比|相比)?", " 环比 ", s)
    try:
        s = _take_periods(s, today, latest, f)
    except ValueError as exc:  # 13月, 2026-00
        return Clarification("period_outside_data", f"没有这个期间：{exc}", f"No such period: {exc}")
    # -- scan ---------------------------------------------------------------------------------
    found: list[tuple[str, object, str]] = []  # (kind, value, as typed)
    unknown: list[str] = []
    us = units(s)
    i, run = 0, []
    while i < len(us):
        hit = None
        for n in range(min(lex.max_len, len(us) - i), 0, -1):
            got = lex.terms.get(us[i:i + n])
            if got is not None:
                hit = (n, got)
                break
        if hit is None:
            run.append(us[i])
            i += 1
            continue
        if run:
            unknown.append(_join(run))
            run = []
        n, (kind, value) = hit
        if kind != "fill":
            found.append((kind, value, _join(us[i:i + n])))
        i += n
    if run:
        unknown.append(_join(run))
    return _assemble(question, found, unknown, f, today, latest, first, newest or latest, cat, geo, lex, home)


def _join(us: Iterable[str]) -> str:
    out = ""
    for u in us:
        out += (" " if out and u[0].isascii() and u[0].isalnum() and out[-1].isascii() else "") + u
    return out


def _assemble(question: str, found: list[tuple[str, object, str]], unknown: list[str], f: _Found, today: dt.date,
              latest: Period, first: dt.date | None, newest: Period, cat: Catalogue, geo: Geography,
              lex: Lexicon, home: str = PROVINCE) -> Query | Clarification:
    # a question naming no region is about `home`; its sets are home's counties (a city) or all counties
    home_pop = f"city:{home}" if geo.get(home).level == "city" else "counties"
    kpis: list[str] = []
    regions: list[tuple[str, ...]] = []
    region_words: list[str] = []
    kw: dict[str, list[str]] = {}
    generic: list[tuple[str, tuple[str, ...]]] = []
    cls: str | None = None
    for kind, value, typed in found:
        if kind == "kpi" and value not in kpis:
            kpis.append(value)  # type: ignore[arg-type]
        elif kind == "region":
            regions.append(value)  # type: ignore[arg-type]
            region_words.append(typed)
        elif kind == "class":
            cls = value  # type: ignore[assignment]
        elif kind == "generic":
            generic.append((typed, value))  # type: ignore[arg-type]
        elif kind == "kw":
            slot, v = value  # type: ignore[misc]
            kw.setdefault(slot, []).append(v)
    if unknown:
        words = tuple(unknown)
        if not kpis and not regions:
            return Clarification(
                "outside_catalogue",
                f"指标目录里没有“{'、'.join(words)}”：可问的指标见指标目录（python -m metrics list）。",
                f"The catalogue has nothing called “{', '.join(words)}”: see the KPI catalogue (python -m metrics list).",
                words=words)
        return Clarification("unknown_word", f"没看懂“{'、'.join(words)}”，请换个说法或去掉它。",
                             f"Did not understand “{', '.join(words)}”: please rephrase or leave it out.", words=words)
    if generic and not kpis:
        typed, codes = generic[0]
        return Clarification("ambiguous_kpi", f"“{typed}”对应多个指标，请说明是哪一个。",
                             f"“{typed}” names several KPIs: which one?",
                             candidates=tuple(cat.kpi(c).name_zh for c in codes), words=(typed,))
    # -- regions: resolve township/county ambiguity by a named county --------------------------
    named: list[str] = []
    counties_named = {c for cand in regions for c in cand if len(cand) == 1 and geo.get(c).level == "county"}
    for cand, typed in zip(regions, region_words, strict=True):
        if len(cand) == 1:
            named.append(cand[0])
            continue
        inside = [c for c in cand if c in geo.townships and geo.get(c).parent_code in counties_named]
        if len(inside) == 1:
            named.append(inside[0])
            continue
        if set(cand) <= {"SHANQU26", "SHANQU_HAIDAO25"}:
            return Clarification("ambiguous_region", f"“{typed}”是指山区26县（至2024年7月）还是山区海岛25县（2024年8月起）？",
                                 f"“{typed}”: the 26 mountainous counties (to July 2024) or the 25 mountainous and "
                                 "island counties (from August 2024)?", candidates=("山区26县", "山区海岛25县"),
                                 words=(typed,))
        return Clarification("ambiguous_region", f"“{typed}”有多个地方同名，请说明是哪一个（可加上所属县）。",
                             f"Several places are called “{typed}”: which one (add its county)?",
                             candidates=tuple(_region_label(geo, c) for c in sorted(
                                 cand, key=lambda c: (c in geo.townships, c))[:12])
                             + (("…",) if len(cand) > 12 else ()), words=(typed,))
    towns = [c for c in named if c in geo.townships]
    if towns:  # a township named with its county: the county only qualified it
        named = [c for c in named if not (geo.get(c).level == "county" and any(
            geo.get(t).parent_code == c for t in towns))]
    named = list(dict.fromkeys(named))
    if "province" in kw and PROVINCE not in named:
        named.insert(0, PROVINCE)
    # "衢州柯城区", "柯城区在衢州排第几", "在全省排第几": a city (or the province) named with one of its
    # counties qualifies it or is the field it is ranked in; "丽水和莲都对比" keeps both
    field_of_rank: str | None = None
    low = [c for c in named if geo.get(c).level in ("county", "township")]
    if len(low) == 1 and "compare" not in kw:
        county = low[0] if geo.get(low[0]).level == "county" else geo.get(low[0]).parent_code or ""
        for c in [c for c in named if c == geo.city_of(county) or c == PROVINCE]:
            named.remove(c)
            field_of_rank = "counties" if c == PROVINCE else f"city:{c}"
    # "丽水在全省排第几": a city ranked with the province named is ranked among the cities, not
    # compared with the province
    cities_named = [c for c in named if geo.get(c).level == "city"]
    if (not low and len(cities_named) == 1 and PROVINCE in named and set(kw.get("rank", [])) == {"all"}
            and "compare" not in kw and f.rank is None):
        named.remove(PROVINCE)
        field_of_rank = "cities"
    # -- period ---------------------------------------------------------------------------------
    if len({p for p in f.periods}) > 1 and f.months is None:
        return Clarification("two_periods", f"问题里有两个期间（{'、'.join(f.periods)}），请只留一个。",
                             f"The question names two periods ({', '.join(f.periods)}): keep one.",
                             candidates=tuple(f.periods), words=tuple(f.periods))
    if f.ranks_conflict:
        return Clarification("two_questions", "一次问一个排名（例如先问前五，再问后五）。",
                             "One ranking at a time (e.g. the top five, then the bottom five).")
    period = f.period or latest
    change = [v for v in kw.get("change", []) if v]
    if f.yoy_base and not kw.get("change"):
        period = period.year_ago()  # 去年同期 alone is a period
    elif f.yoy_base:
        change.append("yoy")
    if period.end > newest.end or (first is not None and period.start < first):
        lo = first.strftime("%Y-%m") if first else "—"
        return Clarification("period_outside_data",
                             f"{period.label}不在已有数据范围内（{lo} 至 {newest.label}）。",
                             f"{period.label} is outside the data ({lo} to {newest.label}).",
                             candidates=(latest.label,), words=tuple(f.periods))
    # -- intent -----------------------------------------------------------------------------------
    cond = [v for v in kw.get("cond", [])]
    sets = kw.get("set", [])
    rank = f.rank
    ranks = kw.get("rank", [])
    n = f.n
    if rank is None and ranks:
        r = next((x for x in ranks if x != "all"), "all")
        rank, n = {"top1": ("top", 1), "bottom1": ("bottom", 1), "all": ("all", None)}[r]
        if rank in ("top", "bottom") and f.n_hint:
            n = f.n_hint
    condition = None
    if cond:
        order = ("overdue", "not_reported", "behind_pace", "red", "not_met", "met")
        condition = next(c for c in order if c in cond)
    forecast = "forecast" in kw or f.year_end
    at_risk = "at_risk" in kw.get("forecast", [])
    group_codes = [c for c in named if geo.get(c).level == "group"]
    population: str | None = None
    level = "county" if "county" in sets else "city" if "city" in sets else "township" if "township" in sets else None
    which = "which" in kw
    plain = [c for c in named if c not in group_codes]
    if cls is not None:
        population = f"class:{cls}"
    elif level == "township":
        cs = [c for c in plain if geo.get(c).level == "county"]
        if len(cs) != 1:
            return Clarification("ambiguous_region", "请说明是哪个县（市、区）的乡镇（街道）。",
                                 "Townships of which county?", words=("乡镇",))
        population, plain = f"townships:{cs[0]}", [c for c in plain if c != cs[0]]
    elif level == "city":
        population = "cities"
        plain = [c for c in plain if c != PROVINCE]
    elif level == "county" or (which and (condition or rank or forecast)):
        cities = [c for c in plain if geo.get(c).level == "city"]
        if group_codes:
            population, group_codes = f"group:{group_codes[0]}", group_codes[1:]
        elif len(cities) == 1:
            population, plain = f"city:{cities[0]}", [c for c in plain if c != cities[0]]
        elif not [c for c in plain if geo.get(c).level in ("county", "township")] or level == "county":
            population = "counties" if PROVINCE in plain else home_pop
            plain = [c for c in plain if c != PROVINCE]
    elif rank in ("top", "bottom") and group_codes:
        population, group_codes = f"group:{group_codes[0]}", group_codes[1:]
    elif rank in ("top", "bottom") and len([c for c in plain if geo.get(c).level == "city"]) == 1 and not [
            c for c in plain if geo.get(c).level in ("county", "township")]:
        city = next(c for c in plain if geo.get(c).level == "city")
        if PROVINCE in plain:  # "宁波在全省最高吗": the city among the cities, or its counties? asked, never dropped
            name = geo.get(city).name_zh
            return Clarification("ambiguous_region", f"是问{name}在各市中排第几，还是{name}各县的排名？",
                                 f"{geo.get(city).name_en} among the cities, or the counties of {geo.get(city).name_en}?",
                                 words=(name,))
        population, plain = f"city:{city}", []
    regions_out = [*plain, *group_codes] if population is None or not population.startswith("group:") else plain
    # group validity on the period's end
    for g in ([population.partition(":")[2]] if population and population.startswith("group:") else []) + [
            c for c in regions_out if geo.get(c).level == "group"]:
        if not geo.group_valid_on(g, period.end):
            r = geo.get(g)
            now = [x for x in geo.groups if x != g and geo.group_valid_on(x, period.end)]
            return Clarification(
                "group_not_valid",
                f"{r.name_zh}只在{r.valid_from:%Y年%m月}至{r.valid_to:%Y年%m月}有效，{period.label}时没有这个分组。" if r.valid_to
                else f"{r.name_zh}自{r.valid_from:%Y年%m月}起有效，{period.label}时还没有这个分组。",
                f"{r.name_en} exists only from {r.valid_from} to {r.valid_to or 'now'}, not in {period.label}.",
                candidates=tuple(geo.get(x).name_zh for x in now), words=(r.name_zh,))
    if population and population.startswith("class:") and not class_members(cls or "", period.end, geo):
        return Clarification("group_not_valid", f"{cls}是山区26县的分类，{period.label}时已没有这个分组。",
                             f"{cls} is a class of the 26 mountainous counties, which did not exist in {period.label}.",
                             candidates=("山区海岛25县",), words=(cls or "",))
    if condition in ("overdue", "not_reported"):
        intent = "not_reported"
    elif forecast:
        intent = "forecast"
        if at_risk:
            condition = "at_risk"
    elif "trend" in kw or f.months:
        intent = "trend"
    elif rank is not None and (population or rank in ("top", "bottom") or len(regions_out) <= 1):
        intent = "ranking"
        if rank == "all" and regions_out and not which:
            rank = "position"
        if population is None and rank in ("top", "bottom", "all"):
            population = home_pop
    elif condition and (population or which):
        intent = "status_list"
        if population is None:
            population = home_pop
    elif len(regions_out) >= 2 or ("compare" in kw and len(regions_out) >= 2):
        intent = "compare"
    elif kw.get("change"):
        intent = "change"
    else:
        intent = "value"
    if "hl" in kw and intent != "compare" and intent != "ranking":
        return Clarification("unknown_word", "没看懂“高/低”指什么：要问排名（最高、前五）还是对比（杭州和宁波哪个高）？",
                             "“High/low” of what: a ranking (highest, top five) or a comparison of named regions?",
                             words=tuple(w for w in ("高", "低", "好", "差") if w in question))
    if "hl" in kw and intent == "ranking" and rank not in ("top", "bottom"):
        return Clarification("unknown_word", "没看懂“高/低”指什么：要问最高、最低还是前几名？",
                             "“High/low” of what: the highest, the lowest or the top few?",
                             words=tuple(w for w in ("高", "低", "好", "差") if w in question))
    if intent == "change" and len(set(change)) != 1:
        return Clarification("change_basis", "是问环比（比上期）还是同比（比去年同期）？",
                             "Change on the previous period (环比) or on the same period last year (同比)?",
                             candidates=("环比", "同比"))
    # -- KPIs -------------------------------------------------------------------------------------
    if not kpis and intent not in ("not_reported", "forecast"):
        heads = tuple(k.name_zh for k in cat.headline_kpis())
        return Clarification("missing_kpi", "请说明是哪个指标，例如：一网通办率、浙里办日活、掌上办理率。",
                             "Which KPI? e.g. online handling rate, Zheliban daily actives, mobile handling rate.",
                             candidates=heads)
    if not kpis and intent == "forecast" and condition != "at_risk":
        return Clarification("missing_kpi", "请说明是哪个指标的年底目标。", "The year-end target of which KPI?",
                             candidates=tuple(k.name_zh for k in cat.headline_kpis()))
    if len(kpis) > 1 and intent not in ("value", "forecast"):
        return Clarification("two_questions", "一次问一个指标的排名、名单、变化、对比或走势。",
                             "One KPI at a time for a ranking, list, change, comparison or trend.",
                             candidates=tuple(cat.kpi(k).name_zh for k in kpis))
    level = {m.code: m.level for m in cat.measures}
    province_only = [k for k in kpis if level[cat.kpi(k).measures[0]] == "province"]
    below = [c for c in regions_out if c != PROVINCE] + ([population] if population else [])
    if province_only and (below or intent in ("ranking", "status_list", "not_reported")):
        names = "、".join(cat.kpi(k).name_zh for k in province_only)
        return Clarification("province_only", f"“{names}”只有全省数据，没有分地区的数字、排名或名单。",
                             f"{', '.join(cat.kpi(k).name_en for k in province_only)} is measured for the province "
                             "only: no regional figures, rankings or lists.",
                             candidates=tuple(f"全省{cat.kpi(k).name_zh}" for k in province_only))
    tk = set(township_kpis(cat))
    touched = [c for c in regions_out if c in geo.townships] or (
        [population] if population and population.startswith("townships:") else [])
    if touched and any(k not in tk for k in kpis):
        bad = [cat.kpi(k).name_zh for k in kpis if k not in tk]
        return Clarification("not_township_kpi", f"乡镇（街道）没有“{'、'.join(bad)}”这个指标。",
                             f"{', '.join(bad)} is not measured per township.",
                             candidates=tuple(cat.kpi(k).name_zh for k in sorted(tk)))
    if intent in ("value", "change", "trend", "forecast") and not regions_out and population is None:
        regions_out = [home]
    if intent == "ranking" and rank == "position" and population is None and field_of_rank:
        population = field_of_rank
    if intent == "forecast":  # forecasts are made as of a month: the period's last one
        period = Period.month(period.end.year, period.end.month)
    if intent == "ranking" and rank == "position" and population is None:
        lv = geo.get(regions_out[0]).level
        population = ("cities" if lv == "city" else f"townships:{geo.get(regions_out[0]).parent_code}"
                      if lv == "township" else "counties")
    months = f.months if intent == "trend" else None
    if intent == "trend" and months is None:
        months = 12
    return Query(
        intent=intent,  # type: ignore[arg-type]
        kpis=tuple(kpis),
        regions=tuple(regions_out),
        population=population,
        period=period.label,
        compare_to=(change[0] if intent == "change" else None),  # type: ignore[arg-type]
        months=months,
        rank=rank if intent == "ranking" else None,  # type: ignore[arg-type]
        n=n if intent == "ranking" and rank in ("top", "bottom") else None,
        condition=condition if intent in ("status_list", "not_reported", "forecast", "value") else None,
        asked_period=f.asked.label if f.asked is not None else None,
    )
