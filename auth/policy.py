"""Who may do what: the one table of roles and permissions, and what a scope lets one read.

Scopes: the province (330000) sees every region and group; a city sees the city and its counties;
a county sees only itself. A city- or county-scoped user does NOT read the province aggregate, other
cities, or peer groups (they mix counties of other cities): the narrow reading, so nothing about a
region outside the scope can be derived. Rankings shown to a scoped user list only in-scope rows.
"""

from __future__ import annotations

import re

from metrics.access import Scope
from metrics.geography import PROVINCE, Geography, geography

ROLES = ("leader", "office", "analyst", "officer", "admin")

# permission -> roles holding it (the specified role table; "import" for the office: any county, the
# provincial data desk; for a county officer: their own county only — see `may_import`)
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"leader", "office", "analyst"}),  # the cockpit's data pages, in scope
    "download": frozenset({"office", "analyst"}),  # CSV/Excel of data
    "import": frozenset({"office", "officer"}),
    "rollback": frozenset({"office", "admin"}),
    "quality": frozenset({"office", "analyst", "officer"}),  # data-quality page, in scope
    "freeze": frozenset({"office"}),
    "export_pack": frozenset({"office"}),
    "manage_schemes": frozenset({"office"}),
    "present": frozenset({"leader", "office"}),
    "accounts": frozenset({"admin"}),
    "audit": frozenset({"admin"}),
    "jobs": frozenset({"admin"}),
    # 批示督办: leaders and the office write instructions; the follow-up page is read by
    # analysts too (read-only) and by county officers (their own county's items, which they answer)
    "instruct": frozenset({"leader", "office"}),
    "followup": frozenset({"leader", "office", "analyst", "officer"}),
}

# page url_path -> the permission needed to see it (pages not listed need "read")
PAGES: dict[str, str] = {
    "overview": "read", "kpi": "read", "map": "read", "county": "read", "rankings": "read", "compare": "read",
    "system": "read", "data_in": "import", "quality": "quality", "jobs": "jobs",
    "pack": "export_pack", "present": "present", "admin": "accounts", "followup": "followup",
}


def can(role: str, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return role in PERMISSIONS[permission]


# pages whose content is the whole province's (the meeting pack): no narrower scope sees them
PROVINCE_PAGES = frozenset({"pack", "present"})


def may_see_page(role: str, page: str, scope_code: str | None = None) -> bool:
    if page in PROVINCE_PAGES and scope_code is not None and scope_code != PROVINCE:
        return False
    return can(role, PAGES.get(page, "read"))


def scope_regions(code: str, geo: Geography | None = None) -> frozenset[str]:
    """Every region code a user given `code` may read: the read boundary's scope (metrics.access)."""
    return scope_of(code, geo).regions


def scope_of(code: str, geo: Geography | None = None) -> Scope:
    """The read boundary's scope for `code`; raises ValueError for anything but province, city, county."""
    return Scope.of(code, geo or geography())


def may_import(role: str, scope_code: str, county: str | None) -> bool:
    """The office imports for any county (or a file naming its regions: county None); a county
    officer only as their own county."""
    if role == "office":
        return True
    if role == "officer":
        return county is not None and county == scope_code
    return False


_TOKENS = re.compile(r"[,:|;\s\-/]+")


def regions_named(value: str, geo: Geography) -> list[str]:
    """Region codes a URL parameter value names: codes and Chinese/English names, alone or in a list
    ("330102,西湖区", "city:330100", "group:SHANQU26"), and codes inside compound codes (a problem code
    WT-<year>-<county>-<nnnn>); a township code stands for its county. Other words name nothing."""
    by_name = _names(geo)
    out: list[str] = []
    for tok in [value.strip(), *(x.strip() for x in value.split(",")), *_TOKENS.split(value)]:
        if not tok:
            continue
        code = tok if tok in geo.regions else by_name.get(tok) or by_name.get(tok.lower())
        if code is None and tok in geo.townships:
            code = geo.townships[tok].parent_code
        if code is not None and code not in out:
            out.append(code)
    return out


def outside_scope(values: list[str], geo: Geography, allowed: frozenset[str]) -> list[str]:
    """The region codes named in `values` (see regions_named) that lie outside `allowed`."""
    out: list[str] = []
    for v in values:
        out += [c for c in regions_named(str(v), geo) if c not in allowed and c not in out]
    return out


def _names(geo: Geography) -> dict[str, str]:
    """Region names (Chinese, lower-case English) -> code, kept on the geography object."""
    out = geo.__dict__.get("_scope_names")
    if out is None:
        out = {}
        for r in geo.regions.values():
            out.setdefault(r.name_zh, r.code)
            out.setdefault(r.name_en.lower(), r.code)
        geo.__dict__["_scope_names"] = out
    return out
