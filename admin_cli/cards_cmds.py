"""machi card: カード（スマホのない方） — issue with a printed sheet and a separate PIN letter, reprint,
unlock after wrong PINs, replace a lost card (the balance is the wallet's, so it moves at once)."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from admin_cli.common import dry_run_option, emit, find_resident, yen
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger import cards
from ledger.errors import AlreadyDone, NotAllowed, NotFound
from ledger.models import Card, Resident
from ledger.queries import balances
from town import card_sheet

_out = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                    show_default=True, help="カード台紙・暗証番号のお知らせ（PDF）の出力先フォルダ")
_pin = click.option("--pin", default=None,
                    help="暗証番号（4桁）。省略すると推測されにくい番号を作り、お知らせにだけ印字します")


def _write(out_dir: Path, name: str, district: str, number: str, pin: str | None) -> dict[str, str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"card_sheet": str(out_dir / f"card_{number}.pdf")}
    Path(paths["card_sheet"]).write_bytes(card_sheet.card_sheet(name, number, district))
    if pin is not None:
        paths["pin_letter"] = str(out_dir / f"pin_letter_{number}.pdf")
        Path(paths["pin_letter"]).write_bytes(card_sheet.pin_letter(name, number, pin))
    return paths


CARD_STATUS_JA = cards.STATUS_JA


@cli.group()
def card() -> None:
    """カード（スマホのない方のための、QRコードつきカード）: 発行・印刷・ロック解除・紛失時の再発行。"""


@card.command("issue")
@click.argument("resident_ref")
@_pin
@_out
@dry_run_option
@pass_ctx
def issue(ctx: CliContext, resident_ref: str, pin: str | None, out_dir: Path, dry_run: bool) -> None:
    """カードを発行し、カード台紙と暗証番号のお知らせ（別のPDF）を作ります。"""
    pin = cards.check_pin_format(pin) if pin is not None else card_sheet.random_pin()
    with ctx.core().db.write() as s:
        r = find_resident(s, resident_ref)
        if r.status != "active":
            raise NotAllowed(f"番号 {r.id} の方のお財布は利用中ではないため、カードを発行できません。")
        try:
            cards.check_no_active_card(s, r.id)  # the resident's row stays locked until this issue commits
        except AlreadyDone as exc:
            raise AlreadyDone(f"{exc.message}紛失なら `machi card replace <カード番号>` です。") from exc
        rid, name, district = r.id, r.name, r.district
        if dry_run:
            number = None
        else:
            number = cards.issue_card(s, rid, pin).number
    if dry_run:
        emit(ctx, {"dry_run": True, "resident_id": rid}, f"（試し実行）番号 {rid} の方にカードを発行します。")
        return
    paths = _write(out_dir, name, district, number, pin)
    ctx.audit("card.issue", {"resident_id": rid, "card": number[-4:]}, "issued")
    emit(ctx, {"resident_id": rid, "number": number, **paths},
         [f"カード {cards.format_number(number)} を発行しました（番号 {rid} の方）。",
          f"  カード台紙: {paths['card_sheet']}", f"  暗証番号のお知らせ: {paths['pin_letter']}（別にお渡しください）"])


@card.command("print")
@click.argument("number")
@_out
@pass_ctx
def print_(ctx: CliContext, number: str, out_dir: Path) -> None:
    """カード台紙を印刷し直します（暗証番号は印字できません。忘れた方は再発行です）。"""
    digits = cards.normalize_number(number)
    with ctx.core().db.session() as s:
        row = s.execute(select(Card, Resident).join(Resident, Resident.id == Card.resident_id)
                        .where(Card.number == digits)).first()
        if row is None:
            raise NotFound("カードが見つかりません。")
        c, r = row
        if c.status != "active":
            raise NotAllowed(f"このカードは使えません（{CARD_STATUS_JA.get(c.status, c.status)}）。")
        name, district = r.name, r.district
    paths = _write(out_dir, name, district, digits, None)
    emit(ctx, paths, f"カード台紙を作りました: {paths['card_sheet']}")


@card.command("unlock")
@click.argument("number")
@dry_run_option
@pass_ctx
def unlock(ctx: CliContext, number: str, dry_run: bool) -> None:
    """暗証番号の間違いでロックされたカードを使えるようにします（ご本人と確認してから）。"""
    digits = cards.normalize_number(number)
    with ctx.core().db.write() as s:
        c = s.execute(select(Card).where(Card.number == digits)).scalar()
        if c is None:
            raise NotFound("カードが見つかりません。")
        was_locked = bool(c.locked_until or c.failed_attempts)
        if not dry_run:
            cards.unlock(s, digits)
    if not dry_run:
        ctx.audit("card.unlock", {"card": digits[-4:]}, "unlocked" if was_locked else "was not locked")
    emit(ctx, {"number": digits, "was_locked": was_locked, "dry_run": dry_run},
         f"{'（試し実行）' if dry_run else ''}カード {cards.format_number(digits)} の"
         f"{'ロックを解除' + ('します' if dry_run else 'しました') if was_locked else 'ロックはかかっていません（間違い回数を0に戻しました）'}。")


@card.command("replace")
@click.argument("number")
@_pin
@_out
@dry_run_option
@pass_ctx
def replace(ctx: CliContext, number: str, pin: str | None, out_dir: Path, dry_run: bool) -> None:
    """紛失・破損したカードを止めて新しいカードを発行します。残高はお財布のものなので、新しいカードでそのまま使えます。"""
    digits = cards.normalize_number(number)
    pin = cards.check_pin_format(pin) if pin is not None else card_sheet.random_pin()
    core = ctx.core()
    with core.db.write() as s:
        old = s.execute(select(Card).where(Card.number == digits)).scalar()
        if old is None:
            raise NotFound("カードが見つかりません。")
        if old.status != "active":
            raise NotAllowed(f"このカードはすでに使えなくなっています（{CARD_STATUS_JA.get(old.status, old.status)}）。")
        r = s.get(Resident, old.resident_id)
        held = sum(b.amount for b in balances(s.connection(), r.account_id, now=core.uow.clock()))
        rid, name, district = r.id, r.name, r.district
        new_number = None if dry_run else cards.replace_card(s, digits, pin).number
    if dry_run:
        emit(ctx, {"dry_run": True, "old": digits, "balance": held},
             f"（試し実行）カード {cards.format_number(digits)} を止めて新しいカードを発行します。残高 {yen(held)} は新しいカードで使えます。")
        return
    paths = _write(out_dir, name, district, new_number, pin)
    ctx.audit("card.replace", {"resident_id": rid, "old": digits[-4:], "new": new_number[-4:]}, "replaced")
    emit(ctx, {"old": digits, "new": new_number, "balance": held, **paths},
         [f"カード {cards.format_number(digits)} を止め、新しいカード {cards.format_number(new_number)} を発行しました。",
          f"残高 {yen(held)} は新しいカードでそのまま使えます（古いカードはもう使えません）。",
          f"  カード台紙: {paths['card_sheet']}", f"  暗証番号のお知らせ: {paths['pin_letter']}"])
