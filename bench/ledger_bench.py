"""Ledger benchmark (issue #2): payments through the payment service with 8 concurrent payers on a
ledger pre-filled with 10,000 residents, 50 shops and 200,000 past entries; expiry of 100,000 lots;
a monthly payout for 50 shops over 200,000 payments; sealing the hash chain."""
from __future__ import annotations

import multiprocessing
import random
import threading
import time
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select, text

from bench._common import summary
from ledger import chain, keys, registry
from ledger.clock import jst_date, utcnow
from ledger.db import Database
from ledger.events import MessageBus
from ledger.models import Account, Entry, Lot, Posting, Resident
from ledger.policy import Policy
from ledger.services import expiry, payments, payouts
from ledger.uow import UnitOfWork

START_BALANCE = 1_000_000


def prefill(url: str, residents: int = 10_000, shops: int = 50, past: int = 200_000,
            expiring: int = 100_000, seed: int = 7) -> dict[str, object]:
    """Bulk-load a consistent ledger with Core executemany (the services would take minutes)."""
    rnd = random.Random(seed)
    db = Database(url)
    now = utcnow()
    with db.write() as s:
        common = registry.create_money_type(s, code="COMMON", name="共通券", kind="prepaid", valid_until=date(2099, 3, 31))
        grant = registry.create_money_type(s, code="GRANT", name="給付金", kind="grant", validity_days=30)
        shop_rows = [registry.create_merchant(s, code=f"M{i:03d}", name=f"店{i}", category="small" if i % 3 else "large",
                                              fee_rate_bp=100) for i in range(shops)]
        shop_accounts = [m.account_id for m in shop_rows]
        shop_ids = [m.id for m in shop_rows]
        issuer = {mt.id: s.execute(select(Account.id).where(Account.code == f"issuer:{mt.id}")).scalar_one()
                  for mt in (common, grant)}
        common_id, grant_id = common.id, grant.id
    with db.write() as s:
        conn = s.connection()
        accs = conn.execute(insert(Account).returning(Account.id, sort_by_parameter_order=True),
                            [{"kind": "resident", "code": f"bench-resident:{i}"} for i in range(residents)]).scalars().all()
        res_ids = conn.execute(insert(Resident).returning(Resident.id, sort_by_parameter_order=True), [
            {"line_user_id": f"U{i:032x}", "account_id": a, "name": "", "district": "苫前", "status": "active",
             "registered_at": now} for i, a in enumerate(accs)]).scalars().all()
        # past payments, decided first so each resident's lot is inserted with what is left of it
        plan = [(rnd.randrange(residents), rnd.randrange(shops), rnd.randint(100, 3000),
                 now - timedelta(days=26, seconds=-rnd.randrange(24 * 86400))) for _ in range(past - residents)]
        spent = [0] * residents
        for r, _m, a, _t in plan:
            spent[r] += a
        issue_entries = conn.execute(insert(Entry).returning(Entry.id, sort_by_parameter_order=True), [
            {"kind": "issue", "amount": START_BALANCE, "resident_id": res_ids[i], "created_at": now - timedelta(days=26),
             "actor": "bench"} for i in range(residents)]).scalars().all()
        lots = conn.execute(insert(Lot).returning(Lot.id, sort_by_parameter_order=True), [
            {"account_id": accs[i], "money_type_id": common_id, "amount": START_BALANCE,
             "remaining": START_BALANCE - spent[i], "expires_at": None, "entry_id": issue_entries[i],
             "created_at": now - timedelta(days=26)} for i in range(residents)]).scalars().all()
        _postings(conn, [p for i in range(residents) for p in (
            (issue_entries[i], issuer[common_id], common_id, -START_BALANCE, None),
            (issue_entries[i], accs[i], common_id, START_BALANCE, lots[i]))])
        pay_entries = conn.execute(insert(Entry).returning(Entry.id, sort_by_parameter_order=True), [
            {"kind": "payment", "amount": a, "resident_id": res_ids[r], "merchant_id": shop_ids[m],
             "channel": "cpm", "created_at": t, "actor": "bench", "idempotency_key": f"past-{k}"}
            for k, (r, m, a, t) in enumerate(plan)]).scalars().all()
        shop_lots = conn.execute(insert(Lot).returning(Lot.id, sort_by_parameter_order=True), [
            {"account_id": shop_accounts[m], "money_type_id": common_id, "amount": a, "remaining": a,
             "entry_id": pay_entries[k], "created_at": t} for k, (r, m, a, t) in enumerate(plan)]).scalars().all()
        _postings(conn, [p for k, (r, m, a, _t) in enumerate(plan) for p in (
            (pay_entries[k], accs[r], common_id, -a, lots[r]),
            (pay_entries[k], shop_accounts[m], common_id, a, shop_lots[k]))])
        # lots that expired yesterday, for the expiry run: one issue entry per 1,000 lots
        for start in range(0, expiring, 1000):
            n = min(1000, expiring - start)
            eid = conn.execute(insert(Entry).values(kind="issue", amount=n * 500, created_at=now - timedelta(days=31),
                                                    actor="bench").returning(Entry.id)).scalar_one()
            owners = [accs[(start + j) % residents] for j in range(n)]
            ids = conn.execute(insert(Lot).returning(Lot.id, sort_by_parameter_order=True), [
                {"account_id": a, "money_type_id": grant_id, "amount": 500, "remaining": 500,
                 "expires_at": now - timedelta(hours=1), "entry_id": eid, "created_at": now - timedelta(days=31)}
                for a in owners]).scalars().all()
            _postings(conn, [(eid, issuer[grant_id], grant_id, -n * 500, None)]
                      + [(eid, a, grant_id, 500, lot) for a, lot in zip(owners, ids, strict=True)])
    if not db.sqlite:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    db.dispose()
    return {"residents": res_ids, "shops": shop_ids,
            "entries": past + expiring // 1000}


def _postings(conn, rows: list[tuple]) -> None:
    for i in range(0, len(rows), 50_000):
        conn.execute(insert(Posting), [{"entry_id": e, "account_id": a, "money_type_id": mt, "amount": amt,
                                        "lot_id": lot} for e, a, mt, amt, lot in rows[i:i + 50_000]])


def payments_bench(url: str, residents: list[int], shops: list[int], *, payers: int = 8,
                   seconds: float = 10.0) -> dict[str, float]:
    db = Database(url)
    uow = UnitOfWork(db, MessageBus(), Policy())
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def payer(n: int) -> None:
        rnd = random.Random(n)
        mine: list[float] = []
        k = 0
        while time.perf_counter() < stop:
            k += 1
            t0 = time.perf_counter()
            try:
                payments.pay(uow, resident_id=rnd.choice(residents), merchant_id=rnd.choice(shops),
                             amount=rnd.randint(100, 2000), idempotency_key=f"bench-{n}-{k}")
            except Exception as exc:  # noqa: BLE001 - counted and shown
                errors.append(type(exc).__name__)
                continue
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)

    began = time.perf_counter()
    threads = [threading.Thread(target=payer, args=(i,)) for i in range(payers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = summary(latencies, time.perf_counter() - began)
    out["errors"] = len(errors)
    db.dispose()
    return out


def _payer_process(url: str, residents: list[int], shops: list[int], n: int, seconds: float, start_at: float,
                   out) -> None:
    """One payer in its own process, as a gunicorn worker would be: its own interpreter, its own GIL."""
    db = Database(url)
    uow = UnitOfWork(db, MessageBus(), Policy())
    rnd = random.Random(n)
    lat: list[float] = []
    errs = 0
    while time.time() < start_at:
        time.sleep(0.001)
    stop = time.perf_counter() + seconds
    k = 0
    while time.perf_counter() < stop:
        k += 1
        t0 = time.perf_counter()
        try:
            payments.pay(uow, resident_id=rnd.choice(residents), merchant_id=rnd.choice(shops),
                         amount=rnd.randint(100, 2000), idempotency_key=f"bench-p{n}-{k}")
        except Exception:  # noqa: BLE001 - counted
            errs += 1
            continue
        lat.append((time.perf_counter() - t0) * 1000)
    db.dispose()
    out.put((lat, errs))


def payments_bench_processes(url: str, residents: list[int], shops: list[int], *, payers: int = 8,
                             seconds: float = 10.0) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3.0  # every process imported and connected before the clock starts
    procs = [ctx.Process(target=_payer_process, args=(url, residents, shops, i, seconds, start_at, out))
             for i in range(payers)]
    for p in procs:
        p.start()
    latencies: list[float] = []
    errors = 0
    for _ in procs:
        lat, errs = out.get()
        latencies.extend(lat)
        errors += errs
    for p in procs:
        p.join()
    res = summary(latencies, seconds)
    res["errors"] = errors
    return res


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def run(url: str, label: str, *, seconds: float = 10.0) -> dict[str, object]:
    print(f"[{label}] pre-filling 10,000 residents, 50 shops, 200,000 past entries, 100,000 expiring lots…", flush=True)
    t_fill, info = timed(lambda: prefill(url))
    print(f"[{label}]   pre-filled in {t_fill:.1f} s", flush=True)
    pay = payments_bench(url, info["residents"], info["shops"], seconds=seconds)
    print(f"[{label}] payments, 8 payer threads, {seconds:.0f} s: {pay['per_second']:.0f}/s  p50 {pay['p50_ms']} ms  "
          f"p99 {pay['p99_ms']} ms  ({pay['count']} payments, {pay['errors']} errors)", flush=True)
    pay_p = payments_bench_processes(url, info["residents"], info["shops"], seconds=seconds)
    print(f"[{label}] payments, 8 payer processes, {seconds:.0f} s: {pay_p['per_second']:.0f}/s  "
          f"p50 {pay_p['p50_ms']} ms  p99 {pay_p['p99_ms']} ms  ({pay_p['count']} payments, "
          f"{pay_p['errors']} errors)", flush=True)
    db = Database(url)
    uow = UnitOfWork(db, MessageBus(), Policy())
    t_exp, res = timed(lambda: expiry.expire(uow))
    print(f"[{label}] expiry of {res.lots:,} lots: {t_exp:.2f} s", flush=True)
    today = jst_date(datetime.utcnow())
    with db.session() as s:
        n_pay = s.execute(select(Entry.id).where(Entry.kind == "payment").order_by(Entry.id.desc()).limit(1)).scalar()
    t_pay, run_ = timed(lambda: payouts.run_payouts(uow, today - timedelta(days=30), today - timedelta(days=1), today + timedelta(days=3)))
    print(f"[{label}] monthly payout, {run_.created} shops over ~{n_pay:,} payments: {t_pay:.2f} s", flush=True)
    t_seal, sealed = timed(lambda: chain.seal(db, keys.seal_key("bench"), batch=5000).sealed["entries"])
    print(f"[{label}] sealing the hash chain: {sealed:,} entries in {t_seal:.1f} s "
          f"({sealed / t_seal:,.0f} entries/s)", flush=True)
    db.dispose()
    return {"label": label, "prefill_s": round(t_fill, 1), "payments_threads": pay, "payments_processes": pay_p, "expiry_s": round(t_exp, 2),
            "expired_lots": res.lots, "payout_s": round(t_pay, 2), "payout_shops": run_.created,
            "seal_per_s": round(sealed / t_seal)}
