"""The HTML alternative of an e-mail, from the Markdown the robot gets: the small subset the messages
use (headings, bullet lists, bold, links, paragraphs), escaped. No library: the messages are ours.
"""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', out)


def markdown_html(title: str, text: str) -> str:
    parts: list[str] = []
    in_list = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(("- ", "* ")):
            if not in_list:
                parts.append("<ul>")
                in_list = True
            parts.append(f"<li>{_inline(s[2:])}</li>")
            continue
        if in_list:
            parts.append("</ul>")
            in_list = False
        if not s:
            continue
        m = re.match(r"(#{1,6})\s+(.*)", s)
        if m:
            n = len(m.group(1))
            parts.append(f"<h{n}>{_inline(m.group(2))}</h{n}>")
        else:
            parts.append(f"<p>{_inline(s)}</p>")
    if in_list:
        parts.append("</ul>")
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'</head><body style="font-family:sans-serif">{"".join(parts)}</body></html>')
