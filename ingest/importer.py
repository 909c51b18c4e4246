"""Import a county report or a platform feed: read, validate, preview, commit as one batch, roll back.

The core is callable with bytes and a file name (the app's upload page and the CLI both use it).
Nothing is written unless the whole file is valid; then its new and changed values commit in one
`Store.write_batch` (all rows or none) as a batch that records who, when, the file name and the
sha256 of the bytes. Unchanged values are not written again, so history shows real changes only.
A batch can be rolled back; a correction is simply a later batch (the earlier value stays).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from auth import audit
from ingest.messages import Issue, Lang, text
from ingest.reader import (
    DEFAULT_MAX_BYTES,
    Grid,
    Layout,
    ReadError,
    column_issues,
    find_layout,
    hidden_issues,
    merged_issues,
    note_rows,
    read_grids,
    to_records,
)
from ingest.templates import TEMPLATE_TEXT
from ingest.validate import EARLIEST_FEED, EARLIEST_REPORT, Context, compact_rows, validate
from metrics.catalogue import Catalogue
from metrics.catalogue import catalogue as default_catalogue
from metrics.geography import Geography, geography
from store import Store
from store.store import Batch

CHANGE_COLUMNS = ["region_code", "measure_code", "obs_date", "value", "old_value", "status", "row", "col"]


@dataclass
class ImportOptions:
    """How strict and how big: feeds (platform logs) reach back to 2016 and need no reporting county."""

    max_bytes: int = DEFAULT_MAX_BYTES
    today: dt.date | None = None
    feed: bool = False

    @property
    def earliest(self) -> dt.date:
        return EARLIEST_FEED if self.feed else EARLIEST_REPORT


@dataclass
class ImportReport:
    file_name: str
    size: int
    checksum: str | None = None
    sheet: str | None = None
    layout: str | None = None  # long | wide
    encoding: str | None = None
    issues: list[Issue] = field(default_factory=list)
    changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHANGE_COLUMNS))
    n_records: int = 0
    preview: bool = False
    batch_id: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_count(self) -> int:
        """Every bad cell, including those folded into one line or only counted."""
        n = 0
        for i in self.errors:
            if i.code == "same_in_column":
                n += int(i.params.get("more", 0))
            elif i.code == "more_of_kind":
                n += int(i.params.get("n", 0))
            else:
                n += 1
        return n

    @property
    def committed(self) -> bool:
        return self.batch_id is not None

    def counts(self) -> dict[str, int]:
        vc = self.changes["status"].value_counts() if len(self.changes) else {}
        return {k: int(vc.get(k, 0)) for k in ("new", "changed", "unchanged")}

    def summary(self, lang: Lang = "zh") -> str:
        c = self.counts()
        if self.errors:
            return text("rejected", lang, errors=self.error_count)
        if self.batch_id is not None:
            return text("committed", lang, batch_id=self.batch_id, **c)
        if self.preview:
            return text("previewed", lang, **c)
        return text("nothing_changed", lang, n=c["unchanged"])

    def messages(self, lang: Lang = "zh") -> list[str]:
        return [i.message(lang) for i in self.issues]


def changes(rows: pd.DataFrame, stored: pd.DataFrame | None) -> pd.DataFrame:
    """Each valid row with the stored current value and new / changed / unchanged.

    `stored` is the validation's read of the store (it covers every key of the file), so the
    preview costs no second pass over the database.
    """
    key = ["region_code", "measure_code", "obs_date"]
    old = (stored if stored is not None else pd.DataFrame(columns=key + ["value"]))[key + ["value"]]
    out = rows.merge(old.rename(columns={"value": "old_value"}), on=key, how="left")
    out["old_value"] = out["old_value"].astype(float)
    out["status"] = "changed"
    out.loc[out["old_value"].isna(), "status"] = "new"
    same = out["old_value"].notna() & ((out["value"] - out["old_value"]).abs() <= 1e-9 * out["old_value"].abs().clip(lower=1))
    out.loc[same, "status"] = "unchanged"
    return out[CHANGE_COLUMNS]


def _pick(grids: list[Grid], cat: Catalogue) -> tuple[Grid, Layout] | None:
    """The template's data sheet first, then the first sheet with a recognisable header."""
    ordered = sorted(grids, key=lambda g: g.sheet != TEMPLATE_TEXT["data_sheet"])
    for g in ordered:
        layout = find_layout(g, cat)
        if layout:
            return g, layout
    return None


def _period_label(dates: pd.Series) -> str | None:
    months = sorted({f"{d:%Y-%m}" for d in pd.unique(dates)})
    if not months:
        return None
    return months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"


def analyse(
    data: bytes,
    file_name: str,
    store: Store | None,
    *,
    as_county: str | None = None,
    options: ImportOptions | None = None,
    cat: Catalogue | None = None,
    geo: Geography | None = None,
) -> ImportReport:
    """Read and check a file and work out what it would change; writes nothing."""
    opts = options or ImportOptions()
    cat, geo = cat or default_catalogue(), geo or geography()
    rep = ImportReport(file_name=file_name, size=len(data))
    t0 = dt.datetime.now()
    try:
        grids = read_grids(data, file_name, opts.max_bytes)
    except ReadError as exc:
        rep.issues.append(exc.issue)
        return rep
    rep.checksum = hashlib.sha256(data).hexdigest()
    rep.encoding = grids[0].encoding
    picked = _pick(grids, cat)
    if picked is None:
        rep.issues.append(Issue("error", "no_header", params={"rows": 30}))
        return rep
    grid, layout = picked
    rep.sheet, rep.layout, rep.encoding = grid.sheet, layout.kind, grid.encoding
    missing = []
    if "period" not in layout.roles:
        missing.append(TEMPLATE_TEXT["col_period"])
    if not ({"region", "region_name"} & set(layout.roles)) and not as_county:
        missing.append(TEMPLATE_TEXT["col_region"])
    for m in missing:
        rep.issues.append(Issue("error", "missing_column", row=layout.header_row,
                                params={"row": layout.header_row, "column": m}))
    rep.issues += merged_issues(grid, layout)
    rep.issues += hidden_issues(grid, layout)
    rep.issues += column_issues(grid, layout, cat)
    if rep.errors:
        return rep
    body = grid.frame.loc[grid.frame.index > layout.header_row]
    notes = note_rows(body, layout)
    if notes:
        first = next(v for v in body.loc[notes[0]].tolist() if isinstance(v, str) and v.strip())
        rep.issues.append(Issue("info", "note_rows", row=notes[0], params={
            "rows": compact_rows(notes), "example": first.strip()[:40]}))
    records, blanks = to_records(grid, layout, as_county, notes)
    rep.n_records = len(records)
    if records.empty:
        rep.issues.append(Issue("error", "no_data", row=layout.header_row, params={"row": layout.header_row}))
        return rep
    t1 = dt.datetime.now()
    ctx = Context(cat, geo, store, as_county, opts.today or dt.date.today(), opts.earliest)
    val = validate(records, ctx)
    rank = {"error": 0, "warning": 1, "info": 2}
    rep.issues += sorted(val.issues, key=lambda i: (rank[i.severity], i.row is None, i.row or 0))  # sheet order
    if blanks:
        rep.issues.append(Issue("info", "blank_cells", params={"n": len(blanks), "example": "、".join(blanks[:3])}))
    t2 = dt.datetime.now()
    if store is not None and not val.rows.empty:
        rep.changes = changes(val.rows, val.stored)
        for b in store.batches_with_checksum(rep.checksum)[:1]:
            rep.issues.append(Issue("warning", "duplicate_file", params={
                "batch_id": b["id"], "when": str(b["committed_at"]), "who": b["submitted_by"] or "?"}))
    rep.timings = {"read_s": (t1 - t0).total_seconds(), "validate_s": (t2 - t1).total_seconds(),
                   "preview_s": (dt.datetime.now() - t2).total_seconds()}
    return rep


def import_bytes(
    data: bytes,
    file_name: str,
    store: Store,
    *,
    as_county: str | None = None,
    user: str | None = None,
    preview: bool = False,
    options: ImportOptions | None = None,
    cat: Catalogue | None = None,
    geo: Geography | None = None,
    received_at: dt.datetime | None = None,
    on_behalf: str | None = None,
) -> ImportReport:
    """Analyse, then (unless `preview` or any error) commit the new and changed values as one batch.

    `user` is the account that submits (the signed-in user, the CLI's --user, the drop folder's
    scheduler): it is the batch's submitted_by and the audit entry's user, written in the batch's
    own transaction, so every import path leaves the same trail. `on_behalf` (a person the
    account reports for, free text) only goes into the batch's note. Refusals are logged by the
    caller through `ingest.quality.record_rejection`, which audits them too.
    """
    opts = options or ImportOptions()
    geo = geo or geography()
    if as_county is not None:
        as_county = resolve_county(as_county, geo)
    received = received_at or dt.datetime.now().replace(microsecond=0)
    rep = analyse(data, file_name, store, as_county=as_county, options=opts, cat=cat, geo=geo)
    rep.preview = preview
    if preview or rep.errors:
        return rep
    submitter = (user or os.environ.get("USER") or "unknown")[:64]
    source = "feed" if opts.feed else "import"
    target = as_county or ("feed" if opts.feed else "office")
    behalf = (on_behalf or "").strip()[:100] or None
    todo = rep.changes[rep.changes["status"] != "unchanged"]
    if todo.empty:
        rep.issues.append(Issue("info", "nothing_changed", params={"n": len(rep.changes)}))
        audit.record(store, submitter, "import", target, _audit_detail(rep, file_name, source, behalf))
        return rep
    regions = todo["region_code"].unique()
    batch = Batch(
        source=source, received_at=received,
        region_code=as_county or (regions[0] if len(regions) == 1 else None),
        period=_period_label(todo["obs_date"]), file_name=os.path.basename(file_name)[:255],
        checksum=rep.checksum, submitted_by=submitter, note=f"代报人 on behalf of: {behalf}" if behalf else None,
    )
    t = dt.datetime.now()
    with store.engine.begin() as conn:  # the batch and its audit entry stand or fall together
        rep.batch_id = store.write_batch(batch, todo[["region_code", "measure_code", "obs_date", "value"]], conn=conn)
        audit.record(store, submitter, "import", target, _audit_detail(rep, file_name, source, behalf), conn=conn)
    rep.timings["commit_s"] = (dt.datetime.now() - t).total_seconds()
    return rep


def _audit_detail(rep: ImportReport, file_name: str, source: str, on_behalf: str | None) -> str:
    behalf = f" on_behalf={on_behalf}" if on_behalf else ""
    return (f"{os.path.basename(file_name)} batch={rep.batch_id} source={source}{behalf} "
            f"sha256={(rep.checksum or '')[:16]} {rep.summary('en')}")[:2000]


def import_file(path: str | Path, store: Store, **kw) -> ImportReport:
    """Import a file from disk; the size limit is checked before the file is read."""
    opts: ImportOptions = kw.get("options") or ImportOptions()
    size = os.path.getsize(path)
    if size > opts.max_bytes:
        rep = ImportReport(file_name=os.path.basename(str(path)), size=size)
        rep.issues.append(Issue("error", "file_too_large", params={
            "size_mb": size / 2**20, "limit_mb": opts.max_bytes / 2**20}))
        return rep
    return import_bytes(Path(path).read_bytes(), os.path.basename(str(path)), store, **kw)


def resolve_county(text_: str, geo: Geography | None = None) -> str:
    """The reporting county from a code or name; anything else is a usage error."""
    geo = geo or geography()
    code = geo.resolve(text_)
    if geo.get(code).level != "county":
        raise KeyError(f"{code} ({geo.get(code).name_zh}) is not a county-level division")
    return code


def rollback(store: Store, batch_id: int, user: str | None = None, lang: Lang = "zh") -> tuple[bool, str]:
    """Withdraw a batch; (done, message). Every attempt is audited, from whichever path."""
    b = store.batch(batch_id)
    if b is None:
        ok, msg, en = False, text("rollback_missing", lang, batch_id=batch_id), text("rollback_missing", "en",
                                                                                     batch_id=batch_id)
    elif b["status"] != "committed":
        ok = False
        msg = text("rollback_not_committed", lang, batch_id=batch_id, status=b["status"])
        en = text("rollback_not_committed", "en", batch_id=batch_id, status=b["status"])
    else:
        n = store.rollback_batch(batch_id, user)
        ok, msg, en = True, text("rolled_back", lang, batch_id=batch_id, n=n), text("rolled_back", "en",
                                                                                   batch_id=batch_id, n=n)
    audit.record(store, user, "rollback", f"batch {batch_id}", f"ok={ok} {en}")
    return ok, msg
