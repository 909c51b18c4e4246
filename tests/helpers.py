"""Test helpers: a small catalogue covering every aggregation kind, scratch-store set-up, and a TCP
proxy the outage tests cut (scheduler and app both reach the database through it)."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading

import pandas as pd

from metrics.catalogue import Catalogue, parse_catalogue
from metrics.engine import MetricsEngine
from metrics.geography import geography
from store import Store

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
