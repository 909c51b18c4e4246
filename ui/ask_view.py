"""问数 on the overview: a question box that answers with how it read the question, the sentence, the
figures (status colour, coverage), a small table and the link to the page view showing the same figure.

The answer comes from metrics.ask within the signed-in user's scope (the read boundary's scope); a
question about a region outside it is refused and audited like a refused URL parameter. A
clarification offers its candidates as buttons that ask again with the candidate filled in.
"""

from __future__ import annotations

import datetime as dt
import html

import streamlit as st

from metrics.ask import Answer, ask
from ui import auth, data, fmt, refusals
from ui.i18n import t
from ui.shell import Ctx

QUESTION_KEY = "ask_q"  # the text input's key: a candidate button writes the re-asked question here
MAX_FIGURES = 4  # chips under the sentence; the table holds the rest
TABLE_COLUMNS = ("name", "kpi_name", "value_text", "target", "status", "rank", "month", "n_reported", "n_expected",
                 "kpis", "projection", "prob", "state")


def ask_box(ctx: Ctx) -> None:
    """The question box in a collapsed expander (it opens once a question was asked): the wall stays as laid out."""
    question = str(st.session_state.get(QUESTION_KEY) or "").strip()
    with st.expander(t("ask_title", ctx.lang), expanded=bool(question), icon=":material/chat:"):
        st.text_input(t("ask_label", ctx.lang), key=QUESTION_KEY, placeholder=t("ask_placeholder", ctx.lang),
                      label_visibility="collapsed")
        if question:
            show(answer_for(question, ctx), ctx)


def answer_for(question: str, ctx: Ctx) -> Answer:
    """The answer within the reader's scope; a question naming no region is about the view's region."""
    r = data.reader()
    home = ctx.scope if r.scope.allows(ctx.scope) else r.scope.code
    return _answer(question, home, ctx.lang, dt.date.today().isoformat())


@data.cached(max_entries=32)
def _answer(question: str, home: str, lang: str, day: str) -> Answer:
    """Cached per scope, data version and day (上个月 moves with the date): the box stays open while the
    page reruns for every other widget, and the answer would otherwise be worked out again each time."""
    r = data.reader()
    return ask(question, r.engine, allowed_regions=r.scope.restriction, lang=lang, home=home,
               forecasts=r.forecasts)


def show(a: Answer, ctx: Ctx) -> None:
    lang = ctx.lang
    if a.reading:
        st.caption(a.reading)
    if a.kind == "refused":
        u = auth.current_quiet()
        refusals.deny(u, f"ask={a.question[:60]}", f"question outside scope {u.scope_code if u else '-'}")
        st.error(a.sentence, icon=":material/block:")
        return
    if a.kind == "error":
        st.warning(a.sentence)
        return
    if a.kind == "clarify":
        st.info(a.sentence)
        _candidates(a, lang)
        return
    st.markdown(f'<div class="ask-sentence" style="font-size:1.05rem">{html.escape(a.sentence)}</div>',
                unsafe_allow_html=True)
    _figures(a, lang)
    _table(a)
    _link(a, lang)


def _candidates(a: Answer, lang: str) -> None:
    c = a.clarification
    if c is None or not c.candidates:
        return
    st.caption(t("ask_clarify", lang))
    cols = st.columns(min(len(c.candidates), 4))
    for i, cand in enumerate(c.candidates[:8]):
        cols[i % len(cols)].button(cand, key=f"ask_cand_{i}", on_click=_reask, args=(refill(a.question, c.words, cand),))


def refill(question: str, words: tuple[str, ...], candidate: str) -> str:
    """The question with the unclear word replaced by the candidate (its 市/县 note in brackets kept
    out: "江北区（宁波市）" asks about 宁波江北区); a candidate without a word to replace is added in front."""
    name = candidate
    if "（" in candidate and candidate.endswith("）"):
        base, _, parent = candidate[:-1].partition("（")
        name = parent + base
    for w in words:
        if w and w in question:
            return question.replace(w, name, 1)
    return name + question


def _reask(question: str) -> None:
    st.session_state[QUESTION_KEY] = question


def _figures(a: Answer, lang: str) -> None:
    chips = []
    for f in a.figures[:MAX_FIGURES]:
        colour = fmt.STATUS_COLOURS.get(f.status or "", "#64748b")
        name = data.engine().geo.get(f.region).name(lang) if f.region else ""
        label = fmt.status_label(f.status, lang) if f.status else ""
        cover = (t("ask_coverage", lang, n=f.n_reported, of=f.n_expected)
                 if f.n_expected is not None and f.n_reported is not None else "")
        chips.append(
            f'<span class="ask-figure" style="display:inline-block;margin:2px 6px 2px 0;padding:2px 8px;'
            f'border-left:4px solid {colour};background:rgba(100,116,139,.08)">'
            f'{html.escape(name)} <b>{html.escape(f.text or "")}</b> '
            f'<span style="color:{colour}">{html.escape(label)}</span> '
            f'<small style="opacity:.7">{html.escape(cover)}</small></span>')
    if chips:
        st.markdown("".join(chips), unsafe_allow_html=True)
    if len(a.figures) > MAX_FIGURES:
        st.caption(t("ask_more", lang, n=len(a.figures) - MAX_FIGURES))


def _table(a: Answer) -> None:
    if a.table is None or a.table.empty or len(a.table) < 2:
        return
    cols = [c for c in TABLE_COLUMNS if c in a.table.columns]
    st.dataframe(a.table[cols], hide_index=True, height=min(36 * (len(a.table) + 1), 250), use_container_width=True)


def _link(a: Answer, lang: str) -> None:
    if not a.link_path:
        return
    label = t("ask_open", lang, page=t(f"ask_page_{a.link_path}", lang))
    try:
        st.page_link(f"pages/{a.link_path}.py", label=label, icon=":material/open_in_new:",
                     query_params=a.link_params)
    except Exception:  # noqa: BLE001 (a page this role does not have: the plain link still names the view)
        st.markdown(f"[{label}]({a.link})")
