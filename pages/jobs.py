"""定时任务: what the scheduler process does, read from the database (scheduler.status): every job
with its schedule, last run, next run and failures, who holds the scheduler lease, and the open
逾期未报 alerts the freshness job raised.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from scheduler import status
from scheduler.jobs import open_alerts
from scheduler.service import JOB_IDS, Config
from ui import auth as ui_auth
from ui import data, push_admin
from ui.i18n import t
from ui.shell import ctx as get_ctx
from ui.shell import header

RUN_COLOUR = {"succeeded": "#22c55e", "running": "#38bdf8", "retrying": "#f59e0b", "failed": "#ef4444",
              "skipped": "#94a3b8"}

ctx = get_ctx()
L = ctx.lang
eng = data.engine()
engine, geo = eng.store.engine, eng.geo
header(ctx, t("nav_jobs", L))
ui_auth.require("jobs", L)  # administrators only
cfg = Config()
now = dt.datetime.now().replace(microsecond=0)


def when(v) -> str:
    return "—" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M:%S")


def secs(v) -> str:
    if v is None or pd.isna(v):
        return "—"
    return f"{v:.1f} s" if v < 120 else f"{v / 60:.1f} min"


def every(job: str, s: float) -> str:
    if job == "snapshot":
        return t("data_jobs_every_night", L, hour=cfg.snapshot_hour)
    if s % 3600 == 0:
        return t("data_jobs_every_h", L, n=int(s // 3600))
    if s % 60 == 0:
        return t("data_jobs_every_min", L, n=int(s // 60))
    return t("data_jobs_every_s", L, n=f"{s:g}")


def run_label(s) -> str:
    if s is None or (isinstance(s, float) and pd.isna(s)):
        return "—"
    return t(f"data_run_{s}", L) if s in RUN_COLOUR else str(s)


def count(v) -> str:
    return "—" if v is None or pd.isna(v) else str(int(v))


def coloured(df: pd.DataFrame, col: str, codes: list) -> object:
    cs = [RUN_COLOUR.get(c, "#cbd5e1") for c in codes]
    return df.style.apply(lambda _: [f"color: {c}" for c in cs], subset=[col])


top_a, top_b = st.columns([5, 1])
with top_b:
    st.button(t("data_refresh", L), key="jobs_refresh", icon=":material/refresh:")
lease = status.lease(engine, now)
with top_a:
    if lease["live"]:
        st.success(t("data_jobs_lease_live", L, holder=lease["holder"], since=when(lease["acquired_at"]),
                     beat=when(lease["heartbeat_at"]), until=when(lease["expires_at"])), icon=":material/lock:")
    elif lease["holder"]:
        st.warning(t("data_jobs_lease_expired", L, holder=lease["holder"], until=when(lease["expires_at"])),
                   icon=":material/lock_open:")
    else:
        st.warning(t("data_jobs_lease_none", L), icon=":material/lock_open:")

jobs = status.job_table(engine, cfg, now)
codes = list(jobs["last_status"])
table = pd.DataFrame({
    t("data_jobs_col_job", L): [t(f"data_job_{j}", L) for j in jobs["job_id"]],
    t("data_jobs_col_every", L): [every(j, s) for j, s in zip(jobs["job_id"], jobs["interval_s"], strict=True)],
    t("data_jobs_col_last", L): [run_label(s) for s in codes],
    t("data_jobs_col_started", L): [when(v) for v in jobs["last_started"]],
    t("data_jobs_col_duration", L): [secs(v) for v in jobs["last_duration_s"]],
    t("data_jobs_col_attempt", L): [count(v) for v in jobs["last_attempt"]],
    t("data_jobs_col_message", L): [m or "—" for m in jobs["last_message"]],
    t("data_jobs_col_success", L): [when(v) for v in jobs["last_success"]],
    t("data_jobs_col_next", L): [
        when(n) if n is not None and not pd.isna(n) else t("data_jobs_next_none", L) + (
            " · " + t("data_jobs_overdue", L) if o else "")
        for n, o in zip(jobs["next_run"], jobs["overdue"], strict=True)],
    t("data_jobs_col_failures", L): jobs["n_failures"],
})
st.markdown(f"#### {t('data_jobs_title', L)}")
st.dataframe(coloured(table, t("data_jobs_col_last", L), codes), hide_index=True, width="stretch",
             column_config={t("data_jobs_col_message", L): st.column_config.TextColumn(width="large")})
st.caption(t("data_jobs_help", L, attempts=cfg.attempts, backoff=f"{cfg.backoff:g}", ttl=f"{cfg.lease_ttl:g}"))

st.markdown(f"#### {t('data_jobs_failures', L)}")
job_names = {j: t(f"data_job_{j}", L) for j in JOB_IDS}
pick = st.selectbox(t("data_jobs_filter", L), ["", *JOB_IDS], key="jobs_pick",
                    format_func=lambda j: job_names.get(j, t("data_all", L)))
fails = status.failures(engine, limit=100, job_id=pick or None)
if fails.empty:
    st.caption(t("data_jobs_no_failures", L))
else:
    fcodes = list(fails["status"])
    ft = pd.DataFrame({
        t("data_jobs_col_job", L): [job_names.get(j, j) for j in fails["job_id"]],
        t("data_jobs_col_started", L): [when(v) for v in fails["started_at"]],
        t("data_jobs_col_attempt", L): fails["attempt"],
        t("data_jobs_col_last", L): [t("data_jobs_retried", L) if s == "retrying" else run_label(s) for s in fcodes],
        t("data_jobs_col_duration", L): [secs(v) for v in fails["duration_s"]],
        t("data_jobs_col_error", L): fails["message"].fillna("—"),
        t("data_jobs_col_instance", L): fails["instance_id"].fillna("—"),
    })
    st.dataframe(coloured(ft, t("data_jobs_col_last", L), fcodes), hide_index=True, width="stretch",
                 height=min(400, 38 + 35 * len(ft)),
                 column_config={t("data_jobs_col_error", L): st.column_config.TextColumn(width="large")})
    with st.expander(t("data_jobs_error_full", L)):
        rid = st.selectbox(t("data_jobs_run", L), list(fails["id"]), key="jobs_run_id",
                           format_func=lambda i: f"#{i}")
        st.code(str(fails.loc[fails["id"] == rid, "error"].iloc[0] or ""), language=None)

with st.expander(t("data_jobs_recent", L)):
    recent = status.recent_runs(engine, limit=50, job_id=pick or None)
    if recent.empty:
        st.caption(t("data_jobs_no_runs", L))
    else:
        rcodes = list(recent["status"])
        st.dataframe(coloured(pd.DataFrame({
            t("data_jobs_col_job", L): [job_names.get(j, j) for j in recent["job_id"]],
            t("data_jobs_col_started", L): [when(v) for v in recent["started_at"]],
            t("data_jobs_col_attempt", L): recent["attempt"],
            t("data_jobs_col_last", L): [run_label(s) for s in rcodes],
            t("data_jobs_col_duration", L): [secs(v) for v in recent["duration_s"]],
            t("data_jobs_col_rows", L): [count(v) for v in recent["rows_affected"]],
            t("data_jobs_col_message", L): recent["message"].fillna("—"),
        }), t("data_jobs_col_last", L), rcodes), hide_index=True, width="stretch")

st.markdown(f"#### {t('data_jobs_alerts', L)}")
alerts = pd.DataFrame(open_alerts(eng.store))
if alerts.empty:
    st.caption(t("data_jobs_no_alerts", L))
else:
    st.dataframe(pd.DataFrame({
        t("data_col_region", L): [geo.get(r).name(L) if r in geo.regions else r for r in alerts["region_code"]],
        t("data_col_period", L): alerts["period"],
        t("data_jobs_col_due", L): [f"{d:%Y-%m-%d}" for d in alerts["due_date"]],
        t("data_jobs_col_opened", L): [when(v) for v in alerts["opened_at"]],
        t("data_jobs_col_message", L): [
            t("data_jobs_alert_msg", L, county=geo.get(r).name(L) if r in geo.regions else r, period=p)
            for r, p in zip(alerts["region_code"], alerts["period"], strict=True)],
    }), hide_index=True, width="stretch", height=min(360, 38 + 35 * len(alerts)))

push_admin.delivery_log(engine, L)
