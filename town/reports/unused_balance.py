"""基準日未使用残高 under the Payment Services Act (資金決済法), for each prepaid money type.

On each 基準日 (3/31 and 9/30) the issuer of prepaid payment instruments (前払式支払手段) looks at what
holders have not yet used. When the total passes 10,000,000 yen the issuer must file and deposit a
発行保証金 of at least half of it. Instruments usable only within six months of issue are outside
the Act, so a money type whose validity keeps it within six months does not count.

Unused = what residents' wallets hold of the type at the end of the base day (Tokyo), from the
postings: money that reached a shop is used; money that expired is no longer outstanding.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, func, select

from ledger.clock import end_of_jst_day
from ledger.errors import InvalidInput
from ledger.models import Account, Entry, Lot, MoneyType, Posting
from town.reports.sql import as_date

THRESHOLD = 10_000_000
MAX_SIX_MONTH_DAYS = 181  # the shortest six calendar months (e.g. 8/31 → 2/28)


@dataclass(frozen=True)
class TypeLine:
    code: str
    name: str
    unused: int
    validity: str
    first_issue: date | None
    within_six_months: bool
    counted: bool


@dataclass(frozen=True)
class UnusedReport:
    base_date: date
    lines: list[TypeLine]
    counted_total: int
    over_threshold: bool
    deposit_required: int  # 発行保証金: half of the counted total, rounded up to the yen


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def within_six_months(mt: MoneyType, first_issue: date | None) -> bool:
    """Whether every unit of the type can only be used within six months of its issue."""
    if mt.validity_days is not None and mt.validity_days <= MAX_SIX_MONTH_DAYS:
        return True
    if mt.valid_until is not None:
        if first_issue is None:
            return True  # nothing issued yet
        return mt.valid_until < add_months(first_issue, 6)
    return False


def check_base_date(day: date) -> date:
    if (day.month, day.day) not in ((3, 31), (9, 30)):
        raise InvalidInput("基準日は3月31日か9月30日です（例: --date 2026-03-31）。")
    return day


def compute(conn: Connection, base_date: date) -> UnusedReport:
    check_base_date(base_date)
    cutoff = end_of_jst_day(base_date)
    # a Core connection returns rows of columns (not ORM objects): select the fields the report reads
    types = conn.execute(select(MoneyType.id, MoneyType.code, MoneyType.name, MoneyType.validity_days,
                                MoneyType.valid_until).where(MoneyType.kind == "prepaid").order_by(MoneyType.id)).all()
    if not types:
        return UnusedReport(base_date, [], 0, False, 0)
    ids = [mt.id for mt in types]
    unused = dict(conn.execute(
        select(Posting.money_type_id, func.sum(Posting.amount))
        .join(Entry, Entry.id == Posting.entry_id).join(Account, Account.id == Posting.account_id)
        .where(Posting.money_type_id.in_(ids), Account.kind == "resident", Entry.created_at < cutoff)
        .group_by(Posting.money_type_id)).all())
    first = dict(conn.execute(
        select(Lot.money_type_id, func.min(Lot.created_at)).join(Account, Account.id == Lot.account_id)
        .where(Lot.money_type_id.in_(ids), Account.kind == "resident").group_by(Lot.money_type_id)).all())
    lines = []
    for mt in types:
        first_issue = first.get(mt.id)
        first_day = as_date(first_issue) if first_issue is not None else None
        within = within_six_months(mt, first_day)
        parts = ([f"発行から{mt.validity_days}日"] if mt.validity_days else []) + (
            [f"{mt.valid_until}まで"] if mt.valid_until else [])
        lines.append(TypeLine(mt.code, mt.name, int(unused.get(mt.id, 0) or 0), "・".join(parts) or "期限なし",
                              first_day, within, not within))
    counted = sum(x.unused for x in lines if x.counted)
    over = counted > THRESHOLD
    return UnusedReport(base_date, lines, counted, over, -(-counted // 2) if over else 0)


def format_lines(rep: UnusedReport) -> list[str]:
    out = [f"基準日 {rep.base_date} の未使用残高（前払式支払手段）"]
    for x in rep.lines:
        out.append(f"  {x.name}（{x.code}） {x.unused:,}円  有効期限: {x.validity}  "
                   + ("6か月以内に限り使用 → 資金決済法の適用除外（集計に含めない）" if x.within_six_months
                      else "6か月を超えて使える → 集計に含める"))
    out.append(f"  合計（集計対象） {rep.counted_total:,}円 / 基準額 {THRESHOLD:,}円")
    if rep.over_threshold:
        out += [f"  基準額を超えています: 発行保証金として {rep.deposit_required:,}円（未使用残高の2分の1）以上の供託等が必要です。",
                "  基準日の翌日から2か月以内に、財務局へ届出書（自家型）を提出し、保証金を供託してください。"]
    else:
        out.append("  基準額以下です: 届出・発行保証金の供託は不要です。")
    return out
