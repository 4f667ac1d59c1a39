"""給付: a town grant credited to one eligible resident, once, inside its period and budget."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Connection, Select, exists, func, or_, select

from ledger.clock import jst_date, last_valid_day
from ledger.errors import (
    AccountInactive,
    AlreadyDone,
    BudgetExhausted,
    InvalidInput,
    LedgerError,
    NotEligible,
    NotFound,
    OutsideWindow,
    OverBalanceLimit,
)
from ledger.events import MoneyIssued
from ledger.journal import Leg, add_entries, add_postings_many, credit_lots, find_replay, internal_account
from ledger.models import Entry, GrantProgram, Lot, MoneyType, Resident, Segment
from ledger.segments import resident_matches, segment_query
from ledger.services._common import new_money_expiry
from ledger.services.issuing import IssueResult, _credit_from_issuer
from ledger.uow import Tx, UnitOfWork, request_fingerprint


def grant_key(program_code: str, resident_id: int) -> str:
    return f"grant:{program_code}:{resident_id}"


# ----------------------------------------------------------------- one rule per question, used by every face

def received(program_code: str, before: datetime | None = None) -> ColumnElement[bool]:
    """Who has received it (by `before`, for a report's period): for queries over `Resident` (NOT EXISTS, not
    NOT IN: PostgreSQL runs NOT IN over a nullable column as a subplan per row once the received set outgrows
    work_mem)."""
    got = exists().where(Entry.resident_id == Resident.id, Entry.ref == f"grant:{program_code}")
    return got.where(Entry.created_at < before) if before is not None else got


def already_awarded(conn: Connection, program_code: str, resident_id: int) -> bool:
    """Whether one resident has received it."""
    return conn.execute(select(Entry.id).where(Entry.idempotency_key == grant_key(program_code, resident_id))
                        ).first() is not None


def is_open(prog: GrantProgram, now: datetime) -> bool:
    """Inside the programme's window (and not stopped)."""
    return bool(prog.active) and not ((prog.starts_at and now < prog.starts_at) or (prog.ends_at and now >= prog.ends_at))


def _segment(conn: Connection, prog: GrantProgram) -> dict:
    if prog.segment_id is None:
        return {}
    return dict(conn.execute(select(Segment.criteria).where(Segment.id == prog.segment_id)).scalar() or {})


def eligibility(conn: Connection, prog: GrantProgram) -> dict:
    """The criteria a resident must meet: the programme's segment, and 本人確認 done when it requires it."""
    criteria = _segment(conn, prog)
    if prog.requires_verification:
        criteria["verified"] = True
    return criteria


def eligible_residents(conn: Connection, prog: GrantProgram, today: date) -> Select:
    """Active residents who are eligible now (received or not)."""
    return segment_query(eligibility(conn, prog), today)


def not_yet_received(conn: Connection, prog: GrantProgram, today: date) -> Select:
    """Eligible residents who have not received it: whom a push run pays and a claim notice tells."""
    return eligible_residents(conn, prog, today).where(~received(prog.code))


def standing(conn: Connection, prog: GrantProgram, resident_id: int, now: datetime) -> str:
    """Where one resident stands: received / not_open / closed / unverified / not_eligible / eligible."""
    if already_awarded(conn, prog.code, resident_id):
        return "received"
    if prog.starts_at and now < prog.starts_at:
        return "not_open"
    if (prog.ends_at and now >= prog.ends_at) or not prog.active:
        return "closed"
    if not resident_matches(conn, _segment(conn, prog), resident_id, jst_date(now)):
        return "not_eligible"
    if prog.requires_verification and conn.execute(select(Resident.verification).where(
            Resident.id == resident_id)).scalar() in (None, "unverified"):
        return "unverified"  # eligible once 本人確認 is done
    return "eligible"


def check_window(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> None:
    """A new programme's window: it ends after it starts, and not in the past (nobody could receive it)."""
    if starts_at and ends_at and ends_at <= starts_at:
        raise InvalidInput("受付終了は受付開始より後にしてください。")
    if ends_at and ends_at <= now:
        raise InvalidInput("受付終了がもう過ぎています。これからの日時にしてください。")


def _refusal(state: str, prog: GrantProgram) -> LedgerError:
    name, en = prog.name, prog.name_en or prog.name
    if state == "received":
        return AlreadyDone(f"「{name}」はすでに受け取っています。", message_en=f"You have already received {en}.")
    if state == "unverified":
        return NotEligible(f"「{name}」は本人確認が済んでから受け取れます。役場の窓口で本人確認をお願いします。",
                           message_en=f"{en} can be received once your identity is confirmed at the town office.")
    if state == "not_eligible":
        return NotEligible(f"「{name}」の対象ではありません。", message_en=f"You are not eligible for {en}.")
    return OutsideWindow(f"「{name}」の受付期間外です。", message_en=f"{en} is not open now.")


def award(uow: UnitOfWork, *, program_code: str, resident_id: int, actor: str = "system") -> IssueResult:
    """Credit the grant. Refusals: unknown, outside the period, not eligible, already received, budget spent.

    The idempotency key is the program and the resident, so a crashed run simply runs again.
    """
    key = grant_key(program_code, resident_id)
    fp = request_fingerprint({"op": "grant", "p": program_code, "r": resident_id})

    def work(tx: Tx) -> IssueResult:
        prog = tx.session.execute(select(GrantProgram).where(GrantProgram.code == program_code)).scalar()
        if prog is None or not prog.active:
            raise NotFound("この給付金は見つかりません。", message_en="This grant was not found.")
        if find_replay(tx, key, fp) is not None:
            raise _refusal("received", prog)
        state = standing(tx.conn, prog, resident_id, tx.now)
        if state != "eligible":
            raise _refusal(state, prog)
        mt = tx.session.execute(select(MoneyType).where(MoneyType.id == prog.money_type_id)).scalar_one()
        if prog.budget_cap is not None:
            tx.lock_parent(GrantProgram, prog.id)  # one budget check at a time, before the wallet's lock
            spent = tx.conn.execute(
                select(func.coalesce(func.sum(Entry.amount), 0)).where(Entry.ref == f"grant:{prog.code}")
            ).scalar_one()
            if spent + prog.amount > prog.budget_cap:
                raise BudgetExhausted(f"「{prog.name}」は予算の上限に達したため終了しました。",
                                      message_en=f"The budget for {prog.name_en or prog.name} has run out.")
        res = _credit_from_issuer(tx, kind="grant", resident_id=resident_id, mt=mt, amount=prog.amount, key=key,
                                  fp=fp, ref=f"grant:{prog.code}", actor=actor, memo=prog.name)
        tx.events.append(MoneyIssued(res.entry_id, resident_id, mt.code, prog.amount, "grant",
                                     f"grant:{prog.code}", res.expires_on))
        return res

    return uow.run(work)




@dataclass(frozen=True)
class BatchAward:
    """What `award_many` did: who received the grant, who was refused and why, whether the budget ran out."""

    awarded: list[IssueResult]
    refused: dict[int, LedgerError]
    budget_exhausted: bool


def award_many(uow: UnitOfWork, *, program_code: str, resident_ids: list[int], actor: str = "system") -> BatchAward:
    """`award` for many residents in one transaction, with the same keys, checks and events.

    A run over a whole town (100,000 residents) cannot afford a transaction, a program lookup and a
    budget sum per resident, nor five statements per resident: the wallet checks are read for the batch
    at once and its entries, lots and postings written with one multi-row INSERT each. Refusals that concern one resident (already received, not eligible,
    wallet inactive or full) are reported, not raised, and happen before anything is written for
    that resident; once the budget is spent the rest are refused with BudgetExhausted.
    """

    def work(tx: Tx) -> BatchAward:
        prog = tx.session.execute(select(GrantProgram).where(GrantProgram.code == program_code)).scalar()
        if prog is None or not prog.active:
            raise NotFound("この給付金は見つかりません。", message_en="This grant was not found.")
        if not is_open(prog, tx.now):
            raise _refusal("closed", prog)
        ids = list(dict.fromkeys(resident_ids))
        keys = {grant_key(prog.code, r): r for r in ids}
        done = set(tx.conn.execute(select(Entry.idempotency_key).where(Entry.idempotency_key.in_(keys))).scalars())
        eligible = set(tx.conn.execute(eligible_residents(tx.conn, prog, jst_date(tx.now))
                                       .where(Resident.id.in_(ids))).scalars())
        mt = tx.session.execute(select(MoneyType).where(MoneyType.id == prog.money_type_id)).scalar_one()
        issuer = internal_account(tx, "issuer", mt.id)
        spent = 0
        if prog.budget_cap is not None:
            tx.lock_parent(GrantProgram, prog.id)  # one budget check at a time, before the wallets' locks
            spent = tx.conn.execute(
                select(func.coalesce(func.sum(Entry.amount), 0)).where(Entry.ref == f"grant:{prog.code}")
            ).scalar_one()
        awarded: list[IssueResult] = []
        refused: dict[int, LedgerError] = {}
        exhausted = False
        # The checks `_credit_from_issuer` makes per resident (wallet active, balance limit), read for the
        # whole batch in two queries; the writes below are one multi-row INSERT per table.
        wanted = [r for r in ids if grant_key(prog.code, r) not in done and r in eligible]
        wallets = {r.id: r for r in tx.conn.execute(
            select(Resident.id, Resident.account_id, Resident.status).where(Resident.id.in_(wanted)))} if wanted else {}
        tx.lock_accounts([w.account_id for w in wallets.values()])  # balances read below stay true until commit
        held: dict[int, int] = dict(tx.conn.execute(
            select(Lot.account_id, func.coalesce(func.sum(Lot.remaining), 0))
            .where(Lot.account_id.in_([w.account_id for w in wallets.values()]), Lot.remaining > 0,
                   or_(Lot.expires_at.is_(None), Lot.expires_at > tx.now))
            .group_by(Lot.account_id)).all()) if wallets else {}
        limit = tx.policy.max_wallet_balance
        expires_at = new_money_expiry(mt, tx.now)
        expires_on = last_valid_day(expires_at) if expires_at else None
        ref = f"grant:{prog.code}"
        credit: list[tuple[int, int]] = []  # (resident, wallet account)
        for rid in ids:
            key = grant_key(prog.code, rid)
            if key in done:
                refused[rid] = AlreadyDone(f"「{prog.name}」はすでに受け取っています。")
                continue
            if rid not in eligible:
                refused[rid] = _refusal(standing(tx.conn, prog, rid, tx.now), prog)
                continue
            if prog.budget_cap is not None and spent + prog.amount > prog.budget_cap:
                exhausted = True
                refused[rid] = BudgetExhausted(f"「{prog.name}」は予算の上限に達したため終了しました。")
                continue
            wallet = wallets.get(rid)
            if wallet is None:
                refused[rid] = NotFound("利用者が見つかりません。", message_en="Resident not found.")
                continue
            if wallet.status != "active":
                refused[rid] = AccountInactive()
                continue
            if held.get(wallet.account_id, 0) + prog.amount > limit:
                refused[rid] = OverBalanceLimit(
                    f"お財布の残高上限（{limit:,}円）を超えるため受け取れません。",
                    message_en=f"This would go over the wallet limit of {limit:,} yen.")
                continue
            held[wallet.account_id] = held.get(wallet.account_id, 0) + prog.amount
            spent += prog.amount
            credit.append((rid, wallet.account_id))
        entry_ids = add_entries(tx, "grant", [
            {"key": grant_key(prog.code, rid), "amount": prog.amount, "resident_id": rid, "ref": ref, "actor": actor,
             "memo": prog.name, "fingerprint": request_fingerprint({"op": "grant", "p": prog.code, "r": rid})}
            for rid, _acc in credit])
        lot_ids = credit_lots(tx, [
            {"account_id": acc, "money_type_id": mt.id, "amount": prog.amount, "entry_id": eid,
             "expires_at": expires_at, "accepted_category": mt.accepted_category}
            for (_rid, acc), eid in zip(credit, entry_ids, strict=True)])
        add_postings_many(tx, [
            (eid, [Leg(issuer, mt.id, -prog.amount), Leg(acc, mt.id, prog.amount, lot)])
            for (_rid, acc), eid, lot in zip(credit, entry_ids, lot_ids, strict=True)])
        for (rid, _acc), eid in zip(credit, entry_ids, strict=True):
            awarded.append(IssueResult(eid, rid, prog.amount, mt.code, expires_on))
            tx.events.append(MoneyIssued(eid, rid, mt.code, prog.amount, "grant", ref, expires_on))
        return BatchAward(awarded, refused, exhausted)

    return uow.run(work)
