"""machi merchant: 加盟店 — add, list, staff (LINE user and role), bank account for payouts, poster."""
from __future__ import annotations

import re
from pathlib import Path

import click
from sqlalchemy import func, select

from admin_cli.common import JaChoice, JaIntRange, dry_run_option, emit, find_merchant, table, yen
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from admin_cli.richmenu_cmds import line_client
from bot.line_client import LineApiError
from bot.richmenu import MenuLinker
from ledger import registry, zengin
from ledger.categories import CATEGORIES
from ledger.errors import AlreadyDone, InvalidInput, NotFound
from ledger.kana import to_zengin_kana
from ledger.models import Lot, Merchant, MerchantStaff
from liff import poster, tokens

CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
LINE_ID = re.compile(r"^U[0-9a-f]{32}$")
ROLES = {"owner": "店主（精算・返金・店員の管理）", "clerk": "店員（会計・返金）"}


@cli.group()
def merchant() -> None:
    """加盟店（お店）: 登録・一覧・店員（LINEユーザーと役割）・振込口座（全銀コード・カナ名義）・店頭ポスター。"""


@merchant.command("add")
@click.option("--code", required=True, help="店舗コード（例: M009。ポスターのQRに入ります）")
@click.option("--name", required=True, help="店名")
@click.option("--kana", default="", help="店名カナ")
@click.option("--category", type=JaChoice(list(CATEGORIES)), default="small", show_default=True,
              help="small=地元の中小店舗（専用券も使える） / large=大型店（共通券のみ）")
@click.option("--fee-bp", type=JaIntRange(0, 2000), default=0, show_default=True,
              help="換金手数料（ベーシスポイント。100=1%）")
@dry_run_option
@pass_ctx
def add(ctx: CliContext, code: str, name: str, kana: str, category: str, fee_bp: int, dry_run: bool) -> None:
    """加盟店を登録します。振込口座は machi merchant bank で登録します。"""
    if not CODE.match(code):
        raise InvalidInput("店舗コードは英数字・_・- の16文字以内です（例: M009）。")
    if not name.strip():
        raise InvalidInput("店名を入れてください。")
    with ctx.core().db.write() as s:
        if s.execute(select(Merchant.id).where(Merchant.code == code)).first():
            raise AlreadyDone(f"店舗コード「{code}」はすでにあります。")
        if not dry_run:
            registry.create_merchant(s, code=code, name=name.strip(), name_kana=kana.strip(), category=category,
                                     fee_rate_bp=fee_bp)
    if not dry_run:
        ctx.audit("merchant.add", {"code": code, "category": category, "fee_bp": fee_bp}, "added")
    emit(ctx, {"code": code, "name": name, "category": category, "fee_bp": fee_bp, "dry_run": dry_run},
         f"{'（試し実行）' if dry_run else ''}加盟店「{name}」（{code}、{CATEGORIES[category]}、手数料 {fee_bp / 100:.2f}%）を"
         f"{'登録します' if dry_run else '登録しました'}。")


@merchant.command("list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """加盟店の一覧（区分・手数料・口座登録・店員数・未精算の受取額）。"""
    with ctx.core().db.session() as s:
        shops = s.execute(select(Merchant).order_by(Merchant.code)).scalars().all()
        staff = dict(s.execute(select(MerchantStaff.merchant_id, func.count()).group_by(MerchantStaff.merchant_id)).all())
        held = dict(s.execute(select(Lot.account_id, func.sum(Lot.remaining)).where(Lot.remaining > 0)
                              .where(Lot.account_id.in_([m.account_id for m in shops])).group_by(Lot.account_id)).all())
    data = [{"code": m.code, "name": m.name, "category": m.category, "fee_bp": m.fee_rate_bp,
             "bank": bool(m.bank_code and m.account_number and m.account_holder_kana), "staff": int(staff.get(m.id, 0)),
             "unpaid": int(held.get(m.account_id, 0) or 0), "active": m.active} for m in shops]
    emit(ctx, data, table([(d["code"], d["name"], CATEGORIES.get(d["category"], d["category"]), f"{d['fee_bp'] / 100:.2f}%",
                            "○" if d["bank"] else "未登録", d["staff"], yen(d["unpaid"])) for d in data],
                          ["コード", "店名", "区分", "手数料", "口座", "店員", "未精算"]))


@merchant.group("staff")
def staff() -> None:
    """店員（LINEユーザー）の追加・削除。"""


@staff.command("add")
@click.argument("code")
@click.argument("line_user_id")
@click.option("--role", type=JaChoice(list(ROLES)), default="clerk", show_default=True,
              help="owner=店主 / clerk=店員")
@click.option("--name", default="", help="呼び名（店内での表示用）")
@dry_run_option
@pass_ctx
def staff_add(ctx: CliContext, code: str, line_user_id: str, role: str, name: str, dry_run: bool) -> None:
    """店員を追加します（すでにいれば役割を変えます）。LINEユーザーIDは U で始まる33文字です。"""
    if not LINE_ID.match(line_user_id):
        raise InvalidInput("LINEユーザーIDは U と32桁の英数字（0-9, a-f）です。")
    with ctx.core().db.write() as s:
        find_merchant(s, code)
        if not dry_run:
            registry.add_staff(s, code, line_user_id, role, name)
    menu = ""
    if not dry_run:
        ctx.audit("merchant.staff_add", {"code": code, "role": role}, "staff added")
        menu = _relink_menu(ctx, line_user_id)
    emit(ctx, {"code": code, "role": role, "dry_run": dry_run, "menu": menu},
         f"{'（試し実行）' if dry_run else ''}{code} に{ROLES[role]}を{'追加します' if dry_run else '追加しました'}。"
         + _menu_note(menu))


@staff.command("remove")
@click.argument("code")
@click.argument("line_user_id")
@dry_run_option
@pass_ctx
def staff_remove(ctx: CliContext, code: str, line_user_id: str, dry_run: bool) -> None:
    """店員を外します（退職・端末の紛失など）。"""
    with ctx.core().db.write() as s:
        m = find_merchant(s, code)
        row = s.execute(select(MerchantStaff).where(MerchantStaff.merchant_id == m.id,
                                                    MerchantStaff.line_user_id == line_user_id)).scalar()
        if row is None:
            raise NotFound(f"{code} にこのLINEユーザーの店員はいません。")
        if not dry_run:
            s.delete(row)
    menu = ""
    if not dry_run:
        ctx.audit("merchant.staff_remove", {"code": code}, "staff removed")
        menu = _relink_menu(ctx, line_user_id)
    emit(ctx, {"code": code, "removed": True, "dry_run": dry_run, "menu": menu},
         f"{'（試し実行）' if dry_run else ''}{code} の店員を{'外します' if dry_run else '外しました'}。" + _menu_note(menu))


def _relink_menu(ctx: CliContext, line_user_id: str) -> str:
    """The person's rich menu follows the new role now, not at their next message to the bot.
    The key of the menu linked; "" when no menus are deployed; "later" when LINE did not answer
    (the bot links it the next time they write)."""
    try:
        with line_client(ctx, timeout=5.0, retries=0) as client:  # optional: the bot links it later anyway
            return MenuLinker(ctx.core().db, client).link_user(line_user_id) or ""
    except (LineApiError, KeyError):
        return "later"


def _menu_note(menu: str) -> str:
    if menu == "later":
        return "\nLINEに接続できなかったため、メニューは本人が次にトークで話しかけたときに切り替わります。"
    return "\nLINEのメニューを切り替えました。" if menu else ""


@merchant.command("bank")
@click.argument("code")
@click.option("--bank", "bank_code", required=True, help="金融機関コード（4桁、例: 1022）")
@click.option("--branch", "branch_code", required=True, help="支店コード（3桁）")
@click.option("--type", "account_type", default="1", show_default=True, help="預金種目 1=普通 2=当座 4=貯蓄")
@click.option("--number", "account_number", required=True, help="口座番号（7桁まで）")
@click.option("--holder", required=True, help="口座名義（カナ。全角・半角・ひらがな可）")
@dry_run_option
@pass_ctx
def bank(ctx: CliContext, code: str, bank_code: str, branch_code: str, account_type: str, account_number: str,
         holder: str, dry_run: bool) -> None:
    """精算の振込口座を登録します。金融機関・支店コードは全銀協のデータで確かめ、名義は振込用の半角カナにします。"""
    try:
        bank_kana, branch_kana = zengin.validate_bank(bank_code, branch_code)
        kind, number = zengin.validate_account(account_type, account_number)
        holder_kana = to_zengin_kana(holder, label="口座名義")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if not holder_kana or len(holder_kana) > 30:
        raise InvalidInput("口座名義（カナ）は1〜30文字です。")
    bank4, branch3 = bank_code.strip().zfill(4), branch_code.strip().zfill(3)
    with ctx.core().db.write() as s:
        m = find_merchant(s, code)
        if not dry_run:
            m.bank_code, m.branch_code, m.account_type, m.account_number, m.account_holder_kana = (
                bank4, branch3, kind, number, holder_kana)
    if not dry_run:
        ctx.audit("merchant.bank", {"code": code, "bank": bank4, "branch": branch3, "type": kind}, "bank account set")
    emit(ctx, {"code": code, "bank_code": bank4, "bank_kana": bank_kana, "branch_code": branch3,
               "branch_kana": branch_kana, "account_type": kind, "account_number": number, "holder_kana": holder_kana,
               "dry_run": dry_run},
         [f"{'（試し実行）' if dry_run else ''}{code} の振込口座を{'登録します' if dry_run else '登録しました'}:",
          f"  {bank4} {bank_kana} / {branch3} {branch_kana} / {zengin.ACCOUNT_TYPES[kind]} {number} / {holder_kana}"])


@merchant.command("poster")
@click.argument("code")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="出力先フォルダ")
@pass_ctx
def poster_cmd(ctx: CliContext, code: str, out_dir: Path) -> None:
    """店頭ポスター（A4、店のQRコードと使い方）を PNG と PDF で作ります。"""
    cfg = ctx.config
    with ctx.core().db.session() as s:
        m = find_merchant(s, code)
        name = m.name
    url = tokens.shop_url(code, liff_id=cfg.liff_id, public_url=cfg.public_url, dev=cfg.env != "prod")
    png, pdf = poster.make_poster(name, code, url)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"poster_{code}.png").write_bytes(png)
    (out_dir / f"poster_{code}.pdf").write_bytes(pdf)
    emit(ctx, {"code": code, "png": str(out_dir / f"poster_{code}.png"), "pdf": str(out_dir / f"poster_{code}.pdf"),
               "url": url},
         [f"ポスターを作りました: {out_dir / f'poster_{code}.pdf'}（PNG も同じ場所）", f"QRの中身: {url}"])
