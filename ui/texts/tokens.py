"""Strings of the admin page's API token section (keys prefixed `tok_`)."""

from i18n import Text

ZH: dict[str, str] = {
    "tok_title": "接口令牌（供其他系统调用只读数据接口）",
    "tok_intro": "每个令牌有名称、数据范围和有效期；令牌只显示一次，数据库只保存其摘要。每次调用都记入审计日志。"
                 "命令行同样可用：python -m auth token create/list/revoke。",
    "tok_create": "新建令牌",
    "tok_name": "名称（字母、数字、. _ -）",
    "tok_scope": "数据范围",
    "tok_days": "有效期（天）",
    "tok_created": "已创建令牌 {name}（{scope}，{days} 天）。请立即复制，离开本页后无法再次查看：",
    "tok_bad_name": "名称只能由字母、数字和 . _ - 组成，以字母或数字开头，最多 64 个字符。",
    "tok_exists": "已有名为 {name} 的令牌：请换一个名称（吊销的令牌保留名称以便审计）。",
    "tok_error": "操作未完成：{error}",
    "tok_none": "尚未创建任何令牌。",
    "tok_col_name": "名称",
    "tok_col_scope": "数据范围",
    "tok_col_state": "状态",
    "tok_col_created": "创建时间",
    "tok_col_expires": "到期时间",
    "tok_col_used": "最近使用",
    "tok_state_active": "有效",
    "tok_state_expired": "已过期",
    "tok_state_revoked": "已吊销",
    "tok_revoke": "吊销令牌",
    "tok_revoke_pick": "要吊销的令牌",
    "tok_revoke_confirm": "确认吊销（调用方将立即收到 401）",
    "tok_revoked": "已吊销令牌 {name}。",
    "tok_no_active": "没有有效的令牌可吊销。",
}

EN: dict[str, Text] = {
    "tok_title": "API tokens (read-only API for other systems)",
    "tok_intro": "Each token has a name, a data scope and an expiry; it is shown once and only its digest is "
                 "stored. Every call is audit-logged. The command line does the same: "
                 "python -m auth token create/list/revoke.",
    "tok_create": "Create a token",
    "tok_name": "Name (letters, digits, . _ -)",
    "tok_scope": "Data scope",
    "tok_days": "Valid for (days)",
    "tok_created": "Token {name} created ({scope}, {days} days). Copy it now: it cannot be shown again once "
                   "you leave this page:",
    "tok_bad_name": "A name is letters, digits and . _ -, starting with a letter or digit, at most 64 characters.",
    "tok_exists": "A token named {name} exists: choose another name (revoked tokens keep their name for the audit log).",
    "tok_error": "Not done: {error}",
    "tok_none": "No tokens yet.",
    "tok_col_name": "Name",
    "tok_col_scope": "Scope",
    "tok_col_state": "State",
    "tok_col_created": "Created",
    "tok_col_expires": "Expires",
    "tok_col_used": "Last used",
    "tok_state_active": "active",
    "tok_state_expired": "expired",
    "tok_state_revoked": "revoked",
    "tok_revoke": "Revoke a token",
    "tok_revoke_pick": "Token to revoke",
    "tok_revoke_confirm": "Confirm revocation (its callers get 401 at once)",
    "tok_revoked": "Token {name} revoked.",
    "tok_no_active": "No active token to revoke.",
}
