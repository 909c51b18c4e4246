"""The township level (乡镇街道) below the 90 counties: a synthetic register and the township KPIs.

Real township names, codes and populations are not available offline, so the register is
**synthetic demo reference data**, generated deterministically from the counties: ~1,360
townships (Zhejiang has about that many), each under a real county, coded county code + 3 digits
in the GB/T 10114 manner (街道 001–099, 镇 100–199, 乡 200–299), with plausible but invented
names and populations that sum exactly to their county's. Every screen showing them says so.

Townships are kept apart from `Geography.regions` (which the county-level engine, importer and
scopes iterate) in `Geography.townships`; `Geography.get` finds both.

Only the grassroots (基层智治) KPIs exist at township level: the four-platform events and the
12345 hotline are handled by townships, and their county figures are the sums of their
townships' (see ingest/demo_townships.py).
"""

from __future__ import annotations

import numpy as np

from metrics.catalogue import Catalogue

N_TOWNSHIPS = 1360
TOWNSHIP_SYSTEMS = ("grassroots",)
_SEED = 1360
SOURCE = "demo"  # population_source of every synthetic township

# invented place-name stems (zh, pinyin); combined with 街道/镇/乡 they read like real townships
_STEMS: tuple[tuple[str, str], ...] = (
    ("城东", "Chengdong"), ("城西", "Chengxi"), ("城南", "Chengnan"), ("城北", "Chengbei"), ("城关", "Chengguan"),
    ("新城", "Xincheng"), ("东湖", "Donghu"), ("西溪", "Xixi"), ("南山", "Nanshan"), ("北塘", "Beitang"),
    ("青山", "Qingshan"), ("白石", "Baishi"), ("双溪", "Shuangxi"), ("清溪", "Qingxi"), ("石门", "Shimen"),
    ("桃源", "Taoyuan"), ("梅林", "Meilin"), ("竹园", "Zhuyuan"), ("花桥", "Huaqiao"), ("长乐", "Changle"),
    ("安仁", "Anren"), ("永丰", "Yongfeng"), ("太平", "Taiping"), ("和平", "Heping"), ("新塘", "Xintang"),
    ("大洋", "Dayang"), ("金沙", "Jinsha"), ("银湖", "Yinhu"), ("凤凰", "Fenghuang"), ("龙溪", "Longxi"),
    ("马鞍", "Ma'an"), ("前溪", "Qianxi"), ("后岸", "Houan"), ("上塘", "Shangtang"), ("下洋", "Xiayang"),
    ("横山", "Hengshan"), ("岭南", "Lingnan"), ("云峰", "Yunfeng"), ("松岙", "Song'ao"), ("潮湾", "Chaowan"),
    ("海港", "Haigang"), ("湖滨", "Hubin"), ("江南", "Jiangnan"), ("江北", "Jiangbei"), ("文昌", "Wenchang"),
    ("新桥", "Xinqiao"), ("古塘", "Gutang"), ("柳溪", "Liuxi"), ("杏坛", "Xingtan"), ("丰乐", "Fengle"),
    ("仁和", "Renhe"), ("崇福", "Chongfu"), ("广德", "Guangde"), ("宁溪", "Ningxi"), ("瑞祥", "Ruixiang"),
    ("兴隆", "Xinglong"), ("黄泥", "Huangni"), ("枫林", "Fenglin"), ("溪口", "Xikou"), ("洋溪", "Yangxi"),
    ("芦浦", "Lupu"), ("沙田", "Shatian"), ("高桥", "Gaoqiao"), ("石塘", "Shitang"), ("塘下", "Tangxia"),
    ("莲花", "Lianhua"), ("茶山", "Chashan"), ("桐坞", "Tongwu"), ("梓坊", "Zifang"), ("柏树", "Baishu"),
)
_KIND = {"街道": ("Subdistrict", 1), "镇": ("Town", 100), "乡": ("Township", 200)}


def township_kpis(catalogue: Catalogue) -> list[str]:
    """KPIs that exist at township level: the grassroots system's ratios and counts of county measures."""
    out = []
    for k in catalogue.kpis:
        if k.system not in TOWNSHIP_SYSTEMS or k.kind == "yoy_growth":
            continue
        ms = [catalogue.measure(m) for m in k.measures]
        if all(m.level == "county" and m.grain == "month" for m in ms):
            out.append(k.code)
    return out


def township_measures(catalogue: Catalogue) -> list[str]:
    """Measures observed per township (those of the township KPIs)."""
    return sorted({m for k in township_kpis(catalogue) for m in catalogue.kpi(k).measures})


def _largest_remainder(total: int, weights: np.ndarray, floor: int = 0) -> np.ndarray:
    """Integers >= floor summing exactly to `total`, proportional to `weights`."""
    rest = total - floor * len(weights)
    raw = weights / weights.sum() * rest
    out = np.floor(raw).astype(int)
    short = rest - int(out.sum())
    if short:
        out[np.argsort(-(raw - out), kind="stable")[:short]] += 1
    return out + floor


def synthetic_register(counties: list[tuple[str, str, str | None, int]]) -> list[dict]:
    """~1,360 township records (code, name_zh, name_en, parent_code, type_zh, population).

    `counties`: (code, name_zh, type_zh, population) of the 90 counties. Deterministic: the same
    input always gives the same register. Districts (区) are mostly 街道, counties (县) mostly 镇/乡.
    """
    rng = np.random.default_rng(_SEED)
    pops = np.array([c[3] for c in counties], dtype=float)
    # how many townships: partly by population, partly equal (rural counties have many small ones)
    weights = 0.55 * pops / pops.sum() + 0.45 / len(counties)
    counts = _largest_remainder(N_TOWNSHIPS, weights, floor=5)
    out: list[dict] = []
    for (code, _name, ctype, pop), n in zip(counties, counts, strict=True):
        street_share = {"区": 0.65, "县级市": 0.3}.get(ctype or "", 0.1)
        n_street = max(1, int(round(n * street_share)))
        n_town = max(0, int(round((n - n_street) * 0.7)))
        kinds = ["街道"] * n_street + ["镇"] * n_town + ["乡"] * (n - n_street - n_town)
        stems = rng.choice(len(_STEMS), size=n, replace=False)
        # town populations: lognormal shares, streets larger than townships; exact county total
        scale = np.array([1.6 if k == "街道" else 1.0 if k == "镇" else 0.45 for k in kinds])
        share = scale * rng.lognormal(0.0, 0.45, size=n)
        tpop = _largest_remainder(int(pop), share, floor=min(800, int(pop) // (2 * n)))
        seq = {"街道": 0, "镇": 0, "乡": 0}
        for i, kind in enumerate(kinds):
            en_kind, base = _KIND[kind]
            number = base + seq[kind]
            seq[kind] += 1
            zh, en = _STEMS[int(stems[i])]
            out.append({
                "code": f"{code}{number:03d}", "name_zh": zh + kind, "name_en": f"{en} {en_kind}",
                "parent_code": code, "type_zh": kind, "population": int(tpop[i]),
            })
    return out


def visible_townships(df, allowed: frozenset[str], column: str = "county"):
    """Township rows a scope may read: those whose county it may read (a county scope sees its own
    townships, a city scope its counties', the province all). Townships are not listed in scope
    sets themselves (they would change what a county scope *is*); their county decides."""
    if df is None or column not in getattr(df, "columns", ()):
        return df
    return df[df[column].isin(allowed)]
