"""50 payers at once on one wallet: never overdrawn, each success recorded once (SQLite and PostgreSQL)."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from ledger import errors, invariants
from ledger.models import Entry
from ledger.services import payments


def test_fifty_threads_never_overdraw_one_wallet(town):
    town.give(town.alice, "COMMON", 10_000)
    ok: list[int] = []
    refused: list[str] = []
    unexpected: list[BaseException] = []
    start = threading.Barrier(50)

    def payer(i: int) -> None:
        start.wait()
        try:
            res = payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small if i % 2 else town.large,
                               amount=300, idempotency_key=f"c-{i}")
            ok.append(res.entry_id)
        except errors.InsufficientFunds as exc:
            refused.append(exc.code)
        except BaseException as exc:  # noqa: BLE001
            unexpected.append(exc)

    threads = [threading.Thread(target=payer, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not unexpected, unexpected
    assert len(ok) == 33 and len(refused) == 17  # 33 × 300 = 9,900 ≤ 10,000
    assert len(set(ok)) == 33
    assert town.balance(town.alice) == 100
    with town.db.session() as s:
        assert s.execute(select(func.count()).select_from(Entry).where(Entry.kind == "payment")).scalar_one() == 33
        assert invariants.check_all(s.connection(), chain=False).ok


def test_the_same_request_sent_twice_at_once_pays_once(town):
    town.give(town.alice, "COMMON", 10_000)
    results: list[int] = []
    start = threading.Barrier(10)

    def payer() -> None:
        start.wait()
        results.append(payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small, amount=1_000,
                                    idempotency_key="double-tap").entry_id)

    threads = [threading.Thread(target=payer) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 10 and len(set(results)) == 1
    assert town.balance(town.alice) == 9_000
