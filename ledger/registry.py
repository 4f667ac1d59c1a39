"""Creating the things money moves between: money types, residents, merchants, their staff.

None of these move money, so they run in plain write sessions; each makes its wallet account.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import AlreadyDone, InvalidInput, NotFound
from ledger.models import Account, ExchangeRule, Merchant, MerchantStaff, MoneyType, Resident
from ledger.models.money import INTERNAL_KINDS, MONEY_KINDS, RULES_ALWAYS

CATEGORIES = ("small", "large")


def create_money_type(s: Session, *, code: str, name: str, kind: str, name_en: str = "",
                      validity_days: int | None = None, valid_until: date | None = None,
                      accepted_category: str | None = None, transferable: bool = False,
                      spendable: bool | None = None) -> MoneyType:
    if kind not in MONEY_KINDS:
        raise InvalidInput(f"券種の種類は {', '.join(MONEY_KINDS)} のいずれかです。")
    if accepted_category is not None and accepted_category not in CATEGORIES:
        raise InvalidInput(f"店舗区分は {', '.join(CATEGORIES)} のいずれかです。")
    if validity_days is not None and validity_days <= 0:
        raise InvalidInput("有効日数は1以上にしてください。")
    if validity_days is not None and valid_until is not None:
        raise InvalidInput("有効期限は「発行から何日」（--validity-days）か「期限日」（--valid-until）のどちらか一方で"
                           "指定してください。")
    if s.execute(select(MoneyType.id).where(MoneyType.code == code)).first():
        raise AlreadyDone(f"券種コード「{code}」はすでにあります。")
    mt = MoneyType(code=code, name=name, name_en=name_en or name, kind=kind, validity_days=validity_days,
                   valid_until=valid_until, accepted_category=accepted_category, transferable=transferable,
                   spendable=(kind != "point") if spendable is None else spendable)
    s.add(mt)
    s.flush()
    for k in INTERNAL_KINDS:
        s.add(Account(kind=k, code=f"{k}:{mt.id}", money_type_id=mt.id))
    s.flush()
    return mt


def add_exchange_rule(s: Session, from_code: str, to_code: str, from_units: int, to_units: int,
                      effective_from: datetime = RULES_ALWAYS) -> ExchangeRule:
    ids = dict(s.execute(select(MoneyType.code, MoneyType.id).where(MoneyType.code.in_([from_code, to_code]))).all())
    if len(ids) != 2:
        raise NotFound("交換ルールの券種が見つかりません。")
    rule = ExchangeRule(from_type_id=ids[from_code], to_type_id=ids[to_code], from_units=from_units,
                        to_units=to_units, effective_from=effective_from)
    s.add(rule)
    s.flush()
    return rule


def _new_account(s: Session, kind: str, code: str) -> Account:
    acc = Account(kind=kind, code=code)
    s.add(acc)
    s.flush()
    return acc


def create_resident(s: Session, *, line_user_id: str | None = None, **fields: Any) -> Resident:
    """A resident and their wallet. Card-only residents have no LINE user id."""
    if line_user_id and s.execute(select(Resident.id).where(Resident.line_user_id == line_user_id)).first():
        raise AlreadyDone("このLINEアカウントはすでに登録されています。")
    acc = _new_account(s, "resident", f"resident-new:{uuid4().hex}")
    r = Resident(line_user_id=line_user_id, account_id=acc.id, **fields)
    s.add(r)
    s.flush()
    acc.code = f"resident:{r.id}"
    s.flush()
    return r


def lock_resident(s: Session, resident_id: int) -> Resident:
    """The resident, their row locked until commit (PostgreSQL; SQLite's write transaction is already
    the only one), fresh from the database: what they hold (cards, proxies) is checked and written
    as one step, so two requests at once are checked one after the other."""
    r = s.execute(select(Resident).where(Resident.id == resident_id).with_for_update()
                  .execution_options(populate_existing=True)).scalar()
    if r is None:
        raise NotFound("利用者が見つかりません。", message_en="Resident not found.")
    return r


def resident_by_line(s: Session, line_user_id: str) -> Resident | None:
    return s.execute(select(Resident).where(Resident.line_user_id == line_user_id)).scalar()


def create_merchant(s: Session, *, code: str, name: str, category: str = "small", fee_rate_bp: int = 0,
                    **fields: Any) -> Merchant:
    if category not in CATEGORIES:
        raise InvalidInput("店舗区分は small（中小店舗）か large（大型店）です。")
    if not 0 <= fee_rate_bp <= 2000:
        raise InvalidInput("手数料率は 0〜2000 ベーシスポイント（0〜20%）で指定してください。")
    if s.execute(select(Merchant.id).where(Merchant.code == code)).first():
        raise AlreadyDone(f"店舗コード「{code}」はすでにあります。")
    acc = _new_account(s, "merchant", f"merchant:{code}")
    m = Merchant(code=code, name=name, category=category, fee_rate_bp=fee_rate_bp, account_id=acc.id, **fields)
    s.add(m)
    s.flush()
    return m


def add_staff(s: Session, merchant_code: str, line_user_id: str, role: str = "clerk", name: str = "") -> MerchantStaff:
    if role not in ("owner", "clerk"):
        raise InvalidInput("役割は owner（店主）か clerk（店員）です。")
    m = s.execute(select(Merchant).where(Merchant.code == merchant_code)).scalar()
    if m is None:
        raise NotFound(f"店舗「{merchant_code}」が見つかりません。")
    found = s.execute(select(MerchantStaff).where(MerchantStaff.merchant_id == m.id,
                                                  MerchantStaff.line_user_id == line_user_id)).scalar()
    if found:
        found.role = role
        return found
    st = MerchantStaff(merchant_id=m.id, line_user_id=line_user_id, role=role, name=name)
    s.add(st)
    s.flush()
    return st


def staff_roles(s: Session, line_user_id: str) -> list[tuple[Merchant, str]]:
    rows = s.execute(select(Merchant, MerchantStaff.role).join(MerchantStaff, MerchantStaff.merchant_id == Merchant.id)
                     .where(MerchantStaff.line_user_id == line_user_id, Merchant.active.is_(True))).all()
    return [(m, role) for m, role in rows]
