"""Pushes: the morning brief, each event, the robot signature, e-mail over STARTTLS, retries with
backoff, once-only delivery across a scheduler restart and between two schedulers, and a receiver
that is down, then failed in the log, then delivered when it is back.

The receivers run on this machine: an SMTP server (aiosmtpd) that requires STARTTLS with a
certificate the test makes (`cryptography`), and an HTTP robot (http.server in a thread) that
checks the signature the way the DingTalk custom robot does and refuses a wrong one.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
import time
from email import policy as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from followup import demo as followup_demo
from followup import service as fs
from metrics.engine import MetricsEngine
from pack.freeze import freeze_period, record_pack_file
from push import channels, content, job, outbox, recipients
from push.channels import Message, SendError, SmtpConfig
from push.job import PushConfig
from scheduler.service import Config, Service
from store import Store
from store.schema_followup import followup_item
from store.schema_jobs import freshness_alert
from store.schema_push import push_delivery, push_recipient
from tests.app_helpers import ADMIN, DEMO_TODAY, run
from tests.helpers import scratch_store

ROBOT_SECRET = "SEC-test-secret-+/="  # characters that must be URL-encoded in the signature's company
TODAY = DEMO_TODAY + dt.timedelta(days=15)  # the demo's March reports are due: 2022-03 is the latest month
NOW = dt.datetime.combine(TODAY, dt.time(9, 0))  # after the brief hour
LISHUI, SHANGCHENG = "331100", "330102"


# -- the receivers -------------------------------------------------------------------------------------------
class Robot:
    """A robot webhook on 127.0.0.1: checks timestamp + sign against its secret, keeps what it took.

    `stop()` closes the port (a receiver that is down: connection refused); `start()` opens the same
    port again.
    """

    def __init__(self, secret: str = ROBOT_SECRET) -> None:
        self.secret, self.got, self.refused = secret, [], []
        self.port = _free_port()
        self.server: ThreadingHTTPServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/robot/send?access_token=abc"

    def start(self) -> None:
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                q = parse_qs(urlsplit(self.path).query)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
                ok = robot.verify(q.get("timestamp", [""])[0], q.get("sign", [""])[0])
                (robot.got if ok else robot.refused).append(body)
                answer = {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 310000, "errmsg": "sign not match"}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def verify(self, timestamp: str, sign: str) -> bool:
        """The robot's check, written from the protocol (not with push.channels): within an hour, and
        base64(HMAC-SHA256(secret, timestamp + "\\n" + secret)) equal to the (URL-decoded) sign."""
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
            return False
        mac = hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256).digest()
        return hmac.compare_digest(base64.b64encode(mac).decode(), sign)

    def titles(self) -> list[str]:
        return [b["markdown"]["title"] for b in self.got]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.stop()


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (key, cert)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    kp, cp = folder / "key.pem", folder / "cert.pem"
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return kp, cp


class Mailbox:
    """aiosmtpd's handler: keeps each message with whether its session had switched to TLS."""

    def __init__(self) -> None:
        self.messages: list[tuple[email.message.EmailMessage, bool]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        msg = email.message_from_bytes(envelope.content, policy=email_policy.default)
        self.messages.append((msg, session.ssl is not None))
        return "250 OK"


@pytest.fixture
def smtp(tmp_path, monkeypatch):
    """An SMTP server requiring STARTTLS; the environment points the pushes at it."""
    from aiosmtpd.controller import Controller

    key, cert = _certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    box = Mailbox()
    port = _free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True)
    ctl.start()
    for k, v in {"COCKPIT_SMTP_HOST": "127.0.0.1", "COCKPIT_SMTP_PORT": str(port), "COCKPIT_SMTP_CAFILE": str(cert),
                 "COCKPIT_SMTP_FROM": "cockpit@zj.example"}.items():
        monkeypatch.setenv(k, v)
    box.cert = cert
    yield box
    ctl.stop()


# -- databases ------------------------------------------------------------------------------------------------
@pytest.fixture
def demo(db_copy) -> str:
    """The short-history demo with its three 督办 items dated around TODAY (one escalated: 衢州市, one
    answered and due in nine days: 上城区, one closed) and an open 逾期未报 alert for 慈溪市."""
    followup_demo.seed(Store(db_copy), today=TODAY)
    with Store(db_copy).engine.begin() as c:
        c.execute(freshness_alert.insert().values(kind="overdue_report", region_code="330282", period="2022-03",
                                                  status="open", due_date=dt.date(2022, 4, 15), opened_at=NOW,
                                                  message="慈溪市 2022-03 月报逾期未报"))
    return db_copy


def demo_engine(url: str) -> MetricsEngine:
    return MetricsEngine(Store(url), today=TODAY)


def add(url_or_engine, channel: str, address: str, role: str, scope: str, secret: str | None = None) -> int:
    engine = url_or_engine if isinstance(url_or_engine, sa.Engine) else Store(url_or_engine).engine
    return recipients.add(engine, f"{role}-{scope}-{channel}", channel, address, role, scope, secret=secret, by="admin")


def captured() -> tuple[list[tuple[recipients.Recipient, Message]], outbox.Sender]:
    out: list = []
    return out, lambda r, m: out.append((r, m))


def rows(engine: sa.Engine) -> list[dict]:
    with engine.connect() as c:
        return [dict(r) for r in c.execute(sa.select(push_delivery).order_by(push_delivery.c.id)).mappings()]


# -- signing and channels ---------------------------------------------------------------------------------------
def test_the_signature_is_the_robot_protocol():
    ts = 1700000000000
    mac = hmac.new(ROBOT_SECRET.encode(), f"{ts}\n{ROBOT_SECRET}".encode(), hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    assert parse_qs(f"sign={channels.sign(ROBOT_SECRET, ts)}")["sign"] == [expected]  # URL-encoded, decodes back
    assert "+" not in channels.sign(ROBOT_SECRET, ts) and "/" not in channels.sign(ROBOT_SECRET, ts)
    url = channels.signed_url("https://oapi.example/robot/send?access_token=t", ROBOT_SECRET, ts)
    assert url.startswith("https://oapi.example/robot/send?access_token=t&timestamp=1700000000000&sign=")
    assert channels.signed_url("https://x/hook", None) == "https://x/hook"  # no secret: not signed


def test_webhook_sends_signed_markdown_and_a_wrong_secret_is_refused(robot):
    channels.send_webhook(robot.url, ROBOT_SECRET, Message("标题", "### 早报\n\n- 一行"))
    assert robot.got == [{"msgtype": "markdown", "markdown": {"title": "标题", "text": "### 早报\n\n- 一行"}}]
    with pytest.raises(SendError, match="310000"):
        channels.send_webhook(robot.url, "wrong", Message("t", "x"))
    assert len(robot.refused) == 1 and len(robot.got) == 1


def test_email_goes_over_starttls_with_text_html_and_the_pdf(smtp, tmp_path):
    pdf = tmp_path / "2022-03_会议材料.pdf"
    pdf.write_bytes(b"%PDF-1.4 test pack")
    cfg = SmtpConfig.from_env()
    channels.send_email(cfg, "leader@zj.example", Message("早报", "### 早报\n\n- **红** [链接](http://x/?a=1)", pdf))
    (msg, tls), = smtp.messages
    assert tls, "the message was sent after STARTTLS"
    assert msg["To"] == "leader@zj.example" and msg["Subject"] == "早报"
    assert "### 早报" in msg.get_body(("plain",)).get_content()
    assert '<a href="http://x/?a=1">链接</a>' in msg.get_body(("html",)).get_content()
    att, = list(msg.iter_attachments())
    assert att.get_filename() == pdf.name and att.get_content() == pdf.read_bytes()
    # the certificate is checked: without the CA the client refuses the server
    with pytest.raises(SendError, match="SSL|certificate"):
        channels.send_email(SmtpConfig(cfg.host, cfg.port), "a@b.cn", Message("t", "x"))


# -- the brief and the events on the demo database -----------------------------------------------------------
def test_the_morning_brief(demo, smtp):
    eng = demo_engine(demo)
    add(eng.store.engine, "email", "leader@zj.example", "leader", "330000")
    add(eng.store.engine, "email", "lishui@zj.example", "leader", LISHUI)
    sent, sender = captured()
    job.run(eng, "t", PushConfig(brief_hour=8), now=NOW, sender=sender)
    briefs = {r.scope_code: m for r, m in sent if r.receives("brief") and m.title.startswith("早报")}
    province, lishui = briefs["330000"], briefs[LISHUI]
    assert province.title == f"早报 · 浙江省 · {TODAY}"
    text = province.text
    for part in ("**核心指标**", "**较上月转红/转黄**", "**逾期督办**", "**未报送**", "数据期：2022-03"):
        assert part in text
    headline = [k.name_zh for k in eng.catalogue.headline_kpis()]
    assert all(f" {n}：" in text for n in headline)
    # the figures are the read boundary's, printed by metrics.formats
    from metrics import formats
    from metrics.access import Reader
    row = Reader.for_code(eng, "330000").value("online_handling_rate", "330000", "2022-03")
    assert formats.value(row.value, eng.catalogue.kpi("online_handling_rate")) in text
    assert "#1 衢州市" in text and "（通报）" in text  # the demo's overdue item, escalated
    assert "- 2022-03：慈溪市" in text  # the open 逾期未报 alert
    assert "[打开驾驶舱查看](http://localhost:8501/overview?period=2022-03)" in text
    # a city's brief: its own figures and link, nothing about other cities
    assert "丽水市 早报" in lishui.text and "scope=331100" in lishui.text
    assert "杭州市" not in lishui.text and "衢州市" not in lishui.text and "慈溪市" not in lishui.text
    # the brief is queued once a day: a later run that day queues no second one
    again = job.run(eng, "t", PushConfig(brief_hour=8), now=NOW + dt.timedelta(hours=3), sender=sender)
    assert again["queued"]["brief"] == 0
    nxt = job.run(eng, "t", PushConfig(brief_hour=8), now=NOW + dt.timedelta(days=1), sender=sender)
    assert nxt["queued"]["brief"] == 2
    before = job.run(eng, "t", PushConfig(brief_hour=8), now=NOW + dt.timedelta(days=2, hours=-2), sender=sender)
    assert before["queued"]["brief"] == 0  # 07:00: not yet


def test_a_kpi_turning_red_is_pushed_once_to_whom_it_concerns(demo):
    eng = demo_engine(demo)
    province = add(eng.store.engine, "dingtalk", "http://127.0.0.1:9/x", "leader", "330000", ROBOT_SECRET)
    lishui = add(eng.store.engine, "dingtalk", "http://127.0.0.1:9/y", "leader", LISHUI, ROBOT_SECRET)
    officer = add(eng.store.engine, "email", "o@zj.example", "officer", SHANGCHENG)
    sent, sender = captured()
    job.run(eng, "t", PushConfig(brief_hour=24), now=NOW, sender=sender)
    from metrics.access import Reader
    from metrics.periods import Period
    p = Period.parse("2022-03")
    expected = {r: {(c.region, c.kpi) for c in content.changes(Reader.for_code(eng, code), p, ("red",))}
                for r, code in ((province, "330000"), (lishui, LISHUI))}
    assert expected[province], "the demo has headline KPIs turning red"
    got = {r: {tuple(d["event_key"].split(":")[1:3]) for d in rows(eng.store.engine)
               if d["recipient_id"] == r and d["kind"] == "red"} for r in (province, lishui, officer)}
    assert got[province] == expected[province] and got[lishui] == expected[lishui]
    assert got[officer] == set()  # an officer's role gets no red-KPI pushes
    assert all(reg in ("330000", *eng.geo.cities) for reg, _ in got[province])
    assert all(reg == LISHUI or eng.geo.city_of(reg) == LISHUI for reg, _ in got[lishui])
    reg, kpi = sorted(got[province])[0]
    msg = next(m for r, m in sent if r.id == province and m.title.startswith("指标转红") and
               eng.geo.get(reg).name_zh in m.title and eng.catalogue.kpi(kpi).name_zh in m.title)
    assert "状态由" in msg.text and "转为红" in msg.text and "period=2022-03" in msg.text
    # the same month again: nothing new
    assert job.run(eng, "t", PushConfig(brief_hour=24), now=NOW + dt.timedelta(hours=1), sender=sender)["queued"]["red"] == 0


def test_followup_overdue_then_escalated(demo):
    eng = demo_engine(demo)
    office = add(eng.store.engine, "email", "office@zj.example", "office", "330000")
    officer = add(eng.store.engine, "email", "o@zj.example", "officer", SHANGCHENG)
    lishui = add(eng.store.engine, "email", "l@zj.example", "leader", LISHUI)
    sent, sender = captured()
    item = next(i for i in fs.list_for(eng.store.engine, None) if i.owner_code == SHANGCHENG)
    assert item.deadline > NOW.date()  # answered, due later: nothing yet
    job.run(eng, "t", PushConfig(brief_hour=24), now=NOW, sender=sender)
    keys = {(d["recipient_id"], d["event_key"]) for d in rows(eng.store.engine) if d["kind"] == "followup"}
    assert (office, "followup:1:2") in keys  # the demo's escalated item (衢州市)
    assert not any(r == lishui for r, _ in keys) and not any(k.startswith(f"followup:{item.id}:") for _, k in keys)
    # a day after the deadline: overdue (督办) for the office and the county's officer
    day1 = dt.datetime.combine(item.deadline + dt.timedelta(days=1), dt.time(9))
    job.run(eng, "t", PushConfig(brief_hour=24), now=day1, sender=sender)
    # more than a week: escalated (通报), a second message
    day8 = dt.datetime.combine(item.deadline + dt.timedelta(days=8), dt.time(9))
    job.run(eng, "t", PushConfig(brief_hour=24), now=day8, sender=sender)
    job.run(eng, "t", PushConfig(brief_hour=24), now=day8 + dt.timedelta(hours=1), sender=sender)
    mine = [(r.id, m.title) for r, m in sent if f"#{item.id} " in m.title]
    assert sorted(mine) == sorted([(office, f"督办逾期：#{item.id} 上城区 · 一网通办率（办件）"),
                                   (officer, f"督办逾期：#{item.id} 上城区 · 一网通办率（办件）"),
                                   (office, f"督办升级通报：#{item.id} 上城区 · 一网通办率（办件）"),
                                   (officer, f"督办升级通报：#{item.id} 上城区 · 一网通办率（办件）")])
    text = next(m.text for r, m in sent if r.id == officer and f"#{item.id} " in m.title)
    assert "已逾期 1 天" in text and f"followup?period=2022-03&scope={SHANGCHENG}&item={item.id}" in text
    # a closed item is not pushed again
    with eng.store.engine.begin() as c:
        c.execute(followup_item.update().values(status="closed"))
    assert job.run(eng, "t", PushConfig(brief_hour=24), now=day8 + dt.timedelta(days=30),
                   sender=sender)["queued"]["followup"] == 0


def test_a_frozen_period_is_pushed_with_its_pack(demo, smtp, robot, tmp_path):
    eng = demo_engine(demo)
    mail = add(eng.store.engine, "email", "leader@zj.example", "leader", "330000")
    city_mail = add(eng.store.engine, "email", "lishui@zj.example", "leader", LISHUI)
    add(eng.store.engine, "dingtalk", robot.url, "leader", "330000", ROBOT_SECRET)
    fz = freeze_period(eng, "2022-03", user="office", force=True)
    sent = job.run(eng, "t", PushConfig(brief_hour=24), now=fz.known_at)
    assert sent["queued"]["freeze"] == 0  # no PDF yet: waits for the pack job
    pdf = tmp_path / "2022-03_驾驶舱会议材料.pdf"
    pdf.write_bytes(b"%PDF-1.4 frozen pack")
    record_pack_file(eng.store.engine, fz.id, fz.period, "zh", "pdf", str(pdf), pdf.stat().st_size, 1.0, "scheduler")
    res = job.run(eng, "t", PushConfig(brief_hour=24), now=fz.known_at + dt.timedelta(minutes=5))
    assert res["queued"]["freeze"] == 3 and res["failed"] == 0
    frozen = [(m, tls) for m, tls in smtp.messages if m["Subject"] == "2022-03 数据已冻结"]
    assert len(frozen) == 2 and all(tls for _, tls in frozen)
    by_to = {m["To"]: m for m, _ in frozen}
    att, = list(by_to["leader@zj.example"].iter_attachments())
    assert att.get_filename() == pdf.name and att.get_content() == pdf.read_bytes()
    assert list(by_to["lishui@zj.example"].iter_attachments()) == []  # the pack shows every region
    assert "2022-03 数据已冻结" in robot.titles()
    assert {d["recipient_id"] for d in rows(eng.store.engine) if d["event_key"] == f"freeze:{fz.id}"} >= {mail, city_mail}


# -- retries, once only, a receiver that is down -------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.server),
                        pytest.param("mysql", marks=pytest.mark.server)])
def queue_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'q.sqlite'}"
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def queue(queue_url):
    """A scratch store with empty push tables."""
    store = scratch_store(queue_url)
    with store.engine.begin() as c:
        c.execute(push_delivery.delete())
        c.execute(push_recipient.delete())
    yield store.engine
    store.engine.dispose()


def test_retries_back_off_then_fail_and_are_kept(queue):
    rid = add(queue, "dingtalk", "http://127.0.0.1:9/x", "leader", "330000", ROBOT_SECRET)
    assert outbox.enqueue(queue, "red:330000:k:2022-03", rid, "red", "t", "x", now=NOW)
    calls = []

    def flaky(r, m):
        calls.append(m.title)
        raise SendError("receiver down")

    t = NOW
    assert outbox.deliver_due(queue, "a", attempts=3, backoff=60, sender=flaky, now=t)["retrying"] == 1
    (d,) = rows(queue)
    assert (d["status"], d["attempts"], d["next_at"]) == ("queued", 1, t + dt.timedelta(seconds=60))
    assert outbox.deliver_due(queue, "a", attempts=3, backoff=60, sender=flaky, now=t + dt.timedelta(seconds=59))["retrying"] == 0
    t += dt.timedelta(seconds=60)
    outbox.deliver_due(queue, "a", attempts=3, backoff=60, sender=flaky, now=t)
    (d,) = rows(queue)
    assert (d["status"], d["attempts"], d["next_at"]) == ("queued", 2, t + dt.timedelta(seconds=120))  # doubled
    t += dt.timedelta(seconds=120)
    assert outbox.deliver_due(queue, "a", attempts=3, backoff=60, sender=flaky, now=t)["failed"] == 1
    (d,) = rows(queue)
    assert (d["status"], d["attempts"]) == ("failed", 3) and "receiver down" in d["last_error"]
    assert len(calls) == 3
    assert outbox.deliver_due(queue, "a", attempts=3, backoff=60, sender=flaky, now=t + dt.timedelta(days=1))["failed"] == 0
    log = outbox.deliveries(queue, status="failed")
    assert list(log["recipient"]) == ["leader-330000-dingtalk"]
    # queued again by hand, then delivered
    assert outbox.retry(queue, now=t) == 1
    ok, sender = captured()
    assert outbox.deliver_due(queue, "a", attempts=3, backoff=60, sender=sender, now=t + dt.timedelta(days=1))["sent"] == 1
    assert rows(queue)[0]["status"] == "sent" and len(ok) == 1


def test_an_event_is_queued_and_sent_once_by_two_schedulers(queue):
    rid = add(queue, "dingtalk", "http://127.0.0.1:9/x", "leader", "330000", ROBOT_SECRET)
    assert outbox.enqueue(queue, "freeze:7", rid, "freeze", "t", "x", now=NOW)
    assert not outbox.enqueue(queue, "freeze:7", rid, "freeze", "t", "x", now=NOW)  # the second one: nothing
    with pytest.raises(sa.exc.IntegrityError), queue.begin() as c:  # the constraint itself, not only the check
        c.execute(push_delivery.insert().values(event_key="freeze:7", recipient_id=rid, kind="freeze", title="t",
                                                body="x", status="queued", attempts=0, next_at=NOW, created_at=NOW))
    for i in range(20):
        outbox.enqueue(queue, f"red:330000:k{i}:2022-03", rid, "red", "t", str(i), now=NOW)
    got: list[str] = []
    lock = threading.Lock()

    def slow(r, m):
        time.sleep(0.01)
        with lock:
            got.append(m.text)

    errors: list[Exception] = []

    def scheduler(name: str) -> None:
        try:
            outbox.deliver_due(queue, name, sender=slow, now=NOW)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, args=(n,)) for n in ("a", "b")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert sorted(got) == sorted(["x", *map(str, range(20))])  # every message once, none twice
    assert {d["status"] for d in rows(queue)} == {"sent"}


def test_a_row_left_sending_is_never_resent_on_its_own(queue):
    rid = add(queue, "email", "a@zj.example", "leader", "330000")
    outbox.enqueue(queue, "brief:2022-04-01", rid, "brief", "t", "x", now=NOW)
    with queue.begin() as c:  # a scheduler claimed it and died before it recorded the outcome
        c.execute(push_delivery.update().values(status="sending", claimed_by="dead", next_at=NOW))
    sent, sender = captured()
    assert outbox.deliver_due(queue, "b", sender=sender, now=NOW + dt.timedelta(minutes=5))["sent"] == 0
    res = outbox.deliver_due(queue, "b", sender=sender, now=NOW + dt.timedelta(minutes=20))
    assert res["stale"] == 1 and sent == []
    assert rows(queue)[0]["status"] == "failed" and "outcome unknown" in rows(queue)[0]["last_error"]


def test_once_only_across_a_scheduler_restart(demo, robot, monkeypatch):
    """The push job through the scheduler service, run twice and by a second scheduler instance: each
    message reaches the robot once."""
    monkeypatch.setenv("COCKPIT_BRIEF_HOUR", "0")
    store = Store(demo)
    add(store.engine, "dingtalk", robot.url, "leader", LISHUI, ROBOT_SECRET)
    first = Service(store, Config(instance_id="first", attempts=1, backoff=0))
    assert first.run_once("push") == "succeeded"
    n = len(robot.got)
    assert n >= 2 and any(t.startswith("早报 · 丽水市") for t in robot.titles())
    assert first.run_once("push") == "succeeded"  # a restart: the same events
    second = Service(Store(demo), Config(instance_id="second", attempts=1, backoff=0))
    assert second.run_once("push") == "succeeded"  # another scheduler on the same database
    assert len(robot.got) == n and len(set(robot.titles())) == n
    assert not robot.refused
    assert {d["status"] for d in rows(store.engine)} == {"sent"}


def test_a_down_receiver_is_retried_then_failed_then_delivered(demo, robot):
    eng = demo_engine(demo)
    add(eng.store.engine, "dingtalk", robot.url, "officer", SHANGCHENG, ROBOT_SECRET)
    robot.stop()
    cfg = PushConfig(brief_hour=8, attempts=3, backoff=30)
    t = NOW
    res = job.run(eng, "a", cfg, now=t)
    assert res["queued"]["brief"] == 1 and res["retrying"] == 1
    t += dt.timedelta(seconds=30)
    assert job.run(eng, "a", cfg, now=t)["retrying"] == 1
    t += dt.timedelta(seconds=60)
    assert job.run(eng, "a", cfg, now=t)["failed"] == 1
    (d,) = rows(eng.store.engine)
    assert d["status"] == "failed" and d["attempts"] == 3 and "unreachable" in d["last_error"]
    failed = outbox.deliveries(eng.store.engine, status="failed")
    assert list(failed["kind"]) == ["brief"]
    robot.start()  # back up: nothing was lost, the failed message is queued again and arrives once
    assert outbox.retry(eng.store.engine, now=t) == 1
    assert job.run(eng, "a", cfg, now=t + dt.timedelta(minutes=1))["sent"] == 1
    assert len(robot.got) == 1 and robot.titles()[0].startswith("早报 · 上城区")
    assert job.run(eng, "a", cfg, now=t + dt.timedelta(minutes=2))["sent"] == 0


# -- the pages ----------------------------------------------------------------------------------------------------
def test_admin_adds_a_recipient_and_sends_a_test_message(db_copy, use_db, robot):
    use_db(db_copy)
    at = run("pages/admin.py", user=ADMIN)
    at.text_input(key="push_new_name").input("丽水驾驶舱群")
    at.selectbox(key="push_new_channel").select("dingtalk")
    at.text_input(key="push_new_address").input(robot.url)
    at.text_input(key="push_new_secret").input(ROBOT_SECRET)
    at.selectbox(key="push_new_role").select("leader")
    at.selectbox(key="push_new_scope").select(LISHUI)
    next(b for b in at.button if b.label == "添加接收方").click().run()
    assert not at.exception
    assert any("已添加接收方" in s.value for s in at.success)
    table = next(f.value for f in at.dataframe if "加签密钥" in f.value.columns)
    assert list(table["加签密钥"]) == ["已设置"] and ROBOT_SECRET not in table.to_string()
    at.button(key="push_test").click().run()
    assert any("测试消息已发送" in s.value for s in at.success), [e.value for e in at.error]
    assert robot.titles() == ["测试消息"] and not robot.refused
    robot.stop()
    at.button(key="push_test").click().run()
    assert any("测试消息发送失败" in e.value for e in at.error)


def test_jobs_page_shows_failed_deliveries_and_queues_them_again(db_copy, use_db):
    use_db(db_copy)
    engine = Store(db_copy).engine
    rid = add(engine, "email", "a@zj.example", "leader", "330000")
    outbox.enqueue(engine, "brief:2022-04-01", rid, "brief", "早报 · 浙江省 · 2022-04-01", "x", now=NOW)
    with engine.begin() as c:
        c.execute(push_delivery.update().values(status="failed", attempts=5, last_error="SendError: SMTP down"))
    at = run("pages/jobs.py")
    assert any("发送失败的推送（1 条）" in e.value for e in at.error)
    failed = next(f.value for f in at.dataframe if "接收方" in f.value.columns)
    assert list(failed["状态"]) == ["失败"] and "SMTP down" in failed["错误"].iloc[0]
    at.button(key="push_retry").click().run()
    assert any("已重新排队 1 条推送" in s.value for s in at.success)
    assert rows(engine)[0]["status"] == "queued"
