"""Helpers the benchmarks share: fresh databases, latency statistics."""
from __future__ import annotations

import os
import statistics
import tempfile
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
