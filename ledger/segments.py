"""Segments: saved filters over residents, turned into one SQL query.

Criteria (all optional, all must hold): age_min, age_max, districts, registered, verified,
min_children, household_size_min, followers_only, money_type with min_balance / max_balance,
resident_ids. Only active residents are ever selected.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from ledger.errors import InvalidInput
from ledger.models import Lot, MoneyType, Resident

KEYS = {
    "age_min": int, "age_max": int, "districts": list, "registered": bool, "verified": bool,
    "min_children": int, "household_size_min": int, "followers_only": bool, "money_type": str,
    "min_balance": int, "max_balance": int, "resident_ids": list,
}
LABELS = {
    "age_min": "年齢（以上）", "age_max": "年齢（以下）", "districts": "地区", "registered": "登録済み",
    "verified": "本人確認済み", "min_children": "子どもの数（以上）", "household_size_min": "世帯人数（以上）",
    "followers_only": "友だち登録中のみ", "money_type": "券種", "min_balance": "残高（以上）",
    "max_balance": "残高（以下）", "resident_ids": "利用者ID",
}


def validate_criteria(criteria: dict[str, Any]) -> dict[str, Any]:
    """Refuse unknown keys and wrong types with a message staff can act on."""
    for key, value in criteria.items():
        if key not in KEYS:
            raise InvalidInput(f"条件「{key}」は使えません。使える条件: {', '.join(KEYS)}")
        expected = KEYS[key]
        if expected is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InvalidInput(f"{LABELS[key]}は0以上の整数で指定してください。")
        if expected is not int and not isinstance(value, expected):
            raise InvalidInput(f"{LABELS[key]}の指定が正しくありません。")
    if "age_min" in criteria and "age_max" in criteria and criteria["age_min"] > criteria["age_max"]:
        raise InvalidInput("年齢の下限が上限を超えています。")
    if ("min_balance" in criteria or "max_balance" in criteria) and "money_type" not in criteria:
        raise InvalidInput("残高の条件には券種（money_type）も指定してください。")
    return criteria


def _years_ago(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def segment_query(criteria: dict[str, Any], today: date) -> Select:
    """SELECT residents.id of every active resident that matches."""
    c = criteria
    q = select(Resident.id).where(Resident.status == "active")
    if "age_min" in c:  # at least N years old: born on or before today - N years
        q = q.where(Resident.birth_date <= _years_ago(today, c["age_min"]))
    if "age_max" in c:  # at most N: born after today - (N+1) years
        q = q.where(Resident.birth_date > _years_ago(today, c["age_max"] + 1))
    if c.get("districts"):
        q = q.where(Resident.district.in_(c["districts"]))
    if "registered" in c:
        q = q.where(Resident.registered_at.is_not(None) if c["registered"] else Resident.registered_at.is_(None))
    if "verified" in c:
        q = q.where(Resident.verification != "unverified" if c["verified"]
                    else Resident.verification == "unverified")
    if "min_children" in c:
        q = q.where(Resident.children >= c["min_children"])
    if "household_size_min" in c:
        q = q.where(Resident.household_size >= c["household_size_min"])
    if c.get("followers_only"):
        q = q.where(Resident.line_user_id.is_not(None), Resident.reachable.is_(True))
    if c.get("resident_ids"):
        q = q.where(Resident.id.in_([int(i) for i in c["resident_ids"]]))
    if "money_type" in c and ("min_balance" in c or "max_balance" in c):
        held = (select(func.coalesce(func.sum(Lot.remaining), 0))
                .join(MoneyType, MoneyType.id == Lot.money_type_id)
                .where(Lot.account_id == Resident.account_id, MoneyType.code == c["money_type"], Lot.remaining > 0)
                .correlate(Resident).scalar_subquery())
        conds = []
        if "min_balance" in c:
            conds.append(held >= c["min_balance"])
        if "max_balance" in c:
            conds.append(held <= c["max_balance"])
        q = q.where(and_(*conds))
    return q.order_by(Resident.id)


def resident_matches(conn: Connection, criteria: dict[str, Any], resident_id: int, today: date) -> bool:
    q = segment_query(criteria, today).where(Resident.id == resident_id)
    return conn.execute(q).first() is not None



