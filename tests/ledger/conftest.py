"""A small town for ledger tests: money types, a small shop, a large store, residents."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from ledger import registry
from ledger.chain import Sealer
from ledger.events import MessageBus
from ledger.models import Event, GrantProgram, Resident, SaleOffer, Segment
from ledger.policy import Policy
from ledger.queries import balances
from ledger.services import issuing
from ledger.uow import UnitOfWork
from tests.tamper import disable_journal_guards


@dataclass
class Town:
    db: object
    uow: UnitOfWork
    bus: MessageBus
    small: int
    large: int
    alice: int
    bob: int
    events: list
    sealer: Sealer

    def balance(self, resident_id: int, code: str | None = None) -> int:
        with self.db.session() as s:
            acc = s.get(Resident, resident_id).account_id
            rows = balances(s.connection(), acc, now=self.uow.clock())
        return sum(b.amount for b in rows if code is None or b.money_type == code)

    def give(self, resident_id: int, code: str, amount: int, key: str | None = None) -> None:
        issuing.issue(self.uow, resident_id=resident_id, money_type=code, amount=amount,
                      idempotency_key=key or f"give-{resident_id}-{code}-{amount}-{len(self.events)}-{id(self)}")

    def at(self, when: datetime) -> UnitOfWork:
        """A unit of work whose clock reads `when`."""
        return UnitOfWork(self.db, self.bus, self.uow.policy, clock=lambda: when)


def tamper(db, *statements: str) -> None:
    """Raw SQL as a database administrator would run it: with the journal's guards switched off first
    (tests/tamper.py), so the append-only triggers do not stop it."""
    with db.write() as s:
        disable_journal_guards(s.connection())
        for sql in statements:
            s.execute(text(sql))


@pytest.fixture
def town(core) -> Town:
    events: list = []
    bus = core.bus
    from ledger import events as ev

    for t in (ev.PaymentCompleted, ev.PaymentRefunded, ev.MoneyIssued, ev.LotsExpired, ev.PayoutReady,
              ev.CertificatesSold, ev.PointsExchanged, ev.TransferCompleted, ev.EventCheckedIn):
        bus.subscribe(t, events.append)
    core.uow.policy = Policy(max_payment=50_000, max_wallet_balance=200_000)
    with core.db.write() as s:
        registry.create_money_type(s, code="COMMON", name="共通券", kind="prepaid", valid_until=date(2099, 3, 31))
        registry.create_money_type(s, code="LOCAL", name="専用券", kind="prepaid", valid_until=date(2099, 3, 31),
                                   accepted_category="small")
        registry.create_money_type(s, code="GRANT", name="給付金", kind="grant", validity_days=30)
        registry.create_money_type(s, code="PT", name="ポイント", kind="point", validity_days=365)
        registry.create_money_type(s, code="GIFT", name="お祝い券", kind="coupon", validity_days=90, transferable=True)
        registry.add_exchange_rule(s, "PT", "COMMON", 500, 500)
        small = registry.create_merchant(s, code="S1", name="まちのパン屋", category="small", fee_rate_bp=150)
        large = registry.create_merchant(s, code="L1", name="大型スーパー", category="large", fee_rate_bp=250)
        registry.create_merchant(s, code="S2", name="魚屋", category="small")
        alice = registry.create_resident(s, line_user_id="U" + "a" * 32, name="町 花子",
                                         birth_date=date(1990, 1, 1), children=1, registered_at=datetime(2026, 1, 1),
                                         verification="counter")
        bob = registry.create_resident(s, line_user_id="U" + "b" * 32, name="町 太郎",
                                       birth_date=date(1950, 1, 1), registered_at=datetime(2026, 1, 1),
                                       verification="counter")
        seg = Segment(name="子育て", criteria={"min_children": 1})
        s.add(seg)
        s.flush()
        mt_grant = s.execute(select(registry.MoneyType.id).where(registry.MoneyType.code == "GRANT")).scalar_one()
        mt_pt = s.execute(select(registry.MoneyType.id).where(registry.MoneyType.code == "PT")).scalar_one()
        s.add(GrantProgram(code="BABY", name="出産祝い", money_type_id=mt_grant, amount=30_000, segment_id=seg.id,
                           budget_cap=60_000))
        now = datetime.utcnow()
        s.add(Event(code="BEACH", name="海岸清掃", money_type_id=mt_pt, points=500, starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(hours=5), capacity=1))
        s.add(SaleOffer(code="SET", name="プレミアム商品券", price=10_000, components={"COMMON": 6_500, "LOCAL": 6_500},
                        per_resident_limit=2))
        ids = (small.id, large.id, alice.id, bob.id)
    return Town(core.db, core.uow, bus, *ids, events, core.sealer)
