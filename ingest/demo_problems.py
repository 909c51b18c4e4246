"""Deterministic demo of the 七张问题清单 register: problems per county with their history.

Counties find problems at a rate that grows with population; each has a source (the seven lists),
an owning unit, a deadline (30 to 180 days), and is closed on time, closed late or still open,
with county effects (山区 counties and a few others slower). Events (found, assigned, progress,
overdue warning, closed) are kept only up to the demo's last day. No number here is real.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from metrics.geography import Geography
from metrics.problems import status_at

START = dt.date(2021, 1, 1)
HORIZON_DAYS = (dt.date(2026, 12, 1) - START).days  # the demo's trend horizon (ingest.demo.HORIZON_MONTHS)
# source -> (probability, finder zh/en, [(title zh, title en, owning unit zh, owning unit en)])
SOURCES: dict[str, tuple[float, str, str, list[tuple[str, str, str, str]]]] = {
    "inspection": (0.12, "省委巡视组", "Provincial inspection team", [
        ("巡视反馈：{county}重大决策部署落实不到位", "Inspection: major policy decisions not fully implemented in {county}",
         "县委办", "County Party Committee Office"),
        ("巡视反馈：基层党组织建设薄弱", "Inspection: weak grassroots party organisation", "县委组织部", "County Organisation Department"),
        ("巡视反馈：选人用人程序不规范", "Inspection: irregular cadre selection procedures", "县委组织部",
         "County Organisation Department"),
    ]),
    "audit": (0.14, "审计部门", "Audit office", [
        ("审计发现：专项资金拨付滞后", "Audit: earmarked funds disbursed late", "县财政局", "County Finance Bureau"),
        ("审计发现：政府投资项目超概算", "Audit: government investment project over budget", "县发展改革局",
         "County Development and Reform Bureau"),
        ("审计发现：国有资产管理不规范", "Audit: state assets poorly managed", "县财政局", "County Finance Bureau"),
    ]),
    "supervision": (0.20, "督查室", "Supervision office", [
        ("督查发现：重点项目进度滞后", "Supervision: key project behind schedule", "县发展改革局",
         "County Development and Reform Bureau"),
        ("督查发现：民生实事推进缓慢", "Supervision: livelihood projects progressing slowly", "县政府办", "County Government Office"),
        ("督查发现：政务服务“一件事”未按期上线", "Supervision: 'one matter' service not launched on time",
         "县政务服务中心", "County Government Service Centre"),
    ]),
    "eco": (0.16, "生态环境部门", "Ecology and environment department", [
        ("生态环保：河道水质断面超标", "Environment: river water quality section above limits", "县生态环境分局",
         "County Ecology and Environment Branch"),
        ("生态环保：工业企业废气排放超标", "Environment: industrial emissions above limits", "县生态环境分局",
         "County Ecology and Environment Branch"),
        ("生态环保：建筑垃圾违规倾倒", "Environment: illegal dumping of construction waste", "县综合行政执法局",
         "County Comprehensive Law Enforcement Bureau"),
    ]),
    "safety": (0.18, "应急管理部门", "Emergency management department", [
        ("安全生产：危化品企业隐患未闭环", "Work safety: hazardous-chemicals hazard not closed", "县应急管理局",
         "County Emergency Management Bureau"),
        ("安全生产：自建房安全隐患排查不彻底", "Work safety: self-built housing checks incomplete", "县住房和城乡建设局",
         "County Housing and Construction Bureau"),
        ("安全生产：消防通道堵塞问题反复", "Work safety: blocked fire lanes recurring", "县消防救援大队",
         "County Fire and Rescue Brigade"),
    ]),
    "opinion": (0.10, "网信部门", "Cyberspace affairs office", [
        ("网络舆情：物业服务投诉集中", "Public opinion: complaints about property management", "县住房和城乡建设局",
         "County Housing and Construction Bureau"),
        ("网络舆情：学校周边交通拥堵", "Public opinion: traffic jams around schools", "县公安局", "County Public Security Bureau"),
    ]),
    "petition": (0.10, "信访部门", "Letters and visits bureau", [
        ("信访：征地补偿诉求", "Petition: land requisition compensation", "县自然资源和规划局",
         "County Natural Resources and Planning Bureau"),
        ("信访：农民工工资拖欠", "Petition: unpaid migrant workers' wages", "县人力社保局",
         "County Human Resources and Social Security Bureau"),
        ("信访：老旧小区改造纠纷", "Petition: dispute over old housing estate renovation", "县住房和城乡建设局",
         "County Housing and Construction Bureau"),
    ]),
}
DEADLINE_DAYS = np.array([30, 60, 90, 180])
DEADLINE_P = np.array([0.2, 0.35, 0.3, 0.15])
SELF_FOUND_P = {"inspection": 0.05, "audit": 0.15, "supervision": 0.45, "eco": 0.35, "safety": 0.5, "opinion": 0.3,
                "petition": 0.2}
PROBLEM_COLUMNS = ["id", "code", "source", "region_code", "title_zh", "title_en", "owner_zh", "owner_en", "self_found",
                   "found_date", "deadline", "closed_date", "status", "is_demo"]
EVENT_COLUMNS = ["id", "problem_id", "event_date", "kind", "actor_zh", "actor_en", "note_zh", "note_en"]


def generate_problems(geo: Geography, seed: int, last_day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Problems found from 2021-01 to `last_day`, and their events up to `last_day`."""
    rng = np.random.default_rng(seed + 7)
    codes = list(SOURCES)
    probs = np.array([SOURCES[c][0] for c in codes])
    probs = probs / probs.sum()
    shanqu = set(geo.members("SHANQU26", dt.date(2022, 1, 1)))
    n_days = (last_day - START).days + 1
    problems: list[dict] = []
    events: list[dict] = []
    for county in geo.counties:
        reg = geo.get(county)
        pop = (reg.population or 300_000) / 1e4
        rate = 2 * (0.35 + 0.012 * pop) * n_days / 30.4  # problems over the whole span
        n = int(rng.poisson(rate))
        skill = rng.normal(0, 0.6) - (0.4 if county in shanqu else 0.0)  # county's closing discipline
        improving = rng.normal(0, 0.8)  # and how fast it improves: a few improvers, a few slipping back
        found = np.sort(rng.integers(0, n_days, size=n))
        for j, off in enumerate(found):
            tf = min(1.2, off / HORIZON_DAYS)  # the province tightens discipline over the years
            p_ontime = 1 / (1 + np.exp(-(1.5 + 1.6 * tf + skill + improving * (tf - 0.5))))
            src = codes[int(rng.choice(len(codes), p=probs))]
            _, finder_zh, finder_en, templates = SOURCES[src]
            tz, te, oz, oe = templates[int(rng.integers(0, len(templates)))]
            name_zh, name_en = reg.name_zh, reg.name_en
            found_date = START + dt.timedelta(days=int(off))
            deadline = found_date + dt.timedelta(days=int(rng.choice(DEADLINE_DAYS, p=DEADLINE_P)))
            duration = (deadline - found_date).days
            u = rng.random()
            if u < p_ontime:
                closed = found_date + dt.timedelta(days=int(rng.integers(max(5, duration // 4), duration + 1)))
            elif u < p_ontime + (1 - p_ontime) * 0.7:
                closed = deadline + dt.timedelta(days=int(rng.integers(3, 120)))
            else:
                closed = None  # still open: overdue once its deadline passes
            closed = closed if closed is not None and closed <= last_day else None
            pid = len(problems) + 1
            self_found = bool(rng.random() < SELF_FOUND_P[src])
            status = status_at(found_date, deadline, closed, last_day)
            owner_zh = oz.replace("县", name_zh, 1) if oz.startswith("县") else oz
            owner_en = oe.replace("County", name_en, 1) if oe.startswith("County") else oe
            problems.append(dict(
                id=pid, code=f"WT-{found_date:%Y}-{county}-{j + 1:04d}", source=src, region_code=county,
                title_zh=tz.format(county=name_zh), title_en=te.format(county=name_en), owner_zh=owner_zh[:64],
                owner_en=owner_en[:128], self_found=self_found, found_date=found_date, deadline=deadline,
                closed_date=closed, status=status, is_demo=True,
            ))
            finder = (name_zh + "自查", f"{name_en} self-check") if self_found else (finder_zh, finder_en)
            evs = [(found_date, "found", *finder, "发现问题并录入清单", "Problem found and entered on the list")]
            assigned = found_date + dt.timedelta(days=int(rng.integers(1, 6)))
            evs.append((assigned, "assigned", name_zh + "改革办", f"{name_en} reform office",
                        f"交办{owner_zh}，整改期限{deadline:%Y-%m-%d}", f"Assigned to {owner_en}, deadline {deadline:%Y-%m-%d}"))
            mid = found_date + dt.timedelta(days=max(2, duration // 2))
            if closed is None or mid < closed:
                evs.append((mid, "progress", owner_zh, owner_en, "报送整改进展", "Progress report filed"))
            if (closed is None or closed > deadline) and deadline + dt.timedelta(days=1) <= last_day:
                evs.append((deadline + dt.timedelta(days=1), "overdue", "系统", "System",
                            "超过整改期限，亮红灯预警", "Past the deadline: red warning"))
            if closed is not None:
                evs.append((closed, "closed", name_zh + "改革办", f"{name_en} reform office",
                            "整改完成，审核通过，予以销号", "Correction verified, problem closed"))
            for d, kind, az, ae, nz, ne in sorted(evs, key=lambda e: e[0]):
                if d <= last_day:
                    events.append(dict(id=len(events) + 1, problem_id=pid, event_date=d, kind=kind, actor_zh=az[:64],
                                       actor_en=ae[:128], note_zh=nz[:300], note_en=ne[:400]))
    return pd.DataFrame(problems, columns=PROBLEM_COLUMNS), pd.DataFrame(events, columns=EVENT_COLUMNS)
