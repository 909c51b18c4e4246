"""Test helpers: a small catalogue covering every aggregation kind (and the rankings' variant with a
scheme book), scratch-store set-up, the people of the follow-up tests, SQLite copies, the text of a
pack's PPTX and PDF, and a TCP proxy the outage tests cut (scheduler and app both reach the database
through it)."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import io
import shutil
import socket
import sqlite3
import subprocess
import threading

import pandas as pd
import pytest
from pptx import Presentation

from auth.accounts import User
from metrics.catalogue import Catalogue, parse_catalogue
from metrics.engine import MetricsEngine
from metrics.geography import geography
from metrics.schemes import SchemeBook, parse_schemes
from store import Store
from tests.conftest import REQUIRE_SERVERS

TODAY = dt.date(2026, 11, 23)


def _measure(code: str, grain: str, aggregation: str, level: str = "county") -> dict:
    return {
        "code": code, "name_zh": code, "name_en": code, "unit_zh": "个", "unit_en": "n", "grain": grain,
        "aggregation": aggregation, "level": level, "source_zh": "测试", "source_en": "test",
        "demo": {"kind": "flow", "start": 1.0, "end": 2.0},
    }


def _kpi(code: str, direction: str = "up", **kw) -> dict:
    base = {
        "code": code, "system": "s", "name_zh": code, "name_en": code, "unit_zh": "个", "unit_en": "n",
        "format": "integer", "direction": direction, "frequency": "monthly", "owner_zh": "测试",
        "owner_en": "test", "definition_zh": "测试", "definition_en": "test",
    }
    return base | kw


def small_catalogue() -> Catalogue:
    """Every aggregation kind once, plus ratios over flows and over a daily count ÷ stock."""
    return parse_catalogue({
        "version": 1,
        "default_status": {"method": "attainment", "green": 1.0, "amber": 0.95},
        "systems": [{"code": "s", "order": 0, "name_zh": "测试", "name_en": "Test", "short_zh": "测", "short_en": "T"}],
        "measures": [
            _measure("flow_m", "month", "sum"),
            _measure("base_m", "month", "sum"),
            _measure("stock_m", "month", "last"),
            _measure("daily_m", "day", "mean_daily"),
            _measure("dayflow_m", "day", "sum"),
            _measure("prov_m", "month", "sum", "province"),
        ],
        "kpis": [
            _kpi("k_flow", kind="simple", measure="flow_m", targets=[{"year": 2023, "value": 100, "source": "assumed"}]),
            _kpi("k_stock", kind="simple", measure="stock_m"),
            _kpi("k_daily", kind="simple", measure="daily_m", frequency="daily"),
            _kpi("k_dayflow", kind="simple", measure="dayflow_m", frequency="daily"),
            _kpi("k_ratio", kind="ratio", numerator="flow_m", denominator="base_m", format="percent",
                 targets=[{"year": 2023, "value": 0.5, "source": "assumed"}]),
            _kpi("k_daily_ratio", kind="ratio", numerator="daily_m", denominator="stock_m", format="percent"),
            _kpi("k_down", direction="down", kind="simple", measure="flow_m",
                 targets=[{"year": 2023, "value": 100, "source": "assumed"}]),
            _kpi("k_prov", kind="simple", measure="prov_m"),
        ],
    })


def scratch_store(url: str) -> Store:
    """The store at `url`, migrated, reference data loaded, all figures removed."""
    store = Store(url)
    store.migrate()
    store.sync_reference(geography())
    clear(store)
    return store


def engine_for(store: Store, catalogue: Catalogue | None = None) -> MetricsEngine:
    return MetricsEngine(store, catalogue=catalogue or small_catalogue(), today=TODAY)


def clear(store: Store) -> None:
    """Remove all figures and batches, keeping schema and reference data."""
    store.replace_all(
        pd.DataFrame(), pd.DataFrame(columns=["batch_id", "region_code", "measure_code", "obs_date", "value"]), {}
    )


class TcpProxy:
    """A TCP forwarder the test can cut: down() drops every connection and refuses new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.up()

    def up(self) -> None:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self.port = ls.getsockname()[1]
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        if self._listener is not None:
            # shutdown first: close() alone leaves a listener blocked in accept() accepting on Linux
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def overwrite_cells(data: bytes, cells: dict[str, object]) -> bytes:
    """A filled template with raw values written into its data row, by measure code (bad-input tests)."""
    import io

    from openpyxl import load_workbook

    from ingest.templates import DATA_ROW, HEADER_ROW

    wb = load_workbook(io.BytesIO(data))
    ws = wb["填报"]
    cols = {ws.cell(HEADER_ROW, c).value: c for c in range(1, ws.max_column + 1)}
    for code, v in cells.items():
        ws.cell(DATA_ROW, cols[code], v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- the rankings' catalogue and scheme book -----------------------------------------------------------
@functools.cache
def rank_catalogue() -> Catalogue:
    """The helpers' small catalogue plus a rate with a minimum denominator and a 'down' rate."""
    raw = small_catalogue().model_dump()
    for k in raw["kpis"]:  # county-level targets for the count KPIs, so counties can be scored on them
        if k["code"] in ("k_flow", "k_down"):
            k["target_scope"] = "all"
    raw["kpis"].append({**copy.deepcopy(raw["kpis"][4]), "code": "k_rate", "name_zh": "k_rate",
                        "name_en": "k_rate", "min_denominator": 10.0})
    raw["kpis"].append({**copy.deepcopy(raw["kpis"][4]), "code": "k_bad", "name_zh": "k_bad",
                        "name_en": "k_bad", "direction": "down",
                        "targets": [{"year": 2023, "value": 0.1, "source": "assumed"}]})
    return parse_catalogue(raw)


def scheme_book(**overrides) -> SchemeBook:
    """A small scheme book on the ranking catalogue: a weighted scheme and one list of each rule."""
    raw = {
        "version": 1,
        "schemes": [{
            "code": "sc", "name_zh": "测试评价", "name_en": "Test evaluation", "normalisation": "attainment",
            "kpis": [{"kpi": "k_flow", "weight": 3}, {"kpi": "k_down", "weight": 1}],
        }],
        "lists": [
            {"code": "bottom2", "board": "black", "rule": "bottom_n", "kpis": ["k_flow"], "population": "counties", "n": 2},
            {"code": "top1", "board": "red", "rule": "top_n", "scheme": "sc", "n": 1},
            {"code": "decline3", "board": "black", "rule": "consecutive_decline", "kpis": ["k_ratio", "k_bad"], "k": 3},
            {"code": "off3", "board": "black", "rule": "off_target", "kpis": ["k_ratio"], "m": 3},
            {"code": "late", "board": "black", "rule": "overdue", "kpis": ["k_flow"]},
        ],
    }
    raw.update(overrides)
    return parse_schemes(raw, rank_catalogue())


# -- the people of the follow-up tests -----------------------------------------------------------------
LEADER = User("leader", "leader", "330000")
LEADER2 = User("leader2", "leader", "330000")
LISHUI = User("lishui_leader", "leader", "331100")
OFFICE = User("office", "office", "330000")
ANALYST = User("analyst", "analyst", "330000")
OFFICER = User("officer_330102", "officer", "330102")
OTHER_OFFICER = User("officer_330106", "officer", "330106")


def month_rows(values: dict[tuple[str, str], float], month: dt.date) -> pd.DataFrame:
    """Observation rows for a batch: (region, measure) -> value, all in `month`."""
    return pd.DataFrame([{"region_code": r, "measure_code": m, "obs_date": month, "value": v}
                         for (r, m), v in values.items()])


# -- files -------------------------------------------------------------------------------------------
def copy_sqlite(url: str, dst) -> None:
    """A consistent copy of a SQLite database (the backup API: pages still in the WAL come along)."""
    src = sqlite3.connect(url.removeprefix("sqlite:///"))
    out = sqlite3.connect(dst)
    with out:
        src.backup(out)
    src.close()
    out.close()


def pptx_text(data: bytes) -> list[str]:
    """Text per slide: text frames and table cells."""
    prs = Presentation(io.BytesIO(data))
    out = []
    for slide in prs.slides:
        parts = []
        for shp in slide.shapes:
            if shp.has_text_frame:
                parts.append(shp.text_frame.text)
            if shp.has_table:
                parts += [c.text for r in shp.table.rows for c in r.cells]
        out.append("\n".join(parts))
    return out


def pdf_text(data: bytes) -> list[str]:
    """Text per page, by poppler's pdftotext (Debian poppler-utils): it reads the embedded CJK subset."""
    if shutil.which("pdftotext") is None:
        msg = "pdftotext not found (apt-get install poppler-utils)"
        if REQUIRE_SERVERS:
            pytest.fail(msg + " — mandatory in CI", pytrace=False)
        pytest.skip(msg)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8").split("\f")[: out.stdout.count(b"\f")]
