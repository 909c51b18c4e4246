"""批示督办: instructions in the user's view, one item's recorded figure and history, and
the forms of the next step: the owner replies (feedback + attachment descriptions) or marks it done;
the author (or the office) closes the loop or sends it back with a reason. `?item=<id>` opens an item.

Permissions are the service's (followup.service): this page only shows the forms the user may use,
and every step is checked again when it is written.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from followup import model
from followup import service as fs
from ui import auth, data, downloads, refusals, urlstate
from ui import followup_view as fv
from ui.html import md
from ui.i18n import t
from ui.shell import ctx as get_ctx
from ui.shell import header

ctx = get_ctx()
lang = ctx.lang
user = auth.require("followup", lang)
store = data.engine().store
header(ctx, t("followup_title", lang))
fs.escalate_overdue(store)
today = dt.date.today()
fv.flash(ctx)

items = fs.list_for(store, user)
mine = [i for i in items if fs.may_answer(user, i) or fs.may_conclude(user, i)]
a, b, c = st.columns([2, 3, 1], vertical_alignment="bottom")
with a:
    view = urlstate.select(t("followup_view", lang), ["mine", "all"], "fview", default="mine" if mine else "all",
                           format_func=lambda v: t("followup_mine" if v == "mine" else "followup_all", lang),
                           widget="segmented")
with b:
    statuses = st.multiselect(t("followup_filter_status", lang), list(model.STATUSES), key="fstatus",
                              format_func=lambda s: t(f"followup_st_{s}", lang),
                              placeholder=t("followup_any_status", lang), select_all=False)
with c:
    only_overdue = st.toggle(t("followup_filter_overdue", lang), key="foverdue")
shown = mine if view == "mine" else items
if statuses:
    shown = [i for i in shown if i.status in statuses]
if only_overdue:
    shown = [i for i in shown if i.is_overdue(today)]
st.caption(t("followup_summary", lang, **fs.counts(items, today)))

frame = fv.items_frame(shown, lang, today)
if shown:
    event = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         key="fu_table", column_config={t("followup_col_text", lang): st.column_config.TextColumn(
                             width="large")})
    rows = (event or {}).get("selection", {}).get("rows", []) if event else []
    if rows:
        st.query_params["item"] = str(shown[rows[0]].id)
    downloads.buttons(frame, t("followup_title", lang), lang, key="fu_dl")
else:
    st.info(t("followup_none_mine" if view == "mine" and items else "followup_none", lang))

raw = st.query_params.get("item")
item = None
item_id = urlstate.parse_number(raw, 1, urlstate.MAX_ID, integer=True) if raw else None
if raw and item_id is None:  # not an id at all (or past any id): refused, never an overflow in the query
    refusals.deny(user, f"item={str(raw)[:40]}", "not a follow-up item id",
                  t("followup_err_permission", lang))
if item_id is not None:
    try:
        item = fs.get(store, int(item_id), user)
    except KeyError:
        st.error(t("followup_err_permission", lang), icon=":material/block:")
    except PermissionError as exc:  # an item of a county outside the scope: refused and audited
        refusals.deny(user, f"item={raw}", f"follow-up item outside scope: {exc}",
                      t("auth_refused", lang, what=t("followup_detail", lang, id=raw),
                        scope=auth.scope_name(user.scope_code, lang)))
if item is None:
    if shown:
        st.caption(t("followup_pick", lang))
    st.stop()

st.divider()
st.markdown(f"### {t('followup_detail', lang, id=item.id)} · {md(fv.state_text(item, lang, today))}")
st.markdown(f"> {md(item.text)}")
st.caption(t("followup_meta", lang, author=md(item.author), created=item.created_at.strftime("%Y-%m-%d %H:%M"),
             owner=fv.owner_name(item.owner_kind, item.owner_code, lang), deadline=item.deadline.isoformat(),
             state=fv.state_text(item, lang, today)))
left, right = st.columns([3, 2], gap="large")
with left:
    with st.container(border=True):
        st.markdown(f"**{t('followup_figure', lang)}**")
        st.markdown(md(fv.figure_text(item.figure, lang)))
        st.caption(t("followup_recorded_note", lang))
        try:  # the live figure beside it, when the user may read it
            live = fs.figure_of(data.reader(), item.figure.kpi, item.figure.region, item.figure.period)
            if live.value != item.figure.value:
                st.caption(t("followup_live", lang, value=fv.figure_value(live, lang)))
        except Exception:  # noqa: BLE001 - an officer has no read permission on the cockpit; the record suffices
            pass
    st.markdown(f"**{t('followup_history', lang)}**")
    for e in fs.history(store, item.id, user):
        if e.action == "escalate":
            level, _, days = (e.text or "1:0").partition(":")
            label = t("followup_ev_escalate", lang, level=t(f"followup_level_{level}", lang), days=days)
            body = ""
        else:
            label, body = t(f"followup_ev_{e.action}", lang), e.text or ""
        line = f"`{e.at.strftime('%Y-%m-%d %H:%M')}` **{md(label)}** · {md(e.username)}"
        if body:
            line += f"  \n{md(body)}"
        if e.attachments:
            line += "  \n" + md(t("followup_attached", lang, files="；".join(e.attachments)))
        st.markdown(line)

with right:
    acted = False
    if fs.may_answer(user, item):
        acted = True
        # the form keeps its text until a step succeeds: a refused reply must not lose what was written
        with st.form("fu_answer"):
            st.markdown(f"**{t('followup_answer_title', lang)}**")
            reply = st.text_area(t("followup_reply", lang), key="fu_reply_text")
            files = st.text_area(t("followup_attachments", lang), height=80, key="fu_reply_files")
            x, y = st.columns(2)
            send = x.form_submit_button(t("followup_send_reply", lang), type="primary")
            done = y.form_submit_button(t("followup_mark_done", lang))
        if send or done:
            try:
                step = fs.reply if send else fs.mark_done
                step(store, user, item.id, reply, files.splitlines())
                for k in ("fu_reply_text", "fu_reply_files"):
                    st.session_state.pop(k, None)
                st.rerun()
            except fs.FollowupError as exc:
                st.error(t(f"followup_err_{exc.reason}", lang))
            except PermissionError:
                st.error(t("followup_err_permission", lang))
    if fs.may_conclude(user, item):
        acted = True
        with st.form("fu_conclude"):
            st.markdown(f"**{t('followup_conclude_title', lang)}**")
            note = st.text_area(t("followup_close_note", lang) + " / " + t("followup_reason", lang), key="fu_note")
            x, y = st.columns(2)
            close = x.form_submit_button(t("followup_close", lang), type="primary")
            back = y.form_submit_button(t("followup_send_back", lang))
        if close or back:
            try:
                if close:
                    fs.close(store, user, item.id, note)
                else:
                    fs.send_back(store, user, item.id, note)
                st.session_state.pop("fu_note", None)
                st.rerun()
            except fs.FollowupError as exc:
                st.error(t(f"followup_err_{exc.reason}", lang))
            except PermissionError:
                st.error(t("followup_err_permission", lang))
    if not acted and user.role == "analyst":
        st.caption(t("followup_readonly", lang))
