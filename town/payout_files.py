"""What a payout batch produces for the bank and the shops: the Zengin 総合振込 file and a statement
per shop (CSV for spreadsheets, PDF to hand over), all derived from the ledger at any time, so writing
them again after a crash or a fix (a shop's bank account) gives the same files."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ledger import bank_days, zengin
from ledger.clock import end_of_jst_day, jst_date, jst_midnight_utc, to_jst, utcnow
from ledger.db import Database
from ledger.errors import InvalidInput, NotFound
from ledger.models import Entry, Lot, Merchant, MoneyType, Payout, PayoutBatch, Posting
from ledger.services.payouts import fee_for
from town import settings
from town.pdf import heading, new_pdf, rows, table


@dataclass(frozen=True)
class ShopLine:
    merchant_id: int
    code: str
    name: str
    gross: int
    refunds: int
    fee: int
    net: int
    payments: int
    fee_bp: int
    status: str
    by_type: dict[str, int]
    bank: tuple[str, str, str, str, str] | None  # bank, branch, type, number, holder

    @property
    def carried(self) -> int:
        """What this batch paid that the period's own payments and refunds do not explain: receipts of an
        earlier period left unpaid, less refunds this period that drew them (a refund of an older payment).
        With it each statement adds up: payments − refunds + carried − fee = transfer."""
        return self.net + self.fee - (self.gross - self.refunds)


def remitter(db: Database) -> zengin.Remitter:
    value = settings.get(db, settings.REMITTER)
    if not value:
        raise InvalidInput("振込元（町の口座）が未登録です。`machi payout remitter` で登録してください。")
    return zengin.Remitter(**value)


def default_transfer_date(period_end: date, after_days: int = 5, today: date | None = None) -> date:
    """A few days after the period, on a bank business day, never in the past (ledger/bank_days.py)."""
    return bank_days.transfer_date(period_end, after_days, today or jst_date(utcnow()))


def not_ready_to_pay(db: Database, end: date) -> str:
    """Why a payout run up to `end` would be refused ('' when it would not): without the town's account or
    a paying shop's bank account the transfer file cannot be written, so no money moves. The dry run, the
    command and the scheduler all ask this one question."""
    try:
        remitter(db)
    except InvalidInput as exc:
        return exc.message
    missing = [f"{r['code']} {r['name']}" for r in preview(db, end) if r["net"] > 0 and not r["bank"]]
    if missing:
        return "振込口座が未登録の店舗があります（`machi merchant bank` で登録してから精算してください）: " + "、".join(missing)
    return ""


def batch_lines(db: Database, batch_id: int) -> tuple[PayoutBatch, list[ShopLine]]:
    with db.session() as s:
        batch = s.get(PayoutBatch, batch_id)
        if batch is None:
            raise NotFound(f"精算バッチ {batch_id} はありません。`machi payout list` で確かめてください。")
        payouts = s.execute(select(Payout, Merchant).join(Merchant, Merchant.id == Payout.merchant_id)
                            .where(Payout.batch_id == batch_id).order_by(Merchant.code)).all()
        legs: dict[int, dict[str, int]] = {}
        for entry_id, code, amount in s.execute(
                select(Posting.entry_id, MoneyType.code, func.sum(Posting.amount))
                .join(MoneyType, MoneyType.id == Posting.money_type_id)
                .join(Payout, Payout.entry_id == Posting.entry_id)
                .join(Merchant, Merchant.account_id == Posting.account_id)
                .where(Payout.batch_id == batch_id).group_by(Posting.entry_id, MoneyType.code)):
            legs.setdefault(entry_id, {})[code] = -int(amount)
    out = [ShopLine(m.id, m.code, m.name, p.gross, p.refunds, p.fee, p.net, p.payments, m.fee_rate_bp, p.status,
                    legs.get(p.entry_id, {}),
                    (m.bank_code, m.branch_code, m.account_type, m.account_number, m.account_holder_kana)
                    if m.bank_code and m.branch_code and m.account_number and m.account_holder_kana else None)
           for p, m in payouts]
    return batch, out


def zengin_file(db: Database, batch: PayoutBatch, lines: list[ShopLine]) -> bytes:
    """The 総合振込 file; refused (naming the shops) when a shop to be paid has no valid bank account."""
    missing = [f"{x.code} {x.name}" for x in lines if x.net > 0 and x.bank is None]
    if missing:
        raise InvalidInput("振込口座が未登録の店舗があります（machi merchant bank で登録してから"
                           f" machi payout files {batch.id} を実行してください）: " + "、".join(missing))
    transfers = [zengin.Transfer(bank_code=b[0], branch_code=b[1], account_type=b[2], account_number=b[3],
                                 holder_kana=b[4], amount=x.net, customer_code=str(x.merchant_id))
                 for x in lines if x.net > 0 and (b := x.bank) is not None]
    if not transfers:
        raise InvalidInput("振り込む店舗がありません（この期間の受け取りはありません）。")
    try:
        return zengin.build_transfer_file(remitter(db), transfers, batch.transfer_date)
    except ValueError as exc:
        raise InvalidInput(f"振込ファイルを作れません: {exc}") from exc


def daily(db: Database, merchant_id: int, start: date, end: date) -> list[tuple[date, int, int, int, int]]:
    """(day, payments, amount, refunds, refunded amount) per Tokyo day of the period."""
    lo, hi = jst_midnight_utc(start), end_of_jst_day(end)
    with db.session() as s:
        rows_ = s.execute(select(Entry.kind, Entry.created_at, Entry.amount).where(
            Entry.merchant_id == merchant_id, Entry.kind.in_(("payment", "refund")),
            Entry.created_at >= lo, Entry.created_at < hi)).all()
    days: dict[date, list[int]] = {}
    for kind, at, amount in rows_:
        d = jst_date(at)
        cell = days.setdefault(d, [0, 0, 0, 0])
        if kind == "payment":
            cell[0] += 1
            cell[1] += amount
        else:
            cell[2] += 1
            cell[3] += amount
    return [(d, *v) for d, v in sorted(days.items())]


CARRIED = "前の期間からの繰越・調整"


def statement_csv(batch: PayoutBatch, x: ShopLine, days: list[tuple]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["精算明細書", x.name, x.code])
    w.writerow(["対象期間", batch.period_start.isoformat(), batch.period_end.isoformat()])
    w.writerow(["振込予定日", batch.transfer_date.isoformat()])
    w.writerow([])
    w.writerow(["項目", "金額（円）"])
    for label, value in (("お支払い件数", x.payments), ("受取額（お支払い）", x.gross), ("返金額", x.refunds),
                         (CARRIED, x.carried), (f"手数料（{x.fee_bp / 100:.2f}%）", x.fee), ("振込額", x.net)):
        w.writerow([label, value])
    w.writerow([])
    w.writerow(["券種", "精算対象額（円）"])
    for code, amount in sorted(x.by_type.items()):
        w.writerow([code, amount])
    w.writerow([])
    w.writerow(["日付", "お支払い件数", "お支払い額", "返金件数", "返金額"])
    for row in days:
        w.writerow([row[0].isoformat(), *row[1:]])
    return buf.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 with a BOM correctly


def statement_pdf(batch: PayoutBatch, x: ShopLine, days: list[tuple]) -> bytes:
    pdf = new_pdf()
    pdf.add_page()
    heading(pdf, "まちウォレット 精算明細書")
    rows(pdf, [("店舗", f"{x.name}（{x.code}）"),
               ("対象期間", f"{batch.period_start:%Y年%m月%d日} 〜 {batch.period_end:%Y年%m月%d日}"),
               ("振込予定日", f"{batch.transfer_date:%Y年%m月%d日}"),
               ("お支払い件数", f"{x.payments:,}件"), ("受取額（お支払い）", f"{x.gross:,}円"),
               ("返金額", f"{x.refunds:,}円"), (CARRIED, f"{x.carried:,}円"),
               (f"手数料（{x.fee_bp / 100:.2f}%）", f"{x.fee:,}円"),
               ("振込額", f"{x.net:,}円")])
    pdf.ln(4)
    pdf.cell(0, 8, "券種ごとの精算対象額", new_x="LMARGIN", new_y="NEXT")
    table(pdf, ["券種", "金額"], [[c, f"{a:,}円"] for c, a in sorted(x.by_type.items())], [90, 90])
    pdf.ln(4)
    pdf.cell(0, 8, "日ごとの内訳", new_x="LMARGIN", new_y="NEXT")
    table(pdf, ["日付", "お支払い", "金額", "返金", "返金額"],
          [[d.isoformat(), f"{n:,}件", f"{a:,}円", f"{rn:,}件", f"{ra:,}円"] for d, n, a, rn, ra in days],
          [40, 30, 40, 30, 40])
    pdf.ln(4)
    pdf.set_font_size(9)
    pdf.multi_cell(0, 5, "受取額は期間の終わりまでに受け取った残高（返金後）です。前の期間の未精算分を含むことがあります。"
                   f" 作成日時 {to_jst(utcnow()):%Y-%m-%d %H:%M}（日本時間）")
    return bytes(pdf.output())


def write_all(db: Database, batch_id: int, out_dir: Path) -> dict[str, Any]:
    """Statements for every shop, then the Zengin file (which may be refused for missing bank accounts)."""
    batch, lines = batch_lines(db, batch_id)
    folder = out_dir / f"payout_{batch.id}_{batch.period_start:%Y%m%d}-{batch.period_end:%Y%m%d}"
    (folder / "statements").mkdir(parents=True, exist_ok=True)
    for x in lines:
        days = daily(db, x.merchant_id, batch.period_start, batch.period_end)
        (folder / "statements" / f"{x.code}.csv").write_bytes(statement_csv(batch, x, days))
        (folder / "statements" / f"{x.code}.pdf").write_bytes(statement_pdf(batch, x, days))
    summary = io.StringIO()
    w = csv.writer(summary, lineterminator="\r\n")
    w.writerow(["店舗コード", "店名", "件数", "受取額", "返金額", CARRIED, "手数料", "振込額", "状態"])
    for x in lines:
        w.writerow([x.code, x.name, x.payments, x.gross, x.refunds, x.carried, x.fee, x.net, x.status])
    (folder / "summary.csv").write_bytes(summary.getvalue().encode("utf-8-sig"))
    result: dict[str, Any] = {"folder": str(folder), "shops": len(lines), "total_net": sum(x.net for x in lines),
                              "zengin": None, "zengin_error": None}
    try:
        data = zengin_file(db, batch, lines)
    except InvalidInput as exc:
        result["zengin_error"] = exc.message
        return result
    path = folder / f"zengin_{batch.id}_{batch.transfer_date:%Y%m%d}.txt"
    path.write_bytes(data)
    result["zengin"] = str(path)
    return result


def preview(db: Database, period_end: date) -> list[dict[str, Any]]:
    """What a run would pay each shop (the dry run): open receipts before the period's end, less fees."""
    cutoff = end_of_jst_day(period_end)
    with db.session() as s:
        shops = {m.account_id: m for m in s.execute(select(Merchant).where(Merchant.active.is_(True))).scalars()}
        out: dict[int, dict[str, Any]] = {}
        for acc, _mt, amount in s.execute(
                select(Lot.account_id, Lot.money_type_id, func.sum(Lot.remaining))
                .where(Lot.account_id.in_(list(shops)), Lot.remaining > 0, Lot.created_at < cutoff)
                .group_by(Lot.account_id, Lot.money_type_id)):
            m = shops[acc]
            row = out.setdefault(m.id, {"code": m.code, "name": m.name, "gross": 0, "fee": 0, "net": 0,
                                        "bank": bool(m.bank_code and m.account_number and m.account_holder_kana)})
            fee = fee_for(int(amount), m.fee_rate_bp)
            row["gross"] += int(amount)
            row["fee"] += fee
            row["net"] += int(amount) - fee
    return sorted(out.values(), key=lambda r: r["code"])
