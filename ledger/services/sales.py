"""Premium certificate sales (プレミアム付商品券): pay the price at the counter, receive the face value.

The premium (face − price) is funded by the town; the entry's meta keeps both so reports can
tell resident money (前払式支払手段) from the town's contribution.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from ledger.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound, OutsideWindow
from ledger.events import CertificatesSold
from ledger.journal import Leg, add_entry, add_postings, credit_lot, find_replay, internal_account
from ledger.models import Entry, SaleApplication, SaleDraw, SaleOffer
from ledger.services._common import (
    check_balance_limit,
    money_type_row,
    new_money_expiry,
    resident_row,
)
from ledger.uow import Tx, UnitOfWork, request_fingerprint


@dataclass(frozen=True)
class SaleResult:
    entry_id: int
    resident_id: int
    offer: str
    sets: int
    price: int
    face: dict[str, int]
    replayed: bool = False


def check_offer_terms(price: int, components: dict[str, int]) -> None:
    """A set's face value is at least its price: a resident never pays more than they receive."""
    face = sum(components.values())
    if face < price:
        raise InvalidInput(f"額面（{face:,}円）が販売価格（{price:,}円）より少なくなっています。"
                           "額面は価格以上にしてください（プレミアム分は町の負担です）。")


def sets_bought(conn, offer_code: str, resident_id: int | None = None) -> int:
    q = select(Entry.meta).where(Entry.ref == f"sale:{offer_code}", Entry.kind == "sale")
    if resident_id is not None:
        q = q.where(Entry.resident_id == resident_id)
    return sum(int((m or {}).get("sets", 0)) for m in conn.execute(q).scalars())


class _DryRun(Exception):
    """Raised at the end of a dry run's work so the unit of work rolls everything back."""

    def __init__(self, result: SaleResult) -> None:
        super().__init__("dry run")
        self.result = result


def sell(uow: UnitOfWork, *, resident_id: int, offer_code: str, sets: int, idempotency_key: str,
         actor: str = "counter", channel: str = "counter", dry_run: bool = False) -> SaleResult:
    """Sell `sets` of an offer. A first-come offer sells inside its period; a lottery offer sells to its
    winners until their purchase deadline (which may fall after the application deadline, `ends_at`).
    `dry_run` runs every check and write of a real sale, then rolls it back: what it says is what a sale
    would do."""
    if isinstance(sets, bool) or not isinstance(sets, int) or sets <= 0:
        raise InvalidInput("購入セット数は1以上の整数で指定してください。", message_en="Sets must be 1 or more.")
    fp = request_fingerprint({"op": "sale", "r": resident_id, "o": offer_code, "s": sets})

    def work(tx: Tx) -> SaleResult:
        offer = tx.session.execute(select(SaleOffer).where(SaleOffer.code == offer_code)).scalar()
        if offer is None:
            raise NotFound(f"商品券「{offer_code}」はありません。", message_en=f"No offer {offer_code!r}.")
        replay = find_replay(tx, idempotency_key, fp)
        if replay is not None:
            e = tx.session.execute(select(Entry).where(Entry.id == replay)).scalar_one()
            return SaleResult(e.id, resident_id, offer.code, sets, e.meta["price"], e.meta["face"], replayed=True)
        closed = offer.ends_at and tx.now >= offer.ends_at and not offer.lottery  # winners: their own deadline
        if (offer.starts_at and tx.now < offer.starts_at) or closed:
            raise OutsideWindow(f"「{offer.name}」の販売期間外です。", message_en="This offer is not on sale now.")
        if offer.total_sets is not None:
            tx.lock_parent(SaleOffer, offer.id)  # one stock check at a time, before the buyer's wallet
        payer = resident_row(tx, resident_id)
        tx.lock_accounts([payer.account_id])  # the buyer's own sets are counted one sale at a time
        app = None
        if offer.lottery:
            app = tx.session.execute(select(SaleApplication).where(
                SaleApplication.offer_id == offer.id, SaleApplication.resident_id == resident_id)).scalar()
            if app is None or app.status != "won":
                raise NotAllowed(f"「{offer.name}」は抽選に当選した方のみ購入できます。",
                                 message_en="Only lottery winners can buy this offer.")
            if app.purchase_until and tx.now >= app.purchase_until:
                raise OutsideWindow("当選者の購入期限を過ぎました。", message_en="The winners' purchase window has closed.")
            if sets > app.sets:
                raise InvalidInput(f"当選したセット数（{app.sets}セット）までです。")
        already = sets_bought(tx.conn, offer.code, resident_id)
        if already + sets > offer.per_resident_limit:
            raise NotAllowed(f"お一人{offer.per_resident_limit}セットまでです（購入済み {already}セット）。",
                             message_en=f"Limit {offer.per_resident_limit} sets per person ({already} bought).")
        if offer.total_sets is not None:
            if sets_bought(tx.conn, offer.code) + sets > offer.total_sets:
                raise NotAllowed(f"「{offer.name}」は完売しました。", message_en="This offer is sold out.")
        face = {code: int(amt) * sets for code, amt in offer.components.items()}
        check_balance_limit(tx, payer.account_id, sum(face.values()))
        price = offer.price * sets
        entry_id = add_entry(tx, "sale", key=idempotency_key, fingerprint=fp, amount=sum(face.values()),
                             resident_id=resident_id, ref=f"sale:{offer.code}", actor=actor, channel=channel,
                             memo=offer.name, meta={"price": price, "face": face, "sets": sets})
        legs: list[Leg] = []
        for code, amt in face.items():
            mt = money_type_row(tx, code)
            lot_id = credit_lot(tx, payer.account_id, mt.id, amt, entry_id, expires_at=new_money_expiry(mt, tx.now),
                                accepted_category=mt.accepted_category)
            legs += [Leg(internal_account(tx, "issuer", mt.id), mt.id, -amt), Leg(payer.account_id, mt.id, amt, lot_id)]
        add_postings(tx, entry_id, legs)
        if app is not None:
            tx.conn.execute(update(SaleApplication).where(SaleApplication.id == app.id).values(status="bought"))
        tx.events.append(CertificatesSold(entry_id, resident_id, price, sum(face.values())))
        result = SaleResult(entry_id, resident_id, offer.code, sets, price, face)
        if dry_run:
            raise _DryRun(result)
        return result

    try:
        return uow.run(work)
    except _DryRun as done:
        return done.result


@dataclass(frozen=True)
class Application:
    offer: str
    name: str
    sets: int
    price: int
    face: int
    ends_at: datetime | None


def open_for_application(conn: Connection, now: datetime) -> list[SaleOffer]:
    """Lottery offers that take applications now: not drawn yet, inside their period."""
    drawn = select(SaleDraw.offer_id)
    q = (select(SaleOffer).where(SaleOffer.lottery.is_(True), SaleOffer.id.not_in(drawn),
                                 (SaleOffer.starts_at.is_(None)) | (SaleOffer.starts_at <= now),
                                 (SaleOffer.ends_at.is_(None)) | (SaleOffer.ends_at > now))
         .order_by(SaleOffer.id))
    with Session(bind=conn) as s:
        return list(s.execute(q).scalars())


def apply(uow: UnitOfWork, *, resident_id: int, offer_code: str, sets: int) -> Application:
    """申し込み for an oversubscribed (lottery) offer: one application per resident, up to the offer's limit.

    No money moves: the resident pays at the counter only if drawn (`machi sale draw`). Refusals say why.
    """
    if isinstance(sets, bool) or not isinstance(sets, int) or sets <= 0:
        raise InvalidInput("申し込むセット数は1以上の整数で指定してください。", message_en="Sets must be 1 or more.")

    def work(tx: Tx) -> Application:
        # FOR SHARE (PostgreSQL): applications go in side by side, but not beside the draw, which takes
        # the offer FOR UPDATE; one either comes before it and is drawn, or after it and is refused.
        offer = tx.session.execute(select(SaleOffer).where(SaleOffer.code == offer_code)
                                   .with_for_update(read=True)).scalar()
        if offer is None:
            raise NotFound(f"商品券「{offer_code}」はありません。", message_en=f"No offer {offer_code!r}.")
        if not offer.lottery:
            raise NotAllowed(f"「{offer.name}」は申し込み不要です。役場の窓口でお求めください。",
                             message_en="No application is needed: buy it at the town office.")
        drawn = tx.conn.execute(select(SaleDraw.id).where(SaleDraw.offer_id == offer.id)).first()
        if drawn is not None or (offer.ends_at and tx.now >= offer.ends_at):
            raise OutsideWindow(f"「{offer.name}」の申し込みは締め切りました。",
                                message_en="Applications for this offer have closed.")
        if offer.starts_at and tx.now < offer.starts_at:
            raise OutsideWindow(f"「{offer.name}」の申し込みはまだ始まっていません。",
                                message_en="Applications for this offer have not opened yet.")
        if sets > offer.per_resident_limit:
            raise InvalidInput(f"お一人{offer.per_resident_limit}セットまでです。",
                               message_en=f"Up to {offer.per_resident_limit} sets per person.")
        resident_row(tx, resident_id)
        done = tx.conn.execute(select(SaleApplication.sets).where(SaleApplication.offer_id == offer.id,
                                                                  SaleApplication.resident_id == resident_id)).first()
        if done is not None:
            raise AlreadyDone(f"「{offer.name}」には、すでに{done.sets}セットで申し込んでいます。",
                              message_en=f"You have already applied for {done.sets} set(s).")
        tx.session.add(SaleApplication(offer_id=offer.id, resident_id=resident_id, sets=sets, status="applied",
                                       applied_at=tx.now))
        tx.session.flush()
        face = sum(int(v) for v in offer.components.values())
        return Application(offer.code, offer.name, sets, offer.price * sets, face * sets, offer.ends_at)

    return uow.run(work)
