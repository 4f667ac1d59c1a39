"""machi resident: 住民 — list, show, counter registration, 本人確認, 利用停止, 代理人, 転出・死亡."""
from __future__ import annotations

from datetime import date

import click
from sqlalchemy import func, or_, select

from admin_cli.common import (
    JST_DATE,
    LINE_ID,
    JaChoice,
    JaIntRange,
    age_on,
    dry_run_option,
    emit,
    find_resident,
    jst,
    table,
    yen,
)
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from flows import residents as resident_flows
from flows.errors import InputError
from flows.normalize import parse_kana
from ledger import registry
from ledger.clock import today_jst
from ledger.errors import AlreadyDone, InvalidInput, NotAllowed
from ledger.models import Card, Resident, ResidentProxy
from ledger.models.people import RESIDENT_STATUSES
from ledger.queries import balances
from town import counter_registration

STATUS_JA = {"active": "利用中", "suspended": "利用停止", "moved_out": "転出", "deceased": "死亡", "withdrawn": "退会"}
VERIFY_JA = {"unverified": "未確認", "counter": "窓口で確認済み", "mynumber": "マイナンバーカードで確認済み"}


@cli.group()
def resident() -> None:
    """住民（利用者）: 一覧・詳細・窓口登録・本人確認・利用停止・代理人・転出/死亡。"""


@resident.command("list")
@click.option("--district", default=None, help="地区で絞り込み（例: 古丹別）")
@click.option("--status", type=JaChoice(RESIDENT_STATUSES), default=None, help="状態で絞り込み")
@click.option("--limit", default=50, show_default=True, type=JaIntRange(1, 100_000))
@pass_ctx
def list_(ctx: CliContext, district: str | None, status: str | None, limit: int) -> None:
    """住民の一覧（番号・氏名・年齢・地区・状態・本人確認・LINE/カード）。"""
    today = today_jst()
    with ctx.core().db.session() as s:
        q = select(Resident).order_by(Resident.id).limit(limit)
        if district:
            q = q.where(Resident.district == district)
        if status:
            q = q.where(Resident.status == status)
        rows = s.execute(q).scalars().all()
        with_card = set(s.execute(select(Card.resident_id).where(Card.status == "active",
                                                                 Card.resident_id.in_([r.id for r in rows]))).scalars())
        total = s.execute(select(func.count()).select_from(Resident)).scalar_one()
    data = [{"id": r.id, "name": r.name, "age": age_on(r.birth_date, today), "district": r.district,
             "status": r.status, "verification": r.verification, "line": bool(r.line_user_id),
             "card": r.id in with_card} for r in rows]
    emit(ctx, data, [*table([(d["id"], d["name"], d["age"] if d["age"] is not None else "", d["district"],
                              STATUS_JA.get(d["status"], d["status"]), VERIFY_JA.get(d["verification"], ""),
                              "○" if d["line"] else "", "○" if d["card"] else "") for d in data],
                            ["番号", "氏名", "年齢", "地区", "状態", "本人確認", "LINE", "カード"]),
                     f"（{len(data)} 件表示／全 {total:,} 人）"])


def _balance_rows(s, r: Resident, now) -> list[dict]:
    return [{"money_type": b.money_type, "name": b.name, "amount": b.amount,
             "next_expiry": b.next_expiry, "expiring_amount": b.expiring_amount}
            for b in balances(s.connection(), r.account_id, now=now)]


@resident.command("show")
@click.argument("ref")
@pass_ctx
def show(ctx: CliContext, ref: str) -> None:
    """住民の詳細と残高。REF は番号・LINEユーザーID・カード番号のいずれか。"""
    core = ctx.core()
    with core.db.session() as s:
        r = find_resident(s, ref)
        bal = _balance_rows(s, r, core.uow.clock())
        proxies = s.execute(select(ResidentProxy.proxy_resident_id, ResidentProxy.relation)
                            .where(ResidentProxy.resident_id == r.id)).all()
        acting_for = list(s.execute(select(ResidentProxy.resident_id).where(ResidentProxy.proxy_resident_id == r.id))
                          .scalars())
        cards = s.execute(select(Card.number, Card.status, Card.locked_until).where(Card.resident_id == r.id)).all()
        data = {"id": r.id, "name": r.name, "name_kana": r.name_kana, "birth_date": r.birth_date,
                "age": age_on(r.birth_date, today_jst()), "district": r.district, "household_size": r.household_size,
                "children": r.children, "status": r.status, "verification": r.verification,
                "verified_at": r.verified_at, "registered_at": r.registered_at, "line": bool(r.line_user_id),
                "reachable": r.reachable, "language": r.language, "balances": bal,
                "proxies": [{"resident_id": p, "relation": rel} for p, rel in proxies], "acts_for": acting_for,
                "cards": [{"number": c.number, "status": c.status, "locked_until": c.locked_until} for c in cards]}
    lines = [f"{r.id}  {r.name}（{r.name_kana}）  {data['age'] if data['age'] is not None else '?'}歳  {r.district}",
             f"  状態: {STATUS_JA.get(r.status, r.status)}  本人確認: {VERIFY_JA.get(r.verification, r.verification)}"
             f"  LINE: {'あり' if r.line_user_id else 'なし'}{'' if r.reachable else '（ブロック中）'}"
             f"  登録: {jst(r.registered_at) or '未登録'}",
             "  残高:" + ("" if bal else " なし")]
    lines += [f"    {b['name']}（{b['money_type']}） {yen(b['amount'])}"
              + (f"  うち {yen(b['expiring_amount'])} は {b['next_expiry']} まで" if b["next_expiry"] else "")
              for b in bal]
    lines += [f"  代理人: 番号 {p['resident_id']}（{p['relation']}）" for p in data["proxies"]]
    lines += [f"  代理で手続きする相手: 番号 {a}" for a in acting_for]
    lines += [f"  カード {c['number'][:4]} {c['number'][4:8]} {c['number'][8:]}（{c['status']}）" for c in data["cards"]]
    emit(ctx, data, lines)


@resident.command("add")
@click.option("--name", required=True, help="氏名（漢字）")
@click.option("--kana", required=True, help="氏名（カナ）")
@click.option("--birth", type=JST_DATE, required=True, help="生年月日（例: 1938-03-03）")
@click.option("--district", required=True, help="地区（例: 力昼）")
@click.option("--household-size", type=JaIntRange(1, 30), default=None, help="世帯人数")
@click.option("--children", type=JaIntRange(0, 20), default=0, show_default=True, help="子どもの数")
@click.option("--line-user-id", default=None, help="LINEユーザーID（あれば）")
@click.option("--not-duplicate", is_flag=True,
              help="同じ氏名・生年月日の方がいても、別の方であることを確かめたうえで登録する")
@dry_run_option
@pass_ctx
def add(ctx: CliContext, name: str, kana: str, birth: date, district: str, household_size: int | None,
        children: int, line_user_id: str | None, not_duplicate: bool, dry_run: bool) -> None:
    """窓口で住民を登録します（スマホのない方はこの後 machi card issue でカードを発行）。本人確認済みになります。

    LINEですでに登録している方（同じ氏名またはカナと生年月日）は二重登録になるため断ります。
    """
    line_user_id = (line_user_id or "").strip() or None
    if line_user_id is not None and not LINE_ID.match(line_user_id):
        raise InvalidInput("LINEユーザーIDは U と32桁の英数字（0-9, a-f）です。")
    try:
        kana = parse_kana(kana)
    except InputError as exc:
        raise InvalidInput(f"カナ: {exc.message_ja}") from exc
    reg = counter_registration.CounterRegistration(name, kana, birth, district, household_size, children,
                                                   line_user_id)
    core = ctx.core()
    now = core.uow.clock()
    known = resident_flows.districts()
    if dry_run:
        counter_registration.check(core.db, reg, today=today_jst(now), districts=known, not_duplicate=not_duplicate)
        emit(ctx, {"dry_run": True}, f"（試し実行）{district}の住民を1人登録します（本人確認: 窓口）。")
        return
    rid = counter_registration.register(core.db, reg, now=now, today=today_jst(now), districts=known,
                                        not_duplicate=not_duplicate)
    ctx.audit("resident.add", {"resident_id": rid, "district": district, "not_duplicate": not_duplicate},
              "registered at the counter")
    emit(ctx, {"id": rid}, f"住民を登録しました（番号 {rid}）。カードは `machi card issue {rid}` で発行できます。")


@resident.command("verify")
@click.argument("ref")
@click.option("--method", type=JaChoice(["counter", "mynumber"]), default="counter", show_default=True,
              help="counter=窓口で本人確認書類 / mynumber=マイナンバーカード")
@dry_run_option
@pass_ctx
def verify(ctx: CliContext, ref: str, method: str, dry_run: bool) -> None:
    """本人確認済みにします（窓口で確認したとき）。"""
    core = ctx.core()
    with core.db.write() as s:
        r = find_resident(s, ref)
        if r.verification != "unverified" and r.verification == method:
            raise AlreadyDone(f"番号 {r.id} の方はすでに{VERIFY_JA[method]}です。")
        rid = r.id
        if not dry_run:
            r.verification, r.verified_at = method, core.uow.clock()
    if dry_run:
        emit(ctx, {"dry_run": True, "id": rid}, f"（試し実行）番号 {rid} の方を{VERIFY_JA[method]}にします。")
        return
    ctx.audit("resident.verify", {"resident_id": rid, "method": method}, "verified")
    emit(ctx, {"id": rid, "verification": method}, f"番号 {rid} の方を{VERIFY_JA[method]}にしました。")


def _set_status(ctx: CliContext, ref: str, new: str, *, allowed_from: tuple[str, ...], dry_run: bool,
                action: str, params: dict, also=None) -> tuple[int, list[dict]]:
    """Change the status (and whatever `also(session, resident_id)` adds) in one transaction."""
    core = ctx.core()
    with core.db.write() as s:
        r = find_resident(s, ref)
        if r.status == new:
            raise AlreadyDone(f"番号 {r.id} の方はすでに「{STATUS_JA[new]}」です。")
        if r.status not in allowed_from:
            raise NotAllowed(f"番号 {r.id} の方は「{STATUS_JA.get(r.status, r.status)}」のため変更できません。")
        bal = _balance_rows(s, r, core.uow.clock())
        rid = r.id
        if not dry_run:
            r.status = new
            if also is not None:
                also(s, rid)
    if not dry_run:
        ctx.audit(action, {"resident_id": rid, **params}, new)
    return rid, bal


def _balance_fate(bal: list[dict], status_word: str) -> list[str]:
    if not bal:
        return ["残高はありません。"]
    total = sum(b["amount"] for b in bal)
    lines = [f"残高 {yen(total)} はお財布に残りますが、{status_word}のため使えなくなります"
             "（お支払い・受け取り・譲渡はできません）。"]
    lines += [f"  {b['name']} {yen(b['amount'])}" + (f"（{b['next_expiry']} まで有効、その後失効）" if b["next_expiry"]
                                                     else "（有効期限なし）") for b in bal]
    lines.append("有効期限が来た分は失効し、失効額として町の会計で処理します。前払式支払手段のため現金での払い戻しはしません。")
    return lines


@resident.command("suspend")
@click.argument("ref")
@click.option("--reason", required=True, help="理由（監査記録に残ります。個人情報は書かないでください）")
@dry_run_option
@pass_ctx
def suspend(ctx: CliContext, ref: str, reason: str, dry_run: bool) -> None:
    """利用停止にします（不正利用の疑い・本人の申し出など）。残高は残り、再開すれば使えます。"""
    rid, bal = _set_status(ctx, ref, "suspended", allowed_from=("active",), dry_run=dry_run,
                           action="resident.suspend", params={"reason": reason})
    head = f"{'（試し実行）' if dry_run else ''}番号 {rid} の方を利用停止{'にします' if dry_run else 'にしました'}。"
    emit(ctx, {"id": rid, "status": "suspended", "dry_run": dry_run, "balances": bal},
         [head, *_balance_fate(bal, "停止中")[:-1], "再開は `machi resident reactivate` です。"])


@resident.command("reactivate")
@click.argument("ref")
@dry_run_option
@pass_ctx
def reactivate(ctx: CliContext, ref: str, dry_run: bool) -> None:
    """利用停止・転出を取り消して、再び使えるようにします（残高もそのまま使えます）。"""
    rid, _ = _set_status(ctx, ref, "active", allowed_from=("suspended", "moved_out"), dry_run=dry_run,
                         action="resident.reactivate", params={})
    emit(ctx, {"id": rid, "status": "active", "dry_run": dry_run},
         f"{'（試し実行）' if dry_run else ''}番号 {rid} の方を利用中に{'戻します' if dry_run else '戻しました'}。")


@resident.command("moved-out")
@click.argument("ref")
@click.option("--on", "on", type=JST_DATE, default=None, help="転出日（記録用）")
@dry_run_option
@pass_ctx
def moved_out(ctx: CliContext, ref: str, on: date | None, dry_run: bool) -> None:
    """転出: お財布を止めます。残高の扱いを表示します（有効期限まで残り、その後失効）。"""
    rid, bal = _set_status(ctx, ref, "moved_out", allowed_from=("active", "suspended"), dry_run=dry_run,
                           action="resident.moved_out", params={"on": on})
    head = f"{'（試し実行）' if dry_run else ''}番号 {rid} の方を転出{'にします' if dry_run else 'にしました'}。"
    emit(ctx, {"id": rid, "status": "moved_out", "dry_run": dry_run, "balances": bal,
               "balance_policy": "frozen; lapses at expiry; no cash refund"},
         [head, *_balance_fate(bal, "転出")])


def _end_proxies_and_cards(s, rid: int) -> None:
    """A deceased person neither has proxies nor acts for anyone, and their cards stop."""
    for p in s.execute(select(ResidentProxy).where(or_(ResidentProxy.resident_id == rid,
                                                       ResidentProxy.proxy_resident_id == rid))).scalars():
        s.delete(p)
    for c in s.execute(select(Card).where(Card.resident_id == rid, Card.status == "active")).scalars():
        c.status = "stopped"


@resident.command("deceased")
@click.argument("ref")
@click.option("--on", "on", type=JST_DATE, default=None, help="死亡日（記録用）")
@dry_run_option
@pass_ctx
def deceased(ctx: CliContext, ref: str, on: date | None, dry_run: bool) -> None:
    """死亡: お財布を止め、代理人の登録も外します。残高の扱いを表示します（有効期限まで残り、その後失効）。"""
    rid, bal = _set_status(ctx, ref, "deceased", allowed_from=("active", "suspended", "moved_out"), dry_run=dry_run,
                           action="resident.deceased", params={"on": on}, also=_end_proxies_and_cards)
    head = f"{'（試し実行）' if dry_run else ''}番号 {rid} の方を死亡{'として処理します' if dry_run else 'として処理しました'}（カードは停止）。"
    emit(ctx, {"id": rid, "status": "deceased", "dry_run": dry_run, "balances": bal,
               "balance_policy": "frozen; lapses at expiry; no cash refund"},
         [head, *_balance_fate(bal, "死亡")])


@resident.command("proxy")
@click.argument("ref")
@click.option("--proxy", "proxy_ref", required=True, help="代理人（家族）の番号・LINEユーザーID")
@click.option("--relation", default="", help="続柄（例: 長女）")
@click.option("--remove", is_flag=True, help="代理人の登録を外します")
@dry_run_option
@pass_ctx
def proxy(ctx: CliContext, ref: str, proxy_ref: str, relation: str, remove: bool, dry_run: bool) -> None:
    """代理人（本人に代わって手続きできる家族）を登録・解除します。代理人もまちウォレットの利用者である必要があります。"""
    core = ctx.core()
    with core.db.write() as s:
        r = find_resident(s, ref)
        p = find_resident(s, proxy_ref)
        if r.id == p.id:
            raise InvalidInput("本人を自分の代理人にはできません。")
        registry.lock_resident(s, r.id)  # the same proxy added twice at once: the second finds the first
        found = s.execute(select(ResidentProxy).where(ResidentProxy.resident_id == r.id,
                                                      ResidentProxy.proxy_resident_id == p.id)).scalar()
        if remove and found is None:
            raise InvalidInput(f"番号 {p.id} の方は番号 {r.id} の方の代理人ではありません。")
        if not remove and found is not None:
            raise AlreadyDone(f"番号 {p.id} の方はすでに番号 {r.id} の方の代理人です。")
        if not remove and p.status != "active":
            raise NotAllowed("代理人になる方のお財布が利用中ではありません。")
        rid, pid = r.id, p.id
        if not dry_run:
            if remove:
                s.delete(found)
            else:
                s.add(ResidentProxy(resident_id=rid, proxy_resident_id=pid, relation=relation.strip()[:32]))
    verb = "代理人の登録を外" if remove else "代理人に登録"
    if not dry_run:
        ctx.audit("resident.proxy", {"resident_id": rid, "proxy_resident_id": pid, "remove": remove}, verb)
    emit(ctx, {"resident_id": rid, "proxy_resident_id": pid, "removed": remove, "dry_run": dry_run},
         f"{'（試し実行）' if dry_run else ''}番号 {pid} の方を番号 {rid} の方の{verb}{'します' if dry_run else 'しました'}。")
