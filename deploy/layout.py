"""`python -m deploy.layout up|down|status`: the production layout on one machine, loopback only.

    nginx 127.0.0.1:8600 (sticky route cookie) ─┬─ streamlit replica 127.0.0.1:8601 ─┐
                                                └─ streamlit replica 127.0.0.1:8602 ─┼─ PostgreSQL
                                           python -m scheduler (exactly one) ────────┘

`up` creates the database if missing, migrates it and loads demo data on first start, starts the
replicas, the scheduler and nginx (Debian's package, `daemon off`, config generated from
deploy/nginx.conf.template into var/deploy/nginx/), waits until every part is healthy and returns;
the processes keep running in their own sessions, their stdout (JSON lines) in var/deploy/logs/.
`down` stops exactly the processes `up` recorded in var/deploy/layout.json (checked against their
command lines, so a recycled pid is never signalled). `status` prints each part's health (the
checks of deploy/health.py) and exits 0 when all are healthy.

Configuration by environment (see deploy/cockpit.env.example) or `--env-file`; the options below
override it. PostgreSQL is this machine's service; a MySQL-protocol URL (MariaDB, Apache Doris,
StarRocks) goes through the same code.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from deploy import health, static
from deploy.db_roles import ensure_app_role
from deploy.state import LOOPBACK, Part, State, state_dir, state_file
from store.db import ROOT, _normalise, make_engine

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/cockpit"
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")


# -- environment ---------------------------------------------------------------------------------
def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (systemd EnvironmentFile syntax: comments, optional quotes, no expansion)."""
    out: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip().removeprefix("export ").strip()] = value
    return out


def _cookie_secret(base: Path) -> str:
    """One Streamlit cookie secret for all replicas (XSRF tokens must verify on any of them)."""
    if os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET"):
        return os.environ["STREAMLIT_SERVER_COOKIE_SECRET"]
    f = base / "cookie_secret"
    if not f.is_file():
        f.write_text(secrets.token_urlsafe(32))
        f.chmod(0o600)
    return f.read_text().strip()


def child_env(database_url: str, base: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "COCKPIT_LOG_FORMAT": "json",
                "PYTHONUNBUFFERED": "1", "STREAMLIT_SERVER_COOKIE_SECRET": _cookie_secret(base),
                "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"})
    return env


# -- database ------------------------------------------------------------------------------------
def ensure_database(url: str) -> bool:
    """Create the server database named in `url` when missing; True when it was created."""
    u = sa.engine.make_url(_normalise(url))
    if u.get_backend_name() == "sqlite" or not u.database:
        return False
    name = u.database
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to create a database with the name {name!r}")
    admin_db = "postgres" if u.get_backend_name() == "postgresql" else None
    admin = make_engine(u.set(database=admin_db).render_as_string(hide_password=False))
    try:
        with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            if u.get_backend_name() == "postgresql":
                if conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                    return False
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                return True
            exists = conn.execute(sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :n"),
                                  {"n": name}).first()
            if exists:
                return False
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            return True
    finally:
        admin.dispose()


# -- processes -----------------------------------------------------------------------------------
def find_nginx() -> str | None:
    """$COCKPIT_NGINX when set (None unless executable), else Debian's nginx."""
    if os.environ.get("COCKPIT_NGINX"):
        p = os.environ["COCKPIT_NGINX"]
        return p if os.path.isfile(p) and os.access(p, os.X_OK) else None
    return shutil.which("nginx") or next((p for p in NGINX_CANDIDATES if os.access(p, os.X_OK)), None)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state is [0], start time is [19])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(part: Part) -> bool:
    """The recorded process still runs and is the one we started: same start time (nginx rewrites
    its command line, so that is only the fallback check)."""
    st = _stat(part.pid)
    if st is None or st[0] == "Z":  # gone, or a zombie that has exited
        return False
    if part.start_ticks:
        return int(st[19]) == part.start_ticks
    return part.marker in _cmdline(part.pid)


def _spawn(name: str, kind: str, cmd: list[str], env: dict[str, str], logs: Path, marker: str,
           port: int | None = None) -> Part:
    log = logs / f"{name}.log"
    with open(log, "ab") as out:  # the child keeps its own descriptor; stdout is the log
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    st = _stat(proc.pid)
    return Part(name=name, kind=kind, pid=proc.pid, log=str(log), port=port, marker=marker,
                start_ticks=int(st[19]) if st else 0)


def http_ok(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status == 200 and r.read(64).decode(errors="replace").strip() == "ok"
    except OSError:
        return False


def render_nginx(listen: str, replica_ports: list[int], prefix: Path, workers: int = 1,
                 static_root: Path | None = None) -> str:
    """The nginx config for these replicas, from deploy/nginx.conf.template (`static_root`: the
    copy of Streamlit's bundles with their .gz, deploy/static.py; default prefix/static)."""
    servers = "\n".join(f"        server {LOOPBACK}:{p} max_fails=2 fail_timeout=10s;" for p in replica_ports)
    health = "\n".join(
        f"        location = /healthz/replica/{i} {{\n            access_log off;\n"
        f"            proxy_pass http://{LOOPBACK}:{p}/_stcore/health;\n        }}"
        for i, p in enumerate(replica_ports, start=1))
    values = {"PREFIX": str(prefix), "LISTEN": listen, "WORKERS": str(workers),
              "UPSTREAM_SERVERS": servers, "REPLICA_HEALTH": health,
              "STATIC_ROOT": str(static_root or prefix / "static")}
    lines = []
    for line in TEMPLATE.read_text().splitlines():
        if not line.lstrip().startswith("#"):  # the header comment names the placeholders
            for key, value in values.items():
                line = line.replace(f"@@{key}@@", value)
            if "@@" in line:
                raise ValueError(f"unfilled placeholder in nginx.conf.template: {line.strip()}")
        lines.append(line)
    text = "# generated by deploy/layout.py from deploy/nginx.conf.template: edit the template\n" + "\n".join(lines)
    return text


def _prepare_nginx(nginx: str, base: Path, port: int, replica_ports: list[int], workers: int) -> Path:
    prefix = base / "nginx"
    tmp = prefix / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:  # workers run as nobody: they write request bodies to the temp folders
        nobody = pwd.getpwnam("nobody")
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (tmp / sub).mkdir(exist_ok=True)
            os.chown(tmp / sub, nobody.pw_uid, nobody.pw_gid)
    t0 = time.monotonic()
    static_root = static.prepare()
    _log(f"static bundles for nginx (pre-compressed): {static_root} ({time.monotonic() - t0:.1f} s)")
    conf = prefix / "nginx.conf"
    conf.write_text(render_nginx(f"{LOOPBACK}:{port}", replica_ports, prefix.resolve(), workers,
                                 static_root.resolve()))
    test = subprocess.run([nginx, "-t", "-q", "-p", str(prefix), "-c", str(conf.resolve()), "-e", "stderr"],
                          capture_output=True, text=True)
    if test.returncode != 0:
        raise RuntimeError("nginx rejected the generated config:\n" + test.stderr)
    return conf


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def stop_part(part: Part, timeout: float = 15.0) -> str:
    """SIGTERM the part's process group (nginx workers, uvicorn threads), SIGKILL after `timeout`."""
    if not alive(part):
        return "not running"
    try:
        os.killpg(part.pid, signal.SIGTERM)  # start_new_session: the group id is the pid
    except ProcessLookupError:
        return "not running"
    except PermissionError:
        os.kill(part.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(part):
            _reap(part.pid)
            return "stopped"
        _reap(part.pid)
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(part.pid, signal.SIGKILL)
    _reap(part.pid)
    return "killed"


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):  # not our child (an earlier `up`): init reaps it
        os.waitpid(pid, os.WNOHANG)


# -- commands ------------------------------------------------------------------------------------
def _log(msg: str) -> None:
    print(f"» {msg}", flush=True)


def _tail(path: str, n: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def up(args: argparse.Namespace) -> int:
    base = state_dir()
    base.mkdir(parents=True, exist_ok=True)
    sf = state_file(base)
    old = State.load(sf)
    if old and any(alive(p) for p in old.parts):
        print(f"the layout is already up (pids {', '.join(str(p.pid) for p in old.parts if alive(p))}); "
              "run `down` first", file=sys.stderr)
        return 1
    nginx = find_nginx()
    if nginx is None:
        print("nginx is not installed: the layout needs Debian's nginx (apt-get install nginx-light; "
              "`./cockpit test` installs it as root" + (f"; COCKPIT_NGINX={os.environ['COCKPIT_NGINX']} is not "
              "an executable" if os.environ.get("COCKPIT_NGINX") else "") + ")", file=sys.stderr)
        return 2
    ports = [args.base_port + i for i in range(args.replicas)]
    busy = [p for p in [args.port, *ports] if not _port_free(p)]
    if busy:
        print(f"ports already in use on {LOOPBACK}: {busy}", file=sys.stderr)
        return 1
    logs = base / "logs"
    logs.mkdir(exist_ok=True)
    url = args.database_url
    shown = url.split("@")[-1]
    t0 = time.monotonic()
    if ensure_database(url):
        _log(f"created database {shown}")
    env = child_env(url, base)
    _log(f"database {shown}: migrating, demo data on first start")
    first = subprocess.run([sys.executable, "-m", "ingest.first_start"], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    (logs / "first_start.log").write_text(first.stdout + first.stderr)
    if first.returncode != 0:
        print("first start failed:\n" + (first.stdout + first.stderr)[-3000:], file=sys.stderr)
        return 1
    for line in first.stdout.splitlines():
        _log(line.lstrip("» "))
    # the replicas and the scheduler connect as an account that cannot rewrite the audit log
    app_url = ensure_app_role(url, os.environ.get("COCKPIT_APP_DB_USER", "cockpit_app"),
                              os.environ.get("COCKPIT_APP_DB_PASSWORD") or None)
    if app_url:
        _log(f"app database account {app_url.split('://', 1)[1].split(':', 1)[0]}: audit_log INSERT/SELECT only")
        env = child_env(app_url, base)
    try:
        conf = _prepare_nginx(nginx, base, args.port, ports, args.nginx_workers)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    state = State(url, args.port, [], dt.datetime.now().isoformat(timespec="seconds"), str(base))
    try:
        for i, port in enumerate(ports, start=1):
            state.parts.append(_spawn(
                f"replica-{i}", "replica",
                [sys.executable, "-m", "deploy.serve", "--server.address", LOOPBACK, "--server.port", str(port),
                 "--server.headless", "true", "--server.fileWatcherType", "none",
                 "--browser.gatherUsageStats", "false",
                 # the page's elements and figures go deflated over the websocket (permessage-deflate):
                 # a fifth of the bytes on a phone network for a few ms of CPU per page
                 "--server.enableWebsocketCompression", "true"],
                env, logs, marker=f"--server.port {port}", port=port))
        state.parts.append(_spawn("scheduler", "scheduler", [sys.executable, "-m", "scheduler"], env, logs,
                                  marker="-m scheduler"))
        state.save(sf)
        # nginx only once the replicas answer: probes before that would mark them failed for a while
        _wait_healthy(state, args.timeout, proxy=False)
        state.parts.append(_spawn("nginx", "nginx", [nginx, "-p", str(conf.parent), "-c", str(conf.resolve()),
                                                     "-e", "stderr"], env, logs, marker=str(conf.resolve()),
                                  port=args.port))
        state.save(sf)
        _wait_healthy(state, args.timeout, proxy=True)
    except (RuntimeError, OSError) as exc:
        print(f"layout failed to come up: {exc}", file=sys.stderr)
        for p in state.parts:
            print(f"--- {p.name} ({p.log})\n{_tail(p.log)}", file=sys.stderr)
        _down(state, sf)
        return 1
    _log(f"up in {time.monotonic() - t0:.1f} s: http://{LOOPBACK}:{args.port}  "
         f"(replicas {', '.join(map(str, ports))}; logs {logs}; stop: python -m deploy.layout down)")
    return 0


def _wait_healthy(state: State, timeout: float, proxy: bool) -> None:
    deadline = time.monotonic() + timeout
    while True:
        dead = [p.name for p in state.parts if not alive(p)]
        if dead:
            raise RuntimeError(f"exited during start: {', '.join(dead)}")
        report = health.check(state.database_url, proxy=f"http://{LOOPBACK}:{state.proxy_port}" if proxy else None,
                              replicas=[f"http://{LOOPBACK}:{p.port}" for p in state.replicas()],
                              scheduler=True)
        if report["ok"]:
            return
        if time.monotonic() > deadline:
            bad = [k for k, v in report["checks"].items() if not v.get("ok")]
            raise RuntimeError(f"not healthy after {timeout:.0f} s: {', '.join(bad)}")
        time.sleep(0.5)


def _down(state: State, sf: Path) -> list[tuple[str, int, str]]:
    out = []
    # nginx first (no new requests), then the replicas, then the scheduler (it releases its lease)
    order = {"nginx": 0, "replica": 1, "scheduler": 2}
    for p in sorted(state.parts, key=lambda p: order.get(p.kind, 3)):
        out.append((p.name, p.pid, stop_part(p)))
    sf.unlink(missing_ok=True)
    return out


def down(_args: argparse.Namespace) -> int:
    sf = state_file()
    state = State.load(sf)
    if state is None:
        _log("the layout is not up (no var/deploy/layout.json)")
        return 0
    for name, pid, what in _down(state, sf):
        _log(f"{name} (pid {pid}): {what}")
    return 0


def status(args: argparse.Namespace) -> int:
    state = State.load(state_file())
    if state is None:
        print(json.dumps({"ok": False, "error": "the layout is not up"}))
        return 1
    report = health.check(state.database_url, proxy=f"http://{LOOPBACK}:{state.proxy_port}",
                          replicas=[f"http://{LOOPBACK}:{p.port}" for p in state.replicas()], scheduler=True)
    procs = {p.name: {"pid": p.pid, "running": alive(p), "port": p.port, "log": p.log} for p in state.parts}
    report["processes"] = procs
    report["ok"] = report["ok"] and all(v["running"] for v in procs.values())
    if args.json:
        print(json.dumps(report, ensure_ascii=False, default=str, indent=2))
    else:
        for name, v in procs.items():
            print(f"{name:<10} pid {v['pid']:<8} {'running' if v['running'] else 'NOT RUNNING'}"
                  + (f"  port {v['port']}" if v["port"] else ""))
        for name, c in report["checks"].items():
            detail = {k: v for k, v in c.items() if k != "ok"}
            print(f"{name:<10} {'ok' if c['ok'] else 'FAIL':<5} {json.dumps(detail, ensure_ascii=False, default=str)}")
        print("healthy" if report["ok"] else "NOT healthy")
    return 0 if report["ok"] else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m deploy.layout", description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["up", "down", "status"])
    ap.add_argument("--env-file", type=Path, help="KEY=VALUE file read before everything else "
                    "(default: var/deploy/cockpit.env when it exists)")
    ap.add_argument("--replicas", type=int, help="Streamlit processes (default $COCKPIT_REPLICAS or 2)")
    ap.add_argument("--port", type=int, help="nginx port on 127.0.0.1 (default $COCKPIT_PROXY_PORT or 8600)")
    ap.add_argument("--base-port", type=int, help="first replica port (default $COCKPIT_REPLICA_BASE_PORT or 8601)")
    ap.add_argument("--database-url", help=f"default $DATABASE_URL or {DEFAULT_DB}")
    ap.add_argument("--nginx-workers", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for health after start")
    ap.add_argument("--json", action="store_true", help="status as JSON")
    args = ap.parse_args(argv)
    env_file = args.env_file or state_dir() / "cockpit.env"
    if env_file.is_file():
        for k, v in read_env_file(env_file).items():
            os.environ.setdefault(k, v)  # the real environment wins, as with systemd's Environment=
    elif args.env_file:
        ap.error(f"no such env file: {env_file}")
    args.replicas = args.replicas or int(os.environ.get("COCKPIT_REPLICAS", "2"))
    args.port = args.port or int(os.environ.get("COCKPIT_PROXY_PORT", "8600"))
    args.base_port = args.base_port or int(os.environ.get("COCKPIT_REPLICA_BASE_PORT", "8601"))
    args.database_url = args.database_url or os.environ.get("DATABASE_URL") or DEFAULT_DB
    if args.replicas < 1:
        ap.error("--replicas must be at least 1")
    return {"up": up, "down": down, "status": status}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
