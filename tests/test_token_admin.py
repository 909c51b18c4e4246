"""The admin page's API token section (ui/token_admin.py), run as the administrator in AppTest: create
(the token shown once, stored as the CLI stores it, with the chosen scope and expiry), refuse a bad or
taken name in the page's language, list, revoke behind a confirmation; each step audit-logged."""

from __future__ import annotations

import datetime as dt

from auth import audit, tokens
from store import Store
from tests.app_helpers import ADMIN, run
from ui.i18n import t


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _create(at, name: str, scope: str = "331100", days: int = 30):
    at.text_input(key="tok_new_name").input(name)
    at.selectbox(key="tok_new_scope").set_value(scope)
    at.number_input(key="tok_new_days").set_value(days)
    _button(at, t("tok_create", "zh")).click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_create_list_and_revoke_a_token(db_copy, use_db):
    use_db(db_copy)
    store = Store(db_copy)
    at = run("pages/admin.py", user=ADMIN)
    assert t("tok_title", "zh") in [s.value for s in at.subheader]
    _create(at, "lishui-screen")
    shown = [c.value for c in at.code]
    assert len(shown) == 1 and shown[0].startswith("ck_")
    tok, why = tokens.lookup(store, shown[0])
    assert why == "" and tok.name == "lishui-screen" and tok.scope_code == "331100"
    assert (tok.expires_at - tok.created_at) == dt.timedelta(days=30)
    listed = at.dataframe[-1].value
    assert "lishui-screen" in listed.to_string() and t("tok_state_active", "zh") in listed.to_string()
    at.run()  # any later run: the token is gone from the page for good
    assert not [c for c in at.code if c.value.startswith("ck_")]
    # a name in use, a malformed name: refused in the page's words, nothing stored
    _create(at, "lishui-screen")
    assert any("lishui\\-screen" in e.value and "已有" in e.value for e in at.error)  # markdown-escaped
    _create(at, "bad name!")
    assert any(e.value == t("tok_bad_name", "zh") for e in at.error)
    assert [x.name for x in tokens.list_tokens(store)] == ["lishui-screen"]
    # revoke: only after the confirmation
    at.selectbox(key="tok_revoke_name").set_value("lishui-screen")
    assert at.button(key="tok_revoke_btn").disabled
    at.checkbox(key="tok_revoke_sure").check().run()
    at.button(key="tok_revoke_btn").click().run()
    assert not at.exception
    assert tokens.lookup(store, shown[0])[1] == "revoked"
    assert any("lishui\\-screen" in s.value for s in at.success)
    assert t("tok_no_active", "zh") in [c.value for c in at.caption]
    log = audit.read(store, user="admin")
    assert {"api_token_create", "api_token_revoke"} <= set(log["action"])


def test_the_section_in_english(db_copy, use_db):
    use_db(db_copy)
    at = run("pages/admin.py", user=ADMIN, lang="en")
    assert t("tok_title", "en") in [s.value for s in at.subheader]
    assert any(i.value == t("tok_none", "en") for i in at.info)
