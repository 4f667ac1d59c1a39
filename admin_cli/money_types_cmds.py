"""machi money-type: 券種 — add and list (kind, validity, 専用券 restriction, transferability)."""
from __future__ import annotations

from datetime import date

import click
from sqlalchemy import func, select

from admin_cli.common import JST_DATE, JaChoice, dry_run_option, emit, table, yen
from admin_cli.context import CliContext, pass_ctx
from admin_cli.grants_cmds import check_code
from admin_cli.main import cli
from ledger import registry
from ledger.categories import CATEGORIES
from ledger.clock import today_jst, utcnow
from ledger.errors import AlreadyDone, InvalidInput
from ledger.exchange_rules import rules_at
from ledger.models import Account, Lot, MoneyType
from ledger.models.money import MONEY_KINDS

KINDS_JA = {"prepaid": "前払式（プレミアム商品券など販売するもの）", "grant": "給付券（給付金）",
            "point": "ポイント（地域ポイント）", "coupon": "クーポン（観光・ふるさと納税）"}


@cli.group("money-type")
def money_type() -> None:
    """券種: 追加・一覧。種類（前払式/給付/ポイント/クーポン）、有効期限、専用券（使える店の区分）、譲渡可否。"""


def validity_text(mt: MoneyType) -> str:
    parts = []
    if mt.validity_days:
        parts.append(f"発行から{mt.validity_days}日")
    if mt.valid_until:
        parts.append(f"{mt.valid_until}まで")
    return "・".join(parts) + ("（早い方）" if len(parts) == 2 else "") if parts else "期限なし"


@money_type.command("add")
@click.option("--code", required=True, help="券種コード（例: PREM2027）")
@click.option("--name", required=True, help="名称（例: プレミアム商品券（共通券））")
@click.option("--name-en", default="", help="英語名")
@click.option("--kind", type=JaChoice(MONEY_KINDS), required=True,
              help="prepaid=前払式（販売） grant=給付 point=ポイント coupon=クーポン")
@click.option("--validity-days", type=int, default=None, help="有効期間（発行から何日）")
@click.option("--valid-until", type=JST_DATE, default=None, help="有効期限日（この日まで使える）")
@click.option("--only", "only", type=JaChoice(list(CATEGORIES)), default=None,
              help="専用券: この区分の店だけで使える（small=地元の中小店舗）")
@click.option("--transferable", is_flag=True, help="住民どうしで譲渡できる")
@dry_run_option
@pass_ctx
def add(ctx: CliContext, code: str, name: str, name_en: str, kind: str, validity_days: int | None,
        valid_until: date | None, only: str | None, transferable: bool, dry_run: bool) -> None:
    """券種を追加します。前払式（prepaid）は6か月を超えて使えると資金決済法の届出・保証金の対象になります。"""
    code = check_code(code, "券種")
    if validity_days is not None and validity_days <= 0:
        raise InvalidInput("有効期間（日数）は1以上にしてください。")
    if validity_days is None and valid_until is None and kind in ("prepaid", "grant"):
        raise InvalidInput("前払式・給付の券種には有効期限（--validity-days か --valid-until）が必要です。")
    if not name.strip():
        raise InvalidInput("名称を入れてください。")
    if valid_until is not None and valid_until < today_jst():
        raise InvalidInput(f"有効期限日 {valid_until} はもう過ぎています。今日以降の日付にしてください。")
    with ctx.core().db.write() as s:
        if s.execute(select(MoneyType.id).where(MoneyType.code == code)).first():
            raise AlreadyDone(f"券種コード「{code}」はすでにあります。")
        if not dry_run:
            registry.create_money_type(s, code=code, name=name.strip(), name_en=name_en, kind=kind,
                                       validity_days=validity_days, valid_until=valid_until,
                                       accepted_category=only, transferable=transferable)
    params = {"code": code, "kind": kind, "validity_days": validity_days, "valid_until": valid_until, "only": only,
              "transferable": transferable}
    if not dry_run:
        ctx.audit("money_type.add", params, "added")
    warn = []
    if kind == "prepaid" and (validity_days is None or validity_days > 180):
        warn.append("注意: 6か月を超えて使える前払式支払手段です。基準日（3/31・9/30）の未使用残高が1,000万円を超えると"
                    "届出と発行保証金（半額）の供託が必要です（machi report unused-balance で確認）。")
    emit(ctx, {**params, "dry_run": dry_run},
         [f"{'（試し実行）' if dry_run else ''}券種「{name}」（{code}、{KINDS_JA[kind]}、{'専用券: ' + CATEGORIES[only] if only else '共通'}）を"
          f"{'追加します' if dry_run else '追加しました'}。", *warn])


@money_type.command("list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """券種の一覧（種類・有効期限・使える店・譲渡・住民の残高合計）。"""
    with ctx.core().db.session() as s:
        rows = s.execute(select(MoneyType).order_by(MoneyType.id)).scalars().all()
        held = dict(s.execute(select(Lot.money_type_id, func.sum(Lot.remaining))
                              .join(Account, Account.id == Lot.account_id)
                              .where(Account.kind == "resident", Lot.remaining > 0)
                              .group_by(Lot.money_type_id)).all())
        codes = {mt.id: mt.code for mt in rows}
        rules = [(codes.get(r.from_type_id), r.from_units, codes.get(r.to_type_id), r.to_units)
                 for r in rules_at(s, utcnow())]  # the rule in effect now (`machi exchange-rule list`: all)
    data = [{"code": mt.code, "name": mt.name, "kind": mt.kind, "validity": validity_text(mt),
             "validity_days": mt.validity_days, "valid_until": mt.valid_until,
             "only": mt.accepted_category, "transferable": mt.transferable, "spendable": mt.spendable,
             "active": mt.active, "held_by_residents": int(held.get(mt.id, 0) or 0),
             "exchange": [f"{fu}{f}→{tu}{t}" for f, fu, t, tu in rules if f == mt.code]} for mt in rows]
    emit(ctx, data, table([(d["code"], d["name"], d["kind"], d["validity"],
                            "専用: " + CATEGORIES[d["only"]] if d["only"] else "全店",
                            "可" if d["transferable"] else "不可", yen(d["held_by_residents"]),
                            " ".join(d["exchange"])) for d in data],
                          ["コード", "名称", "種類", "有効期限", "使える店", "譲渡", "住民の残高", "交換"]))
