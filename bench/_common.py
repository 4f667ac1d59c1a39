"""Helpers the benchmarks share: fresh databases, latency statistics."""
from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

import models_registry
import schema
from ledger.db import make_engine

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def fresh_sqlite(name: str) -> str:
    path = Path(tempfile.mkdtemp(prefix="machi-bench-")) / f"{name}.db"
    url = f"sqlite:///{path}"
    _migrate(url)
    return url


def fresh_postgres(name: str) -> str | None:
    """A new database `machi_bench_<name>` on the local server, or None when there is none."""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS machi_bench_{name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE machi_bench_{name}"))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - no server: the caller prints that it was skipped
        print(f"  (PostgreSQL not reachable: {type(exc).__name__})")
        return None
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/machi_bench_{name}"
    _migrate(url)
    return url


def _migrate(url: str) -> None:
    schema.upgrade(url)
    engine = make_engine(url)
    models_registry.metadata().create_all(engine)
    engine.dispose()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(latencies_ms: list[float], seconds: float) -> dict[str, float]:
    return {
        "count": len(latencies_ms),
        "per_second": round(len(latencies_ms) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(statistics.median(latencies_ms), 2) if latencies_ms else float("nan"),
        "p99_ms": round(percentile(latencies_ms, 99), 2),
    }


# ---------------------------------------------------------------- a server under load

Request = tuple[str, str, bytes, dict[str, str]]  # method, path, body, headers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Until the server started as `proc` answers /healthz (gunicorn loads the app in each worker)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer /healthz")


def closed_loop(port: int, clients: int, seconds: float, request: Callable[[int, int], Request],
                ok_status: int, *, rate: float | None = None) -> tuple[list[float], list[str], float]:
    """`clients` threads, each on its own keep-alive connection, send `request(client, k)` for `seconds`;
    latencies (ms) of the answers with `ok_status`, the other outcomes, and the seconds it took.

    Without `rate`, as fast as the answers come back (closed loop: the server's most, and a latency
    that is mostly the queue of the other callers). With `rate` (requests a second, all clients
    together), each client sends on a fixed schedule, staggered against the others, and a latency
    counts from the time the request was due: a server that falls behind is charged for the wait
    too, not only for the requests it managed to answer (no coordinated omission)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    gate = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        done: list[float] = []
        failed: list[str] = []
        gate.wait()
        k = 0
        interval = clients / rate if rate else 0.0
        due = stop_at[0] - seconds + interval * n / clients
        while time.perf_counter() < stop_at[0]:
            k += 1
            method, path, body, headers = request(n, k)
            if interval:
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                t0, due = due, due + interval
                if t0 >= stop_at[0]:
                    break
            else:
                t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                failed.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if resp.status == ok_status:
                done.append((time.perf_counter() - t0) * 1000)
            else:
                failed.append(f"{resp.status}:{payload[:80]!r}")
        conn.close()
        with lock:
            latencies.extend(done)
            errors.extend(failed)

    pool = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in pool:
        t.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    gate.wait()
    for t in pool:
        t.join(seconds + 60)
    return latencies, errors, time.perf_counter() - began
