"""Account administration from the command line (the database is DATABASE_URL):

    python -m auth add-user NAME --role leader --scope 331100 [--email E] [--password P]
    python -m auth passwd NAME [--password P]
    python -m auth disable NAME | enable NAME
    python -m auth set-role NAME --role analyst --scope 330000
    python -m auth list
    python -m auth audit [--since 2026-11-01] [--user NAME] [--action sign_in] [--csv FILE]
    python -m auth check          # exit 1 when production must refuse to start
    python -m auth demo           # create the demo accounts (demo database only)
    python -m auth token create NAME --scope 331100 --days 90   # prints the API token once
    python -m auth token list | token revoke NAME
Without --password the password is asked for (not echoed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys

from auth import accounts, audit, check, tokens
from auth.policy import ROLES
from metrics.geography import PROVINCE
from store import Store
from store.db import database_url


def _password(given: str | None) -> str:
    if given:
        return given
    a = getpass.getpass("password: ")
    if a != getpass.getpass("again: "):
        sys.exit("passwords differ")
    return a


def _token(store: Store, args: argparse.Namespace) -> None:
    """The API tokens: a created token is printed once (the database keeps its hash only)."""
    if args.tcmd == "create":
        token = tokens.create(store, args.name, args.scope, args.days, by="cli")
        print(f"created token {args.name} ({args.scope}, {args.days} days); shown once, keep it now:")
        print(token)
    elif args.tcmd == "list":
        for t in tokens.list_tokens(store):
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            print(f"{t.name:24} {t.scope_code:8} {t.state():8} expires {t.expires_at:%Y-%m-%d}  last used {used}")
    else:
        tokens.revoke(store, args.name, by="cli")
        print(f"token {args.name} revoked")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m auth", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add-user")
    a.add_argument("name")
    a.add_argument("--role", choices=ROLES, required=True)
    a.add_argument("--scope", default=PROVINCE)
    a.add_argument("--email")
    a.add_argument("--password")
    p = sub.add_parser("passwd")
    p.add_argument("name")
    p.add_argument("--password")
    for name in ("disable", "enable"):
        sub.add_parser(name).add_argument("name")
    r = sub.add_parser("set-role")
    r.add_argument("name")
    r.add_argument("--role", choices=ROLES, required=True)
    r.add_argument("--scope", default=PROVINCE)
    sub.add_parser("list")
    au = sub.add_parser("audit")
    au.add_argument("--since", type=dt.datetime.fromisoformat)
    au.add_argument("--user")
    au.add_argument("--action")
    au.add_argument("--csv")
    sub.add_parser("check")
    sub.add_parser("demo")
    tk = sub.add_parser("token", help="tokens of the read-only HTTP API").add_subparsers(dest="tcmd", required=True)
    tc = tk.add_parser("create")
    tc.add_argument("name")
    tc.add_argument("--scope", default=PROVINCE)
    tc.add_argument("--days", type=int, default=90)
    tk.add_parser("list")
    tk.add_parser("revoke").add_argument("name")
    args = ap.parse_args(argv)
    store = Store(database_url())
    try:
        if args.cmd == "add-user":
            accounts.create_user(store, args.name, _password(args.password), args.role, args.scope, email=args.email)
            print(f"created {args.name} ({args.role}, {args.scope})")
        elif args.cmd == "passwd":
            accounts.set_password(store, args.name, _password(args.password))
            print(f"password of {args.name} reset")
        elif args.cmd in ("disable", "enable"):
            accounts.set_disabled(store, args.name, args.cmd == "disable")
            print(f"{args.name} {args.cmd}d")
        elif args.cmd == "set-role":
            accounts.set_role(store, args.name, args.role, args.scope)
            print(f"{args.name}: {args.role}, {args.scope}")
        elif args.cmd == "list":
            for u in accounts.list_users(store):
                flags = " ".join(f for f, on in (("disabled", u.disabled), ("demo", u.is_demo)) if on)
                print(f"{u.username:20} {u.role:8} {u.scope_code:8} {u.email or '':30} {flags}")
        elif args.cmd == "audit":
            df = audit.read(store, since=args.since, user=args.user, action=args.action)
            if args.csv:
                from sheets.safety import neutralise_frame

                # entries hold what users typed (names, targets): never let a spreadsheet run it
                neutralise_frame(df).to_csv(args.csv, index=False, encoding="utf-8-sig")
                print(f"{len(df)} entries -> {args.csv}")
            else:
                print(df.to_string(index=False) if len(df) else "(no entries)")
        elif args.cmd == "check":
            bad = check.problems(store, database_url())
            for b in bad:
                print(f"refusing to start: {b}", file=sys.stderr)
            return 1 if bad else 0
        elif args.cmd == "token":
            _token(store, args)
        elif args.cmd == "demo":
            if not store.is_demo():
                print("not a demo database: no demo accounts created", file=sys.stderr)
                return 1
            for name, pw, role, scope in accounts.ensure_demo_accounts(store):
                print(f"{name:16} {pw:14} {role:8} {scope}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
