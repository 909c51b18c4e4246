"""数据报送: a county officer (or the reform office) downloads the month's template, uploads the
filled file, reads the row- and column-precise findings and the preview of every change, and
commits it as one batch; batches can be rolled back and a value's whole history is shown.

Nothing is written until the commit button (the check and preview are `ingest.importer.analyse`);
a refused file changes no figure but is logged (`ingest.quality.record_rejection`) for the
data-quality view.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import streamlit as st

from auth import audit, policy
from i18n import ZH
from ingest.formats import IMPORT_FORMATS
from ingest.importer import ImportOptions, ImportReport, analyse, import_bytes, rollback
from ingest.quality import record_rejection
from ingest.reader import DEFAULT_MAX_BYTES
from ingest.templates import reported_measures, template_bytes
from ingest.views import batch_history, changes_frame, file_months, fmt_value, issues_frame, reporting_months
from ingest.views import value_history as history_of
from metrics.geography import PROVINCE
from ui import auth as ui_auth
from ui import data, urlstate
from ui.html import md
from ui.i18n import t
from ui.shell import ctx as get_ctx
from ui.shell import header

OFFICE = "office"  # the reform office: any county, the file names its regions
# Streamlit's own drop-zone instructions and button word (English only), hidden for ours
# Streamlit's uploader cannot be translated: its instructions are hidden (ours are the caption above it)
# and its button's English word is kept for screen readers only (visually hidden, so the button keeps an
# accessible name) while the reader sees ours, drawn after it
CSS_UPLOAD = ("[data-testid='stFileUploaderDropzoneInstructions']{display:none}"
              "[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p{position:absolute;"
              "width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);"
              "white-space:nowrap;border:0}")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SEV_COLOUR = {"error": "#ef4444", "warning": "#f59e0b", "info": "#94a3b8"}
CHANGE_COLOUR = {"new": "#38bdf8", "changed": "#f59e0b", "unchanged": "#94a3b8"}
BATCH_COLOUR = {"committed": "#22c55e", "rolled_back": "#94a3b8"}

ctx = get_ctx()
L = ctx.lang
eng = data.engine()
store, geo, cat = eng.store, eng.geo, eng.catalogue
header(ctx, t("nav_data_in", L))
me = ui_auth.require("import", L)  # office (any county) or a county officer (own county only)


@data.cached(max_entries=64)
def _template(county: str, month: str) -> bytes:
    return template_bytes(county, month)


def county_label(code: str) -> str:
    if code == OFFICE:
        return t("data_office", L)
    return f"{geo.get(code).name(L)} · {code} · {geo.get(geo.city_of(code)).name(L)}"


def coloured(df: pd.DataFrame, col: str, colours: dict[str, str], codes: list[str]):
    """Colour the text of one column by the code behind each row (the shown text is translated)."""
    cs = [colours.get(c, "#cbd5e1") for c in codes]
    return df.style.apply(lambda _: [f"color: {c}" for c in cs], subset=[col])


counties = sorted(geo.counties, key=lambda c: (geo.city_of(c), c))
if ctx.scope != PROVINCE:
    counties = geo.counties_of(ctx.scope) + [c for c in counties if geo.city_of(c) != ctx.scope]
months = reporting_months(eng.today)

# -- who reports what ---------------------------------------------------------------------------------
a, b, c = st.columns([3, 1.2, 2])
with a:
    if me.role != "office":
        counties = [me.scope_code]
    reporter = urlstate.select(t("data_as", L), [OFFICE, *counties] if me.role == "office" else counties, "reporter",
                               format_func=county_label)
with b:
    month = urlstate.select(t("data_month", L), months, "month")
with c:
    # the signed-in account is the submitter of record; a person reported for is only a note
    on_behalf = st.text_input(t("data_user", L), key="data_user", placeholder=t("data_user_ph", L),
                              max_chars=64).strip()
    st.caption(t("data_submitter", L, user=md(me.username)))
county = None if reporter == OFFICE else reporter

# -- template -----------------------------------------------------------------------------------------
with st.container(border=True):
    st.markdown(f"**{t('data_template_title', L)}**")
    ta, tb = st.columns([3, 2])
    with ta:
        tcounty = county or st.selectbox(t("data_template_county", L), counties, key="data_tpl_county",
                                         format_func=county_label)
        st.caption(t("data_template_help", L, n=len(reported_measures(cat)), county=geo.get(tcounty).name(L),
                     month=month))
    with tb:
        st.download_button(t("data_template_dl", L, county=geo.get(tcounty).name(L), month=month),
                           _template(tcounty, month), f"{tcounty}_{month}.xlsx", XLSX, key="data_tpl",
                           icon=":material/download:", on_click="ignore")

# -- upload, check, preview, commit -------------------------------------------------------------------
st.markdown(f"#### {t('data_upload_title', L)}")
done = st.session_state.pop("data_done", None)
if done:
    st.success(done, icon=":material/check_circle:")
n_up = st.session_state.setdefault("data_upload_n", 0)
# Streamlit writes its drop-zone instructions and button in English only: hide them, say it in the
# reader's language (the button keeps working; its name comes from the generated content)
max_mb = DEFAULT_MAX_BYTES // 2**20
st.html(f"<style>{CSS_UPLOAD}[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer']::after"
        f"{{content:'{t('data_upload_button', L)}'}}</style>")
st.caption(t("data_upload_drop", L) + " · " + t("data_upload_limit", L, types=" / ".join(f.upper() for f in IMPORT_FORMATS),
                                                  mb=max_mb))
up = st.file_uploader(t("data_upload", L), type=list(IMPORT_FORMATS), key=f"data_upload_{n_up}",
                      help=t("data_upload_help", L), max_upload_size=max_mb)


def analysed(raw: bytes, name: str) -> ImportReport:
    """The check and preview of this file for this reporter, kept per session until the data moves."""
    key = (hashlib.sha256(raw).hexdigest(), name, county, data.version())
    memo = st.session_state.get("data_analysis")
    if memo is None or memo[0] != key:
        rep = analyse(raw, name, store, as_county=county, options=ImportOptions())
        rep.preview = True  # what the summary says: "preview: would add …", nothing written
        memo = (key, rep)
        st.session_state["data_analysis"] = memo
    return memo[1]


def show_issues(rep: ImportReport, limit: int = 100) -> None:
    """The findings as a plain table (long messages wrap; each names its row and column)."""
    df = issues_frame(rep, L)
    codes = list(df["severity"])[:limit]
    out = pd.DataFrame({
        t("data_col_severity", L): [t(f"data_sev_{s}", L) for s in codes],
        t("data_col_row", L): [str(r) if pd.notna(r) else "" for r in df["row"][:limit]],
        t("data_col_col", L): df["col"].fillna("")[:limit],
        t("data_col_message", L): df["message"][:limit],
    })
    st.table(coloured(out, t("data_col_severity", L), SEV_COLOUR, codes).hide(axis="index"))
    if len(df) > limit:
        st.caption(t("data_more_findings", L, n=len(df) - limit))


def show_preview(rep: ImportReport) -> None:
    counts = rep.counts()
    m1, m2, m3 = st.columns(3)
    m1.metric(t("data_new", L), counts["new"])
    m2.metric(t("data_changed", L), counts["changed"])
    m3.metric(t("data_unchanged", L), counts["unchanged"])
    ch = changes_frame(rep, cat, geo, L)
    if ch.empty:
        return
    show_all = st.toggle(t("data_show_unchanged", L), value=counts["new"] + counts["changed"] == 0, key="data_show_all")
    if not show_all:
        ch = ch[ch["status"] != "unchanged"]
    codes = list(ch["status"])
    out = pd.DataFrame({
        t("data_col_change", L): [t(f"data_{s}", L) for s in codes],
        t("data_col_region", L): ch["region"], t("data_col_measure", L): ch["measure"],
        t("data_col_period", L): ch["period"],
        t("data_col_old", L): [fmt_value(v) for v in ch["old_value"]],
        t("data_col_new", L): [fmt_value(v) for v in ch["value"]],
        t("data_col_delta", L): ["" if pd.isna(d) else f"{d:+,.6g}" for d in ch["delta"]],
        t("data_col_cell", L): [f"{col}{row}" if col else "" for row, col in zip(ch["row"], ch["col"], strict=True)],
        t("data_col_code", L): ch["measure_code"],
    })
    st.dataframe(coloured(out, t("data_col_change", L), CHANGE_COLOUR, codes), hide_index=True, width="stretch",
                 height=min(460, 38 + 35 * len(out)))


if up is not None:
    raw = up.getvalue()
    rep = analysed(raw, up.name)
    st.caption(t("data_file_meta", L, name=md(up.name), size=f"{len(raw) / 1024:,.1f}",
                 checksum=(rep.checksum or "—")[:16], sheet=rep.sheet or "—", layout=t(f"data_layout_{rep.layout}", L) if rep.layout else "—"))
    if rep.errors:
        st.error(rep.summary(L), icon=":material/block:")
        logged = st.session_state.setdefault("data_rejections_logged", set())
        mark = (rep.checksum, up.name, county, month)
        if mark not in logged:
            record_rejection(store, rep, source="upload", region_code=county, period=month, user=me.username)
            logged.add(mark)
        show_issues(rep)
        st.caption(t("data_fix_and_retry", L, month=month))
    else:
        if rep.warnings:
            st.warning(t("data_n_warnings", L, n=len(rep.warnings)), icon=":material/warning:")
        fm = file_months(rep)
        if county and fm and fm != [month]:
            st.warning(t("data_month_mismatch", L, file=", ".join(fm), month=month), icon=":material/event:")
        if rep.issues:
            show_issues(rep)
        st.markdown(f"**{t('data_preview_title', L)}** · {rep.summary(L)}")
        show_preview(rep)
        todo = rep.counts()["new"] + rep.counts()["changed"]
        if st.button(t("data_commit", L, n=todo), type="primary", key="data_commit", disabled=todo == 0,
                     icon=":material/save:"):
            if not policy.may_import(me.role, me.scope_code, county):
                audit.record(store, me.username, "import_refused", county or "office", up.name)
                st.error(t("auth_no_permission", L, role=ui_auth.role_name(me.role, L)))
                st.stop()
            # import_bytes audits the import itself (as every path does); a refusal is logged and audited here
            res = import_bytes(raw, up.name, store, as_county=county, user=me.username, on_behalf=on_behalf or None,
                               options=ImportOptions())
            if res.errors:
                record_rejection(store, res, source="upload", region_code=county, period=month, user=me.username)
            if res.batch_id is not None:
                st.session_state["data_done"] = res.summary(L)
                st.session_state["data_upload_n"] = n_up + 1  # a fresh uploader: the file is done
                st.session_state.pop("data_analysis", None)
                st.session_state["data_rb_id"] = res.batch_id  # the batch just made is the one to undo
                st.rerun()
            elif res.errors:  # the store moved since the preview and the file no longer passes
                st.error(res.summary(L))
                show_issues(res)
            else:
                st.info(res.summary(L))

# -- batches: history and rollback ---------------------------------------------------------------------
st.markdown(f"#### {t('data_batches_title', L)}")
rb_msg = st.session_state.pop("data_rb_msg", None)
if rb_msg:
    (st.success if rb_msg[0] else st.error)(rb_msg[1])
batches = batch_history(store, region=county, limit=200)
if batches.empty:
    st.caption(t("data_no_batches", L))
else:
    codes = list(batches["status"])
    shown = pd.DataFrame({
        t("data_col_batch", L): batches["id"],
        t("data_col_who", L): batches["submitted_by"].fillna("—"),
        t("data_col_when", L): pd.to_datetime(batches["committed_at"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
        t("data_col_file", L): batches["file_name"].fillna("—"),
        t("data_col_checksum", L): [x[:16] if isinstance(x, str) and x else "—" for x in batches["checksum"]],
        t("data_col_rows", L): batches["n_rows"],
        t("data_col_status", L): [t(f"data_bs_{s}", L) if s in BATCH_COLOUR else s for s in codes],
        t("data_col_region", L): [geo.get(r).name(L) if r in geo.regions else (r or "—") for r in batches["region_code"]],
        t("data_col_period", L): batches["period"].fillna("—"),
        t("data_col_source", L): [t(f"data_src_{s}", L) if f"data_src_{s}" in ZH else s for s in batches["source"]],
    })
    st.dataframe(coloured(shown, t("data_col_status", L), BATCH_COLOUR, codes), hide_index=True, width="stretch",
                 height=min(360, 38 + 35 * len(shown)))
    committed = batches[batches["status"] == "committed"]
    if not committed.empty and policy.can(me.role, "rollback"):
        info = {int(r.id): r for r in committed.itertuples()}
        ra, rb = st.columns([3, 1], vertical_alignment="bottom")
        with ra:
            pick = st.selectbox(
                t("data_rb_pick", L), list(info), key="data_rb_id",
                format_func=lambda i: t("data_rb_option", L, id=i, file=info[i].file_name or "—",
                                        who=info[i].submitted_by or "—", when=f"{info[i].committed_at:%Y-%m-%d %H:%M}",
                                        n=info[i].n_rows))
        with rb:
            if st.button(t("data_rb_button", L), key="data_rb", icon=":material/undo:"):
                st.session_state["data_rb_confirm"] = pick
        confirm = st.session_state.get("data_rb_confirm")
        if confirm is not None and confirm in info:
            st.warning(t("data_rb_confirm", L, id=confirm, n=info[confirm].n_rows,
                         file=md(info[confirm].file_name or "—")), icon=":material/warning:")
            ya, yb, _ = st.columns([1, 1, 5])
            if ya.button(t("data_rb_yes", L), type="primary", key="data_rb_yes"):
                ok, msg = rollback(store, confirm, me.username, L)  # type: ignore[arg-type]  (audited there)
                st.session_state["data_rb_msg"] = (ok, msg)
                st.session_state.pop("data_rb_confirm", None)
                st.session_state.pop("data_analysis", None)
                st.rerun()
            if yb.button(t("data_rb_no", L), key="data_rb_no"):
                st.session_state.pop("data_rb_confirm", None)
                st.rerun()

# -- a value's history --------------------------------------------------------------------------------
st.markdown(f"#### {t('data_history_title', L)}")
measures = reported_measures(cat)
mname = {m.code: (m.name_en if L == "en" else m.name_zh) for m in measures}
ha, hb, _ = st.columns([2, 3, 1]) if county is None else (None, *st.columns([3, 3]))
if ha is not None:
    with ha:
        hcounty = st.selectbox(t("data_history_county", L), counties, key="data_hist_county", format_func=county_label)
else:
    hcounty = county
with hb:
    hmeasure = st.selectbox(t("data_history_measure", L), [m.code for m in measures], key="data_hist_measure",
                            format_func=lambda code: f"{mname[code]} · {code}")
hist = history_of(store, hcounty, hmeasure, dt.date.fromisoformat(month + "-01"))
st.caption(t("data_history_help", L, county=geo.get(hcounty).name(L), month=month))
if hist.empty:
    st.caption(t("data_history_none", L))
else:
    st.dataframe(pd.DataFrame({
        t("data_col_batch", L): hist["batch_id"],
        t("data_col_value", L): [fmt_value(v) for v in hist["value"]],
        t("data_col_current", L): ["✓" if x else "" for x in hist["is_current"]],
        t("data_col_status", L): [t(f"data_bs_{s}", L) if s in BATCH_COLOUR else s for s in hist["status"]],
        t("data_col_who", L): hist["submitted_by"].fillna("—"),
        t("data_col_when", L): pd.to_datetime(hist["committed_at"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
        t("data_col_file", L): hist["file_name"].fillna("—"),
    }), hide_index=True, width="stretch")
