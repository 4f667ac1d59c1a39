"""Actions of the resident flows that are about the person: registration, linking a card, changing
details, withdrawal; and two generic ones any YAML flow can use (`card`, `open_liff`).

Services they read (the bot passes them): `db`, `uow`, `verifier` (see `flows.verification`),
and optional hooks `after_registration(user_id)` / `after_withdrawal(user_id)` (the bot links the
right rich menu), `flows` and `menu_for` (the menu offered as quick replies).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flows.actions import action
from flows.context import ActionContext, ActionResult
from flows.errors import ActionError
from flows.inputs import postback_data
from flows.messages import Button, Card, OpenLiff, QuickReply, Text
from flows.present import day, say, yen
from flows.residents import current, db_of, lookup, not_registered
from flows.verification import CounterVerifier
from ledger import queries, registry
from ledger.cards import check_pin_format, normalize_number, verify_pin
from ledger.errors import AlreadyDone, InvalidInput, WrongPin
from ledger.models import Resident

log = logging.getLogger(__name__)

INACTIVE = {
    "suspended": ("ご利用が一時停止されています", "is suspended"),
    "moved_out": ("転出のため終了しています", "has ended (moved out)"),
    "deceased": ("終了しています", "has ended"),
}


def _hook(ctx: ActionContext, name: str) -> None:
    """Call an optional hook the app gave (rich menu linking): its failure never undoes the action."""
    fn = getattr(ctx.services, name, None)
    if fn is None:
        return
    try:
        fn(ctx.user_id)
    except Exception:  # noqa: BLE001 - a menu that fails to switch is logged, the resident is registered
        log.exception("%s hook failed", name)


def menu_replies(ctx: ActionContext) -> list[QuickReply]:
    """The menu flows as quick replies, narrowed for this user like the engine's own help."""
    flows = getattr(ctx.services, "flows", None)
    if flows is None:
        return []
    menu = flows.menu()
    menu_for = getattr(ctx.services, "menu_for", None)
    if menu_for is not None:
        menu = menu_for(menu, ctx.user_id)
    return [QuickReply.postback(f.title_for(ctx.lang)[:20], postback_data(flow=f.id)) for f in menu][:13]


# ------------------------------------------------------------------------ generic


@action("card")
def card(ctx: ActionContext) -> ActionResult:
    """A card written in YAML: `with: {title, body, amount, buttons: [{label, flow|liff|uri|postback}], menu}`."""
    p = ctx.params
    buttons = [_button(b, ctx, first=i == 0) for i, b in enumerate(p.get("buttons") or [])]
    replies = menu_replies(ctx) if p.get("menu") else []
    return ActionResult(messages=[Card(title=ctx.text(p.get("title", "")), body=ctx.text(p.get("body", "")),
                                       amount=ctx.text(p.get("amount", "")), buttons=buttons,
                                       quick_replies=replies)])


def _button(raw: Mapping[str, Any], ctx: ActionContext, *, first: bool) -> Button:
    label = ctx.text(raw.get("label", ""))
    style = "primary" if first else "secondary"
    if "flow" in raw:
        return Button.postback(label, postback_data(flow=raw["flow"]), style=style)
    if "liff" in raw:
        return Button.liff(label, str(raw["liff"]), style=style)
    if "uri" in raw:
        return Button.uri(label, str(raw["uri"]), style=style)
    return Button.postback(label, str(raw.get("postback", "")), style=style)


@action("open_liff")
def open_liff(ctx: ActionContext) -> ActionResult:
    """A button to a LIFF page (`with: {path: pay, label, text, residents_only: true}`)."""
    p = ctx.params
    if p.get("residents_only", True) and current(ctx) is None:
        return not_registered(ctx)
    return ActionResult(messages=[OpenLiff(path=str(p.get("path", "pay")), label=ctx.text(p.get("label", "")),
                                           text=ctx.text(p.get("text", "")))])


@action("require_resident")
def require_resident(ctx: ActionContext) -> ActionResult:
    """Stop here (offering registration) unless a registered resident is talking."""
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    return ActionResult(vars={"name": me.name, "verified": me.verified})


# ------------------------------------------------------------------------ registration


@action("registration_check")
def registration_check(ctx: ActionContext) -> ActionResult:
    """Before the first question: already registered, or a status only the counter can change."""
    me = lookup(db_of(ctx), ctx.user_id)
    if me is None:
        return ActionResult(vars={"returning": False})
    if me.status == "active":
        text = say(ctx.lang, f"{me.name}さんは、すでに登録されています。登録内容を変えるときは「登録内容の変更」と送ってください。",
                   f"{me.name}, you are already registered. To change your details, send “change details”.")
        return ActionResult(messages=[Text(text, menu_replies(ctx))], end=True)
    if me.status == "withdrawn":
        return ActionResult(vars={"returning": True})
    ja, english = INACTIVE.get(me.status, INACTIVE["suspended"])
    raise ActionError(f"このアカウントは{ja}。役場の窓口（0164-64-2211）にお問い合わせください。",
                      f"This account {english}. Please contact the town office (0164-64-2211).")


@action("register_resident")
def register_resident(ctx: ActionContext) -> ActionResult:
    """Create the resident (or bring back one who withdrew), with consent times; verification starts."""
    a = ctx.answers
    fields: dict[str, Any] = {
        "name": str(a["name"]), "name_kana": str(a["kana"]), "birth_date": date.fromisoformat(a["birth"]),
        "district": str(a.get("district") or ""), "phone": a.get("phone") or None,
        "language": "en" if ctx.lang == "en" else "ja",
    }
    now = ctx.now
    try:
        with db_of(ctx).write() as s:
            resident = registry.resident_by_line(s, ctx.user_id)
            if resident is None:
                resident = registry.create_resident(s, line_user_id=ctx.user_id, **fields)
            elif resident.status == "withdrawn":
                _reactivate(resident, fields)
            else:
                raise AlreadyDone("このLINEアカウントはすでに登録されています。",
                                  message_en="This LINE account is already registered.")
            resident.terms_consented_at = resident.privacy_consented_at = now
            resident.registered_at, resident.reachable = now, True
            resident_id, verified = resident.id, resident.verification != "unverified"
    except IntegrityError:  # the same person registering from two taps at once
        raise ActionError("このLINEアカウントはすでに登録されています。",
                          "This LINE account is already registered.") from None
    verifier = getattr(ctx.services, "verifier", None) or CounterVerifier()
    note = "" if verified else verifier.start(resident_id, ctx.lang)
    _hook(ctx, "after_registration")
    return ActionResult(vars={"verification_note": note, "resident_id": resident_id})


def _reactivate(resident: Resident, fields: dict[str, Any]) -> None:
    """A resident who withdrew registers again: same wallet, money still valid is usable again.
    A new name or birth date has to be checked again."""
    if (resident.name, resident.name_kana, resident.birth_date) != (fields["name"], fields["name_kana"],
                                                                    fields["birth_date"]):
        resident.verification, resident.verified_at = "unverified", None
    for key, value in fields.items():
        setattr(resident, key, value)
    resident.status = "active"


@action("check_card_number")
def check_card_number(ctx: ActionContext) -> ActionResult:
    """The printed number has a check digit: a typo is caught before the PIN is asked."""
    try:
        normalize_number(str(ctx.answers.get("card_number", "")))
    except InvalidInput as e:
        return _again(ctx, e, "card_number")
    return ActionResult()


@action("link_card")
def link_card(ctx: ActionContext) -> ActionResult:
    """A card-only resident starts using LINE: card number and PIN prove it is their card."""
    raw_number, raw_pin = str(ctx.answers.get("card_number", "")), str(ctx.answers.get("pin", ""))
    try:
        number = normalize_number(raw_number)
    except InvalidInput as e:
        return _again(ctx, e, "card_number")
    try:
        holder = verify_pin(db_of(ctx), number, check_pin_format(raw_pin), now=ctx.now)
    except (WrongPin, InvalidInput) as e:  # a locked card (CardLocked) ends the flow instead
        return _again(ctx, e, "pin")
    taken = ActionError("このLINEアカウントは、すでに別の登録で使われています。役場の窓口にお問い合わせください。",
                        "This LINE account is already registered. Please contact the town office.")
    try:
        with db_of(ctx).write() as s:
            if registry.resident_by_line(s, ctx.user_id) is not None:
                raise taken
            # Locked and read fresh: of two LINE accounts linking this card at once, the second finds it linked.
            resident = registry.lock_resident(s, holder.resident_id)
            if resident.line_user_id:
                raise ActionError("このカードは、すでに別のLINEと連携されています。スマホを替えたときは、"
                                  "「カードで引き継ぐ」と送ると、お財布をこのLINEに引き継げます。",
                                  "This card is already linked to another LINE account. If you changed phones, "
                                  "send “move my wallet” to move it here.")
            if resident.status != "active":
                raise ActionError("このカードは現在ご利用になれません。役場の窓口にお問い合わせください。",
                                  "This card cannot be used now. Please contact the town office.")
            resident.line_user_id, resident.reachable = ctx.user_id, True
            resident.language = "en" if ctx.lang == "en" else "ja"
            resident.terms_consented_at = resident.privacy_consented_at = ctx.now
            resident.registered_at = resident.registered_at or ctx.now
            name = resident.name
    except IntegrityError:  # this LINE account linked to another card at the same moment
        raise taken from None
    _hook(ctx, "after_registration")
    return ActionResult(vars={"name": name})


def _again(ctx: ActionContext, error: Any, step: str) -> ActionResult:
    """Say what was wrong and ask the same question again."""
    text = getattr(error, "message_en", None) if ctx.lang == "en" else getattr(error, "message", None)
    return ActionResult(messages=[Text(text or str(error))], goto=step)


# ------------------------------------------------------------------------ change of details


@action("details_start")
def details_start(ctx: ActionContext) -> ActionResult:
    """Show what is registered now; a verified name can only change at the counter."""
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    with db_of(ctx).engine.connect() as conn:
        district = queries.district_name(conn, me.district, ctx.lang)
    rows = [(say(ctx.lang, "お名前", "Name"), me.name), (say(ctx.lang, "フリガナ", "Kana"), me.name_kana),
            (say(ctx.lang, "地区", "District"), district or "—"),
            (say(ctx.lang, "電話番号", "Phone"), me.phone or say(ctx.lang, "（なし）", "(none)"))]
    if me.birth_date:
        rows.insert(2, (say(ctx.lang, "生年月日", "Birth date"), day(me.birth_date, ctx.lang)))
    shown = Card(title=say(ctx.lang, "いまの登録内容", "Your details now"), rows=rows)
    return ActionResult(messages=[shown], vars={"verified": me.verified})


_DETAIL_FIELDS = {"name": ("new_name", "name"), "kana": ("new_kana", "name_kana"),
                  "district": ("new_district", "district"), "phone": ("new_phone", "phone")}


@action("update_details")
def update_details(ctx: ActionContext) -> ActionResult:
    field = str(ctx.answers.get("field", ""))
    answer_key, column = _DETAIL_FIELDS.get(field, ("", ""))
    if answer_key not in ctx.answers:
        raise ActionError("変更する内容がわかりませんでした。もう一度はじめからお願いします。",
                          "The change was not clear. Please start again.")
    with db_of(ctx).write() as s:
        resident = registry.resident_by_line(s, ctx.user_id)
        if resident is None or resident.status != "active":
            raise ActionError("登録が見つかりません。", "Your registration was not found.")
        if column in ("name", "name_kana") and resident.verification != "unverified":
            raise ActionError("本人確認が済んだ方のお名前は、役場の窓口で変更します。",
                              "Once verified, a name is changed at the town office.")
        value = ctx.answers[answer_key]
        setattr(resident, column, (value or None) if column == "phone" else value)
    return ActionResult()


# ------------------------------------------------------------------------ withdrawal


@action("withdraw_preview")
def withdraw_preview(ctx: ActionContext) -> ActionResult:
    """What happens to the money, said before anyone confirms."""
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    with db_of(ctx).engine.connect() as conn:
        held = [b for b in queries.balances(conn, me.account_id, ctx.now) if b.kind != "point"]
    total = sum(b.amount for b in held)
    body = say(ctx.lang,
               "・残高は払い戻しできません（商品券・給付金のきまりによります）。\n"
               "・退会すると、お支払いに使えなくなります。残高は有効期限が来ると失効します。\n"
               "・有効期限までにもう一度登録すれば、残高はそのまま使えます。\n"
               "・お支払いの記録は、町の規則に従って保管されます。",
               "• The balance cannot be paid back in cash (the rules of vouchers and benefits).\n"
               "• After withdrawing you cannot pay with it; it lapses on its expiry date.\n"
               "• Register again before it expires and the balance is yours to use again.\n"
               "• Records of payments are kept as the town's rules require.")
    # No big amount in colour: 「退会すると 48,000円」 read like a payout. The balance is a row, beside
    # the plain fact that nothing is paid back.
    shown = Card(title=say(ctx.lang, "退会の前にご確認ください", "Before you withdraw"),
                 rows=[(say(ctx.lang, "いまの残高", "Balance now"), yen(total, ctx.lang)),
                       (say(ctx.lang, "払い戻し", "Paid back"), say(ctx.lang, "ありません", "nothing"))], body=body,
                 alt_text=say(ctx.lang, f"退会すると: 残高 {yen(total, ctx.lang)} は払い戻しできません",
                              f"If you withdraw: your balance of {yen(total, ctx.lang)} is not paid back"))
    return ActionResult(messages=[shown], vars={"balance": total})


@action("withdraw")
def withdraw(ctx: ActionContext) -> ActionResult:
    with db_of(ctx).write() as s:
        resident = s.execute(select(Resident).where(Resident.line_user_id == ctx.user_id)).scalar()
        if resident is None or resident.status != "active":
            raise ActionError("登録が見つかりません。", "Your registration was not found.")
        resident.status = "withdrawn"
    _hook(ctx, "after_withdrawal")
    return ActionResult()

