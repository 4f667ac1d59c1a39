"""Staff jobs benchmark: an announcement to 100,000 residents and a push-type grant run to 100,000
residents (credits and the notice) against a local fake LINE HTTP server, and `machi report kpi` over
1,000,000 payments. Targets (printed next to the figures, never asserted): each send under 60 s, the
report under 10 s.

Residents and past payments are bulk-inserted with Core executemany (the services would take far
longer); the timed parts go through the real code: `announce.deliver`, `grant_run.run_push` (the
ledger's award_many plus the multicast notice) and the `machi report kpi` command.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, insert, select, text

from admin_cli.main import cli
from app import build_core
from bot.line_client import LineClient
from config import load_config
from ledger import registry
from ledger.clock import jst_date, utcnow
from ledger.db import Database
from ledger.models import Account, Entry, GrantProgram, Posting, Resident
from simulator.fake_line_server import run_fake_line
from town import announce, grant_run

TOKEN = "bench-token"
TARGET_SEND_S = 60.0
TARGET_KPI_S = 10.0


def _residents(db: Database, count: int) -> None:
    now = utcnow()
    with db.write() as s:
        conn = s.connection()
        for start in range(0, count, 20_000):
            n = min(20_000, count - start)
            accs = conn.execute(insert(Account).returning(Account.id, sort_by_parameter_order=True),
                                [{"kind": "resident", "code": f"bench:{start + i}"} for i in range(n)]).scalars().all()
            conn.execute(insert(Resident), [
                {"line_user_id": f"U{start + i:032x}", "account_id": a, "name": "", "district": "苫前",
                 "birth_date": date(1940 + (start + i) % 70, 1, 1), "language": "en" if (start + i) % 50 == 0 else "ja",
                 "status": "active", "reachable": (start + i) % 40 != 0, "registered_at": now - timedelta(days=30)}
                for i, a in enumerate(accs)])


def sends(url: str, residents: int = 100_000) -> dict[str, Any]:
    """The announcement and the grant run, each timed end to end against the fake LINE server."""
    db = Database(url)
    with db.write() as s:
        mt = registry.create_money_type(s, code="GRANT", name="くらし応援券", kind="grant", validity_days=180)
        s.add(GrantProgram(code="ALL100K", name="くらし応援給付", money_type_id=mt.id, amount=5_000, mode="push"))
    _residents(db, residents)
    db.dispose()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request would drown the figures
    logging.getLogger("bot.line_client").setLevel(logging.WARNING)
    line_url, store, stop = run_fake_line(channel_access_token=TOKEN)
    core = build_core(load_config(database_url=url, env="test", line_api_host=line_url,
                                  line_channel_access_token=TOKEN))
    client = LineClient(line_url, TOKEN, timeout=30.0, max_retries=3)
    out: dict[str, Any] = {"residents": residents}
    try:
        t0 = time.perf_counter()
        ann = announce.create(core.db, title="全住民へのお知らせ", messages=[{"type": "text", "text": "【苫前町】大雪に備えてください"}],
                              criteria={}, actor="bench")
        rep = announce.deliver(core.db, client, ann)
        t_ann = time.perf_counter() - t0
        out["announce_s"] = round(t_ann, 2)
        out["announce_recipients"] = rep.recipients
        out["announce_skipped"] = rep.skipped
        out["announce_requests"] = len(store.requests_to("/v2/bot/message/multicast"))
        store.clear()

        t0 = time.perf_counter()
        g = grant_run.run_push(core, "ALL100K", actor="bench", sender=client)
        t_grant = time.perf_counter() - t0
        out["grant_s"] = round(t_grant, 2)
        out["grant_awarded"] = g.awarded
        out["grant_total_yen"] = g.total
        out["grant_notified"] = g.notified
        out["grant_requests"] = len(store.requests_to("/v2/bot/message/multicast"))
        with core.db.session() as s:
            out["grant_entries"] = s.execute(select(func.count()).select_from(Entry)
                                             .where(Entry.ref == "grant:ALL100K")).scalar_one()
    finally:
        client.close()
        core.db.dispose()
        stop()
    return out


def _payments(url: str, count: int, residents: int = 20_000, shops: int = 50, days: int = 30, seed: int = 3) -> date:
    """`count` past payments (entry + two postings each) spread over `days` days; returns the last day."""
    rnd = random.Random(seed)
    db = Database(url)
    now = utcnow()
    with db.write() as s:
        mt = registry.create_money_type(s, code="PREM", name="プレミアム商品券", kind="prepaid", valid_until=date(2099, 3, 31))
        shop_rows = [registry.create_merchant(s, code=f"M{i:03d}", name=f"店{i}", category="small" if i % 3 else "large")
                     for i in range(shops)]
        shop_ids = [m.id for m in shop_rows]
        shop_acc = [m.account_id for m in shop_rows]
        mt_id = mt.id
    _residents(db, residents)
    with db.session() as s:
        people = s.execute(select(Resident.id, Resident.account_id).order_by(Resident.id)).all()
    with db.write() as s:
        conn = s.connection()
        for start in range(0, count, 50_000):
            n = min(50_000, count - start)
            plan = [(people[rnd.randrange(len(people))], rnd.randrange(shops), rnd.randint(100, 5000),
                     now - timedelta(days=days, seconds=-rnd.randrange(days * 86400))) for _ in range(n)]
            ids = conn.execute(insert(Entry).returning(Entry.id, sort_by_parameter_order=True), [
                {"kind": "payment", "amount": a, "resident_id": p.id, "merchant_id": shop_ids[m], "channel": "cpm",
                 "created_at": t, "actor": "bench", "idempotency_key": f"kpi-{start + k}"}
                for k, (p, m, a, t) in enumerate(plan)]).scalars().all()
            conn.execute(insert(Posting), [row for k, (p, m, a, _t) in enumerate(plan) for row in (
                {"entry_id": ids[k], "account_id": p.account_id, "money_type_id": mt_id, "amount": -a},
                {"entry_id": ids[k], "account_id": shop_acc[m], "money_type_id": mt_id, "amount": a})])
    if not db.sqlite:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    db.dispose()
    return jst_date(now)


def kpi(url: str, payments: int = 1_000_000, runs: int = 3) -> dict[str, Any]:
    t0 = time.perf_counter()
    today = _payments(url, payments)
    load_s = time.perf_counter() - t0
    start, end = today - timedelta(days=31), today
    out_dir = Path(tempfile.mkdtemp(prefix="machi-bench-kpi-"))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        res = CliRunner().invoke(cli, ["--database-url", url, "report", "kpi", "--from", str(start), "--to", str(end),
                                       "--out", str(out_dir)], catch_exceptions=False)
        times.append(time.perf_counter() - t0)
        if res.exit_code != 0:
            raise RuntimeError(res.output)
    return {"payments": payments, "load_s": round(load_s, 1), "kpi_runs_s": [round(t, 2) for t in times],
            "kpi_median_s": round(statistics.median(times), 2)}


def run(url_for: Any, label: str, only: str | None = None) -> dict[str, Any]:
    """One database flavour: `url_for(name)` makes a fresh, migrated database. `only="kpi"` (or the
    environment variable STAFF_BENCH_ONLY=kpi) skips the two sends and times the report alone."""
    only = only or os.environ.get("STAFF_BENCH_ONLY") or None
    s: dict[str, Any] = {}
    if only != "kpi":
        print(f"  [{label}] announcement and grant run to 100,000 residents …", flush=True)
        s = sends(url_for("staff_sends"))
        print(f"  [{label}] announcement: {s['announce_recipients']:,} recipients ({s['announce_skipped']:,} "
              f"unreachable) in {s['announce_requests']} multicasts: {s['announce_s']} s "
              f"(target < {TARGET_SEND_S:.0f} s)", flush=True)
        print(f"  [{label}] grant run: {s['grant_awarded']:,} credited ({s['grant_total_yen']:,} yen, "
              f"{s['grant_entries']:,} entries), notice to {s['grant_notified']:,} in {s['grant_requests']} "
              f"multicasts: {s['grant_s']} s (target < {TARGET_SEND_S:.0f} s)", flush=True)
    print(f"  [{label}] report kpi: loading 1,000,000 payments …", flush=True)
    k = kpi(url_for("staff_kpi"))
    print(f"  [{label}] report kpi over {k['payments']:,} payments: median {k['kpi_median_s']} s "
          f"(runs {k['kpi_runs_s']}; target < {TARGET_KPI_S:.0f} s; bulk load {k['load_s']} s)", flush=True)
    return {"database": label, **s, **k, "at": datetime.now().isoformat(timespec="seconds")}


def main() -> None:
    """`python -m bench.staff_bench --only kpi [--postgres]`: one part of the staff benchmark."""
    from bench import _common  # noqa: PLC0415 - only the command line needs the fresh-database helpers

    parser = argparse.ArgumentParser(prog="python -m bench.staff_bench")
    parser.add_argument("--only", choices=["kpi"], default=None, help="time only the KPI report")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    if args.postgres:
        print(run(_common.fresh_postgres, "PostgreSQL", only=args.only))
    else:
        print(run(_common.fresh_sqlite, "SQLite", only=args.only))


if __name__ == "__main__":
    main()
