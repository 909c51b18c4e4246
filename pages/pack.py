"""The monthly meeting pack: freeze the period (定版), see what changed since, export PPTX and PDF,
start presentation mode. The pack shows the frozen figures; later corrections appear only in the
changed-since-freeze list."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from auth import audit, policy
from metrics.periods import Period
from pack.cells import fmt_value
from pack.export import MIME, render
from pack.freeze import (
    FreezeError,
    changed_since_freeze,
    changes_csv,
    coverage_of,
    freeze_period,
    get_freeze,
    list_freezes,
)
from ui import auth, data, present
from ui.i18n import t
from ui.shell import ctx as get_ctx
from ui.shell import header


def _rank(v: object) -> str:
    """A rank as text: a region without one (not ranked, no value) shows a dash, never "None"."""
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    return "—" if pd.isna(x) else str(int(x))


ctx = get_ctx()
L = ctx.lang
user = auth.require("export_pack", L)
eng = present.pack_engine(L)  # the pack shows every region: the read boundary refuses any scope but the province
geo, cat = eng.geo, eng.catalogue
header(ctx, t("pack_title", L))
# a month, or the two-month period (双月, the bimonthly evaluation) that holds it
span = st.segmented_control(t("pack_span", L), ["month", "bimonth"], key="pack_span", required=True, default="month",
                            format_func=lambda x: t(f"pack_span_{x}", L))
m = ctx.period.start
period = ctx.period.label if span != "bimonth" else Period.bimonth(m.year, (m.month - 1) // 2 + 1).label

# -- freeze -----------------------------------------------------------------------------------------
st.subheader(t("pack_freeze_head", L))
st.caption(t("pack_freeze_help", L))
# a period short of county reports is frozen only after a confirmation that names who is missing
cov = coverage_of(data.reader().bulk(period))
force = True
if not cov["complete"]:
    names = [geo.get(x).name(L) for x in cov["not_reported"]]
    shown = ("、" if L == "zh" else ", ").join(names[:15]) + (t("pack_and_more", L, n=len(names) - 15)
                                                             if len(names) > 15 else "")
    st.warning(t("pack_incomplete_pending" if cov["pending"] else "pack_incomplete_overdue", L, period=period,
                 n=cov["n_reported"], of=cov["n_expected"], k=len(cov["overdue"]), names=shown),
               icon=":material/warning:")
    force = st.checkbox(t("pack_force_confirm", L, n=cov["n_reported"], of=cov["n_expected"]),
                        key=f"pack_force_{period}")
a, b, c = st.columns([1, 2, 1])
with a:
    st.text_input(t("pack_user", L), value=user.username, key="pack_user", disabled=True)  # who: the signed-in user
with b:
    note = st.text_input(t("pack_note", L), key="pack_note")
with c:
    st.write("")
    if st.button(t("pack_freeze_btn", L, period=period), key="pack_freeze", type="primary",
                 disabled=not policy.can(user.role, "freeze") or not force):
        try:
            fz = freeze_period(eng, period, user=user.username, note=note or None, force=force)
            audit.record(eng.store, user.username, "freeze", period, f"freeze #{fz.id}" + (f": {note}" if note else ""))
            st.session_state[f"pack_src_{period}"] = fz.id  # show the new freeze (the radio is drawn below)
            st.success(t("pack_frozen_ok", L, id=fz.id, at=f"{fz.known_at:%Y-%m-%d %H:%M:%S}"))
        except FreezeError as exc:
            st.error(str(exc))

freezes = list_freezes(eng.store.engine, period)
if freezes:
    st.markdown(f"**{t('pack_freezes', L)}**")
    st.dataframe(pd.DataFrame([{"#": f.id, t("pack_period", L): f.period,
                                t("pack_freeze_head", L): f"{f.known_at:%Y-%m-%d %H:%M:%S}",
                                t("pack_user", L): f.frozen_by or "—", t("pack_note", L): f.note or ""}
                               for f in freezes]), hide_index=True, width="stretch")
else:
    st.info(t("pack_not_frozen", L, period=period))

options = [f.id for f in freezes] + [0]
labels = {f.id: t("pack_use_freeze", L, id=f.id, at=f"{f.known_at:%Y-%m-%d %H:%M}") for f in freezes}
labels[0] = t("pack_use_live", L)
src = st.radio(t("pack_use", L), options, format_func=labels.get, key=f"pack_src_{period}", horizontal=True)
freeze_id = src or None

# -- changed since freeze ---------------------------------------------------------------------------
if freeze_id:
    st.subheader(t("pack_changes_head", L))
    fz = get_freeze(eng.store.engine, freeze_id)
    ch = changed_since_freeze(eng, fz)
    if ch.empty:
        st.success(t("pack_changes_none", L))
    else:
        st.warning(t("pack_changes_n", L, n=len(ch)))
        kpis = {k.code: k for k in cat.kpis}
        shown = pd.DataFrame({
            t("pack_ch_kpi", L): [kpis[k].name(L) for k in ch["kpi"]],
            t("pack_ch_region", L): [geo.get(r).name(L) for r in ch["region"]],
            t("pack_ch_frozen", L): [fmt_value(v, kpis[k], L) for k, v in zip(ch["kpi"], ch["frozen_value"], strict=True)],
            t("pack_ch_now", L): [fmt_value(v, kpis[k], L) for k, v in zip(ch["kpi"], ch["current_value"], strict=True)],
            t("pack_ch_frozen_rank", L): [_rank(v) for v in ch["frozen_rank"]],
            t("pack_ch_now_rank", L): [_rank(v) for v in ch["current_rank"]],
            t("pack_ch_batches", L): [", ".join(f"#{b}" + (t("pack_ch_rolled_back", L) if b in rb else "") for b in bs)
                                      for bs, rb in zip(ch["batches"], ch["rolled_back"], strict=True)],
        })
        st.dataframe(shown, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(shown)))
        st.download_button(t("pack_dl_changes", L), changes_csv(ch), f"changes_{period}_freeze{fz.id}.csv",
                           "text/csv", key="pack_dl_changes")

# -- export and presentation ------------------------------------------------------------------------
st.subheader(t("pack_export_head", L))
x, y, z = st.columns([1, 1, 2])
with x:
    pack_lang = st.radio(t("pack_lang", L), ["zh", "en"], index=0 if L == "zh" else 1, key="pack_lang",
                         format_func={"zh": "中文", "en": "English"}.get, horizontal=True)
with y:
    st.write("")
    build = st.button(t("pack_build", L), key="pack_build")
with z:
    st.write("")
    q = f"period={ctx.period.label}&pack_period={period}&lang={pack_lang}" + (f"&freeze={freeze_id}" if freeze_id else "&live=1")
    st.markdown(f'<a href="present?{q}" target="_self" data-testid="pack-present-link">▶ {t("pack_present", L)}</a>'
                f' <span style="color:var(--c-muted)">{t("pack_present_help", L)}</span>', unsafe_allow_html=True)
key = (period, pack_lang, freeze_id, 0 if freeze_id else data.version())
if build:
    deck = present.deck(period, pack_lang, freeze_id)
    with st.spinner("…"):
        files = {fmt: render(deck, fmt) for fmt in ("pptx", "pdf")}
    audit.record(eng.store, user.username, "export", period,
                 f"pack {pack_lang} pptx+pdf, " + (f"freeze #{freeze_id}" if freeze_id else "live"))
    st.session_state["pack_files"] = (key, files)
built = st.session_state.get("pack_files")
if built and built[0] == key:
    files = built[1]
    st.caption(t("pack_built", L, seconds=f"{sum(f.seconds for f in files.values()):.1f}"))
    d1, d2, _ = st.columns([1, 1, 2])
    with d1:
        st.download_button(t("pack_dl_pptx", L), files["pptx"].data, files["pptx"].file_name, MIME["pptx"],
                           key="pack_dl_pptx", type="primary")
    with d2:
        st.download_button(t("pack_dl_pdf", L), files["pdf"].data, files["pdf"].file_name, MIME["pdf"],
                           key="pack_dl_pdf", type="primary")
