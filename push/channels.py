"""The two channels: a DingTalk-style robot webhook (浙政钉 custom robot) and e-mail over SMTP with
STARTTLS. Plain functions of a message; a failure raises `SendError` and the outbox retries.

The robot protocol: POST JSON {"msgtype": "markdown", "markdown": {"title", "text"}} to the webhook;
with a signing secret, `sign = urlencode(base64(HMAC-SHA256(secret, f"{timestamp_ms}\\n{secret}")))`
goes on the URL as `&timestamp=…&sign=…`. The robot answers {"errcode": 0} when it took the message;
any other errcode is a failure. E-mail settings come from the environment (`SmtpConfig.from_env`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from push.render import markdown_html

TIMEOUT = 15.0  # seconds per request: a receiver that hangs counts as down and is retried


class SendError(Exception):
    """The receiver did not take the message (down, refused, or answered an error)."""


@dataclass(frozen=True)
class Message:
    title: str
    text: str  # Markdown
    attachment: Path | None = None


# -- the robot webhook ------------------------------------------------------------------------------------
def sign(secret: str, timestamp_ms: int) -> str:
    """The robot signature, URL-encoded: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def signed_url(url: str, secret: str | None, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign(secret, ts)}"


def send_webhook(url: str, secret: str | None, msg: Message, timeout: float = TIMEOUT) -> None:
    body = json.dumps({"msgtype": "markdown", "markdown": {"title": msg.title, "text": msg.text}},
                      ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(signed_url(url, secret), data=body, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the administrator's URL
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raise SendError(f"HTTP {exc.code} from the webhook") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise SendError(f"webhook unreachable: {exc}") from exc
    try:
        answer = json.loads(raw.decode("utf-8") or "{}")
    except ValueError as exc:
        raise SendError(f"the webhook answered no JSON: {raw[:200]!r}") from exc
    if int(answer.get("errcode", 0)) != 0:
        raise SendError(f"the robot refused: errcode {answer.get('errcode')} {answer.get('errmsg', '')}")


# -- e-mail ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = "cockpit@localhost"
    starttls: bool = True
    cafile: str | None = None  # a private CA (or the test's self-signed certificate) to trust

    @classmethod
    def from_env(cls) -> SmtpConfig | None:
        """COCKPIT_SMTP_HOST (unset: no e-mail), _PORT, _USER, _PASSWORD, _FROM, _STARTTLS (0 = off), _CAFILE."""
        host = os.environ.get("COCKPIT_SMTP_HOST", "").strip()
        if not host:
            return None
        env = os.environ.get
        return cls(host=host, port=int(env("COCKPIT_SMTP_PORT") or 587), user=env("COCKPIT_SMTP_USER") or None,
                   password=env("COCKPIT_SMTP_PASSWORD") or None, sender=env("COCKPIT_SMTP_FROM") or cls.sender,
                   starttls=(env("COCKPIT_SMTP_STARTTLS") or "1") != "0", cafile=env("COCKPIT_SMTP_CAFILE") or None)


def email_message(cfg: SmtpConfig, to: str, msg: Message) -> EmailMessage:
    """Text (the Markdown as written) and HTML alternatives, plus the attachment when there is one."""
    em = EmailMessage()
    em["Subject"], em["From"], em["To"] = msg.title, cfg.sender, to
    em.set_content(msg.text)
    em.add_alternative(markdown_html(msg.title, msg.text), subtype="html")
    if msg.attachment is not None:
        path = Path(msg.attachment)
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        main, sub = ctype.split("/", 1)
        em.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    return em


def send_email(cfg: SmtpConfig | None, to: str, msg: Message, timeout: float = TIMEOUT) -> None:
    if cfg is None:
        raise SendError("e-mail is not configured (COCKPIT_SMTP_HOST)")
    if msg.attachment is not None and not Path(msg.attachment).is_file():
        raise SendError(f"attachment missing: {msg.attachment}")
    em = email_message(cfg, to, msg)
    try:
        with smtplib.SMTP(cfg.host, cfg.port, timeout=timeout) as smtp:
            if cfg.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=cfg.cafile))
            if cfg.user:
                smtp.login(cfg.user, cfg.password or "")
            smtp.send_message(em)
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"SMTP: {exc.__class__.__name__}: {exc}") from exc


def send(channel: str, address: str, secret: str | None, msg: Message, smtp: SmtpConfig | None = None) -> None:
    if channel == "dingtalk":
        send_webhook(address, secret, msg)
    elif channel == "email":
        send_email(smtp if smtp is not None else SmtpConfig.from_env(), address, msg)
    else:
        raise SendError(f"unknown channel {channel!r}")
