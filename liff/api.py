"""The JSON API behind the LIFF pages (DESIGN.md §3). Every route runs as the verified LINE user.

Money only moves through the ledger's services (payments.pay / refund, checkins.check_in), so
every rule, every refusal and every domain event (the LINE receipts) is the ledger's own.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import and_, func, select
from werkzeug.exceptions import HTTPException

from ledger import cards
from ledger.categories import label
from ledger.clock import jst_midnight_utc, today_jst, utcnow
from ledger.errors import AccountInactive, CardLocked, LedgerError, NotFound, OverPaymentLimit, inactive
from ledger.models import Card, Entry, Event, Merchant, Nonce, PaymentRequest
from ledger.queries import balances, history
from ledger.services import checkins, payment_requests, payments
from ledger.services._common import check_amount
from ledger.uow import Tx
from liff import errors, present, qr, tokens
from liff.auth import bearer_token
from liff.context import Caller, caller, language, load_caller, machi
from liff.errors import ApiError
from liff.state import state
from web import inputs, rate_limits
from web.errors import Refusal, http_refusal

log = logging.getLogger(__name__)

bp = Blueprint("liff_api", __name__, url_prefix="/api")

_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,80}")


# ---------------------------------------------------------------- plumbing

@bp.before_request
def authenticate() -> None:
    """Every call carries the LIFF ID token; nothing else identifies the caller.

    The body's size was checked before this (`web.inputs.limit_body`, MACHI_MAX_BODY)."""
    identity = state().verifier.verify(bearer_token(request.headers.get("Authorization")))
    g.caller = load_caller(identity.sub, identity.name)


@bp.errorhandler(Refusal)
def _api_error(exc: Refusal) -> Response:
    return errors.to_response(exc, language())


@bp.errorhandler(LedgerError)
def _ledger_error(exc: LedgerError) -> Response:
    return errors.to_response(exc, language())


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and (exc.code or 500) < 500:  # 404, 405, 413, 429...
        return http_refusal(exc, language())
    log.exception("LIFF API failed on %s %s", request.method, request.path)
    return errors.server_error()


def _body() -> dict[str, Any]:
    """The JSON object sent, whatever the Content-Type says; bad, deep or non-object JSON is a 400."""
    body = inputs.parse_json(request.get_data(cache=True), max_depth=inputs.API_MAX_DEPTH)
    if not isinstance(body, dict):
        raise errors.bad_request()
    return body


def _amount(body: dict[str, Any]) -> int:
    """Whole yen, checked before any PIN is tried or token spent, with the ledger's own messages."""
    value = body.get("amount")
    if value is None:
        raise errors.missing("amount", "金額", "amount")
    amount = check_amount(value)
    limit = machi().uow.policy.max_payment
    if amount > limit:
        raise OverPaymentLimit(f"1回のお支払いは{limit:,}円までです。分けてお支払いください。",
                               message_en=f"One payment can be at most {limit:,} yen. Please split it.")
    return amount


def _idempotency_key(body: dict[str, Any], scope: str) -> str:
    """The page's key, scoped to the caller so one person's key can never replay another's request."""
    key = body.get("idempotency_key")
    if key is None or key == "":
        raise errors.missing("idempotency_key", "受付番号", "request id")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise errors.invalid("受付番号の形式が正しくありません。画面を閉じて、もう一度開いてください。",
                             "The request id is not valid. Please close this screen and open it again.")
    return f"liff:{scope}:{caller().sub}:{key}"


def _text(body: dict[str, Any], name: str, max_len: int = 200) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and name == "card_number":
        value = str(value)
    if not isinstance(value, str) or len(value) > max_len:
        raise errors.invalid("送られた内容に誤りがあります。", f"The field {name} is not valid.")
    return value


# ---------------------------------------------------------------- who I am

@bp.get("/me")
def me() -> Response:
    c = caller()
    lang = c.language
    out: dict[str, Any] = {
        "line_user_id": c.sub, "registered": c.resident_id is not None, "language": lang,
        "name": c.name or c.display_name, "status": c.status, "balances": [], "total": 0, "points": 0,
        "merchants": [{"code": s.code, "name": s.name, "role": s.role, "category": s.category} for s in c.shops()],
        "max_payment": machi().uow.policy.max_payment,
    }
    if c.account_id is not None:
        names = state().names
        with machi().db.engine.connect() as conn:
            rows = balances(conn, c.account_id)
        out["balances"] = [present.balance_json(b, names.get(b.money_type), lang) for b in rows]
        out["total"] = sum(b["amount"] for b in out["balances"] if b["spendable"])
        out["points"] = sum(b["amount"] for b in out["balances"] if not b["spendable"])
    return jsonify(out)


# ---------------------------------------------------------------- the customer's QR (CPM)

@bp.post("/cpm-tokens")
def new_cpm_token() -> Response:
    c = caller()
    resident_id = c.require_resident()
    if c.status != "active":
        raise inactive(c.status)
    text, token = state().tokens.issue(resident_id)
    ttl = state().tokens.ttl
    return jsonify(token=text, token_id=token.token_id, expires_in=ttl, refresh_in=max(ttl - 10, 5),
                   qr_svg=present_qr(text)), 201


def present_qr(text: str) -> str:
    return qr.svg(text, label="お支払い用QRコード")


@bp.get("/cpm-tokens/<token_id>")
def cpm_token_status(token_id: str) -> Response:
    """Lets the customer's screen say "paid" once the shop has scanned it; only the owner's payment shows."""
    c = caller()
    resident_id = c.require_resident()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", token_id):
        raise errors.invalid("コードが正しくありません。", "Not a valid code.")
    with machi().db.engine.connect() as conn:
        asked = payment_requests.for_token(conn, token_id, utcnow())
        if asked is not None and asked.resident_id == resident_id:  # the shop asks: she confirms first
            if asked.state != "paid":
                return jsonify(used=False, payment=None, request=_request_json(conn, asked, c.language))
            return jsonify(used=True, payment=present.payment_json(_read_payment(conn, asked.entry_id),
                                                                   state().names, c.language))
        used_at = conn.execute(select(Nonce.used_at).where(Nonce.id == f"cpm:{token_id}")).scalar()
        entry_id = None
        if used_at is not None:
            entry_id = conn.execute(
                select(Entry.id).where(Entry.resident_id == resident_id, Entry.kind == "payment",
                                       Entry.channel == "cpm", Entry.created_at >= used_at - timedelta(seconds=2),
                                       Entry.created_at <= used_at + timedelta(seconds=2))
                .order_by(Entry.id.desc()).limit(1)).scalar()
        if entry_id is None:
            return jsonify(used=False, payment=None)
        res = _read_payment(conn, entry_id)
    return jsonify(used=True, payment=present.payment_json(res, state().names, c.language))


# ---------------------------------------------------------------- shops

@bp.get("/merchants/<path:code>")
def merchant(code: str) -> Response:
    """The shop behind a scanned shop QR, so the resident sees whose till they are paying."""
    shop_code = tokens.shop_code_from(code)
    if shop_code is None:
        raise errors.not_a_shop_code()
    lang = language()
    with machi().db.engine.connect() as conn:
        row = conn.execute(select(Merchant.code, Merchant.name, Merchant.category, Merchant.active)
                           .where(Merchant.code == shop_code)).first()
    if row is None:
        raise NotFound("お店が見つかりません。QRコードをもう一度読み取ってください。",
                       message_en="Shop not found. Scan the code again.")
    if not row.active:
        raise AccountInactive("このお店は現在お支払いを受け付けていません。",
                              message_en="This shop is not taking payments now.")
    usable = None
    c = caller()
    if c.account_id is not None:
        names = state().names
        with machi().db.engine.connect() as conn:
            usable = sum(b.amount for b in balances(conn, c.account_id)
                         if names.get(b.money_type).spendable and b.accepted_category in (None, row.category))
    return jsonify(code=row.code, name=row.name, category=row.category, category_label=label(row.category, lang),
                   usable=usable)


# ---------------------------------------------------------------- payments

@bp.post("/payments")
def pay() -> Response:
    """One endpoint for the three ways to pay; the ledger decides everything about the money."""
    body = _body()
    c = caller()
    cpm_token = _text(body, "cpm_token")
    card_number = _text(body, "card_number", 40)
    merchant_code = _text(body, "merchant_code", 200)
    if sum(x is not None for x in (cpm_token, card_number)) > 1:
        raise errors.invalid("支払い方法を一つだけ指定してください。", "Give only one way to pay.")
    amount = _amount(body)
    uow = machi().uow
    if cpm_token is not None:
        shop = c.shop(merchant_code)
        key = _idempotency_key(body, "pay")
        token = _read_cpm(cpm_token, key)
        _not_own_wallet(c, token.resident_id)
        if payment_requests.needs_confirmation(uow.policy, amount):
            asked = payment_requests.open_request(uow, resident_id=token.resident_id, merchant_id=shop.id,
                                                  amount=amount, token_id=token.token_id, idempotency_key=key,
                                                  actor=f"line:{c.sub}")
            with machi().db.engine.connect() as conn:
                shown = _request_json(conn, asked, c.language)
            return jsonify(request=shown), 200 if asked.replayed else 202
        res = payments.pay(uow, resident_id=token.resident_id, merchant_id=shop.id, amount=amount,
                           idempotency_key=key, channel="cpm", actor=f"line:{c.sub}", nonce=token.nonce)
    elif card_number is not None:
        shop = c.shop(merchant_code)
        key = _idempotency_key(body, "pay")
        pin = _text(body, "pin", 20)
        if pin is None:
            raise errors.invalid("暗証番号（4桁）を入力してください。", "Please enter the 4-digit PIN.")
        number = tokens.card_number_from(card_number) or card_number
        rate_limits.card_attempt(cards.normalize_number(number))
        try:
            holder = cards.verify_pin(machi().db, number, pin)
        except CardLocked as exc:
            raise _locked_with_advice(exc.message) from exc
        _not_own_wallet(c, holder.resident_id)
        res = payments.pay(uow, resident_id=holder.resident_id, merchant_id=shop.id, amount=amount,
                           idempotency_key=key, channel="card", actor=f"line:{c.sub}")
    elif merchant_code is not None:
        resident_id = c.require_resident()
        shop_code = tokens.shop_code_from(merchant_code)
        if shop_code is None:
            raise errors.not_a_shop_code()
        key = _idempotency_key(body, "pay")
        if c.shops() and any(s.code == shop_code for s in c.shops()):
            raise errors.own_shop()
        res = payments.pay(uow, resident_id=resident_id, merchant_code=shop_code, amount=amount,
                           idempotency_key=key, channel="mpm", actor=f"line:{c.sub}")
    else:
        raise errors.invalid("お支払いの相手がわかりません。QRコードをもう一度読み取ってください。",
                             "Who to pay is missing. Please scan the code again.")
    return jsonify(payment=present.payment_json(res, state().names, c.language)), 200 if res.replayed else 201


def _read_cpm(text: str, scoped_key: str) -> tokens.CpmToken:
    """A live token; an expired one only when this very request already paid (a retry after a timeout)."""
    try:
        return state().tokens.read(text)
    except ApiError as exc:
        if exc.code != "token_expired":
            raise
        with machi().db.engine.connect() as conn:
            paid = conn.execute(select(Entry.id).where(Entry.idempotency_key == scoped_key)).first()
            asked = conn.execute(select(PaymentRequest.id).where(PaymentRequest.idempotency_key == scoped_key)).first()
        if paid is None and asked is None:
            raise
        return state().tokens.read(text, allow_expired=True)


# ---------------------------------------------------------------- a charge the customer confirms

_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{16,32}")


def _request_json(conn: Any, req: payment_requests.RequestView, lang: str) -> dict[str, Any]:
    """What both phones show: the shop, the amount, how long is left, and how it ended."""
    out: dict[str, Any] = {
        "id": req.id, "state": req.state, "amount": req.amount, "merchant": {"name": req.merchant_name},
        "seconds_left": req.seconds_left(utcnow()), "reason": (req.reason_en or req.reason) if lang == "en" else req.reason,
        "payment": None}
    if req.state == "paid" and req.entry_id is not None:
        out["payment"] = present.payment_json(_read_payment(conn, req.entry_id), state().names, lang)
    return out


def _request_for(request_id: str) -> payment_requests.RequestView:
    """The request, for the customer it asks or for staff of the shop that made it; else not found."""
    c = caller()
    if not _REQUEST_ID.fullmatch(request_id):
        raise errors.invalid("お支払いの依頼の番号が正しくありません。", "Not a valid payment request.")
    with machi().db.engine.connect() as conn:
        req = payment_requests.read(conn, request_id, utcnow())
    if req is None or not (req.resident_id == c.resident_id or c.shop_by_id(req.merchant_id) is not None):
        raise NotFound("このお支払いの依頼は見つかりません。", message_en="This payment request was not found.")
    return req


@bp.get("/payment-requests/<request_id>")
def payment_request(request_id: str) -> Response:
    req = _request_for(request_id)
    with machi().db.engine.connect() as conn:
        return jsonify(request=_request_json(conn, req, caller().language))


@bp.post("/payment-requests/<request_id>/approve")
def approve_payment_request(request_id: str) -> Response:
    """Her 支払う on her own phone: the money moves now, and only now."""
    c = caller()
    resident_id = c.require_resident()
    if c.status != "active":
        raise inactive(c.status)
    req = _request_for(request_id)
    res = payment_requests.approve(machi().uow, request_id=req.id, resident_id=resident_id)
    return jsonify(payment=present.payment_json(res, state().names, c.language)), 200 if res.replayed else 201


@bp.post("/payment-requests/<request_id>/decline")
def decline_payment_request(request_id: str) -> Response:
    """やめる, on her phone or at the till: nothing moves."""
    c = caller()
    req = _request_for(request_id)
    mine = req.resident_id == c.resident_id
    out = payment_requests.decline(machi().uow, request_id=req.id, resident_id=req.resident_id if mine else None,
                                   merchant_id=None if mine else req.merchant_id)
    with machi().db.engine.connect() as conn:
        return jsonify(request=_request_json(conn, out, c.language))


def _locked_with_advice(message: str) -> CardLocked:
    """The ledger says how long; the person also needs to hear what they can do about it."""
    return CardLocked(message + "時間をおいてもう一度お試しいただくか、役場の窓口でロックを解除してください。",
                      message_en="This card is locked after repeated wrong PINs. Try again later, "
                                 "or ask the town office to unlock it.")


def _read_payment(conn: Any, entry_id: int) -> payments.PaymentResult:
    """The ledger's own payment view, on a read connection: no write lock for a status poll."""
    tx = Tx(conn=conn, now=utcnow(), policy=machi().uow.policy, sqlite=machi().db.sqlite)
    try:
        return payments.payment_result(tx, entry_id)
    finally:
        if tx._session is not None:
            tx._session.close()


def _not_own_wallet(c: Caller, resident_id: int) -> None:
    if c.resident_id is not None and c.resident_id == resident_id:
        raise errors.own_shop()


@bp.post("/payments/<int:payment_id>/refund")
def refund(payment_id: int) -> Response:
    """A whole payment back, by staff of the shop that took it; a double tap refunds once."""
    c = caller()
    if not c.shops():
        raise errors.not_staff()
    with machi().db.engine.connect() as conn:
        merchant_id = conn.execute(select(Entry.merchant_id).where(Entry.id == payment_id,
                                                                   Entry.kind == "payment")).scalar()
    shop = c.shop_by_id(merchant_id)
    if shop is None:
        raise NotFound("この支払いは見つかりません。", message_en="Payment not found.")
    res = payments.refund(machi().uow, payment_entry_id=payment_id, merchant_id=shop.id,
                          idempotency_key=f"liff:refund:{payment_id}", actor=f"line:{c.sub}")
    return jsonify(refund=present.payment_json(res, state().names, c.language)), 200 if res.replayed else 201


@bp.post("/cards/lookup")
def card() -> Response:
    """Lets the till say at once whether a scanned card can pay (locked, stopped), before the PIN.

    The number travels in the body, never in the URL: URLs end up in access logs and proxies."""
    body = _body()
    c = caller()
    c.shop(_text(body, "merchant_code", 200))
    number = _text(body, "card_number", 40)
    if number is None:
        raise errors.missing("card_number", "カード番号", "card number")
    digits = cards.normalize_number(tokens.card_number_from(number) or number)
    rate_limits.card_attempt(digits)
    with machi().db.engine.connect() as conn:
        row = conn.execute(select(Card.status, Card.locked_until).where(Card.number == digits)).first()
    if row is None or row.status != "active":
        raise NotFound("このカードは使えません。役場の窓口にお問い合わせください。",
                       message_en="This card cannot be used. Please contact the town office.")
    now = utcnow()
    if row.locked_until and row.locked_until > now:
        minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
        raise _locked_with_advice(f"暗証番号を続けて間違えたため、カードはあと約{minutes}分間使えません。")
    return jsonify(card_number=digits, display=cards.format_number(digits), status="active")


# ---------------------------------------------------------------- events

def _event_scan(raw: Any, t: Any = None) -> tuple[str, str | None]:
    """(code, rotating part) of what was scanned or typed; the page may send the URL's `t` apart."""
    found = tokens.event_scan_from(raw) if isinstance(raw, str) else None
    if found is None or (t is not None and not isinstance(t, str)):
        raise errors.invalid("イベントのコードが正しくありません。会場のQRコードを読み取るか、コードをお確かめください。",
                             "That is not an event code. Scan the code at the venue or check it.")
    code, token = found
    return code, token or t or None


@bp.get("/events/<path:code>")
def event(code: str) -> Response:
    """The event behind a scanned code; a rotating event's plain or stale code is refused here already."""
    code, token = _event_scan(code, request.args.get("t"))
    lang = language()
    with machi().db.engine.connect() as conn:
        ev = conn.execute(select(Event.code, Event.name, Event.name_en, Event.points, Event.place, Event.place_en,
                                 Event.starts_at, Event.ends_at, Event.rotating)
                          .where(func.upper(Event.code) == code)).first()
    if ev is None:
        raise NotFound("このコードのイベントは見つかりません。コードをお確かめください。",
                       message_en="No event has this code. Please check it.")
    checkins.require_screen_code(ev, token, state().event_codes)
    now = utcnow()
    english = lang == "en"
    return jsonify(code=ev.code, name=(ev.name_en or ev.name) if english else ev.name, points=ev.points,
                   place=(ev.place_en or ev.place) if english else ev.place, rotating=ev.rotating,
                   open=ev.starts_at <= now < ev.ends_at, ends_label=present.jst_label(ev.ends_at, lang))


@bp.post("/checkins")
def check_in() -> Response:
    body = _body()
    c = caller()
    resident_id = c.require_resident()
    code, token = _event_scan(body.get("code"), body.get("t"))
    res = checkins.check_in(machi().uow, event_code=code, resident_id=resident_id, actor=f"line:{c.sub}",
                            token=token, codes=state().event_codes)
    with machi().db.engine.connect() as conn:
        ev = conn.execute(select(Event.name, Event.name_en).where(func.upper(Event.code) == code)).first()
    name = ((ev.name_en or ev.name) if c.language == "en" else ev.name) if ev is not None else code
    info = state().names.get(res.money_type)
    return jsonify(checkin={"entry_id": res.entry_id, "event": name, "points": res.amount,
                            "money_type": res.money_type, "money_type_name": present.name_of(info, c.language),
                            "expires_on": res.expires_on.isoformat() if res.expires_on else None,
                            "expires_label": present.day_label(res.expires_on, c.language)}), 201


# ---------------------------------------------------------------- history and the till

def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    return inputs.whole_number(request.args.get(name), low=low, high=high, default=default,
                               message="ページの指定が正しくありません。",
                               message_en=f"The {name} parameter is not valid.")


@bp.get("/history")
def my_history() -> Response:
    c = caller()
    c.require_resident()
    before = _int_arg("before", None, 1, 2**62)
    limit = _int_arg("limit", 20, 1, 50) or 20
    with machi().db.engine.connect() as conn:
        items = history(conn, c.account_id, limit=limit, before_id=before)
    rows = [present.history_json(i, c.language) for i in items]
    return jsonify(items=rows, next_before=rows[-1]["id"] if len(rows) == limit else None)


@bp.get("/till/summary")
def till_summary() -> Response:
    """Today's sales for the shop (or another day inside the refund window), newest first."""
    c = caller()
    shop = c.shop(request.args.get("merchant_code") or None)
    window = machi().uow.policy.refund_window_days
    days_back = _int_arg("days_back", 0, 0, window) or 0
    before = _int_arg("before", None, 1, 2**62)
    day = today_jst() - timedelta(days=days_back)
    start, end = jst_midnight_utc(day), jst_midnight_utc(day + timedelta(days=1))
    in_day = and_(Entry.merchant_id == shop.id, Entry.created_at >= start, Entry.created_at < end)
    with machi().db.engine.connect() as conn:
        totals = dict.fromkeys(("payment", "refund"), (0, 0)) | {
            r.kind: (r.n, int(r.total or 0)) for r in conn.execute(
                select(Entry.kind, func.count().label("n"), func.sum(Entry.amount).label("total"))
                .where(in_day, Entry.kind.in_(("payment", "refund"))).group_by(Entry.kind))}
        q = (select(Entry.id, Entry.amount, Entry.channel, Entry.created_at)
             .where(in_day, Entry.kind == "payment").order_by(Entry.id.desc()).limit(50))
        if before is not None:
            q = q.where(Entry.id < before)
        rows = conn.execute(q).all()
        refunded = set(conn.execute(select(Entry.reverses_entry_id).where(
            Entry.reverses_entry_id.in_([r.id for r in rows]))).scalars()) if rows else set()
    now = utcnow()
    lang = c.language
    items = [{"id": r.id, "amount": r.amount, "channel": r.channel,
              "channel_label": present.CHANNEL_LABELS.get(r.channel or "", ("", ""))[1 if lang == "en" else 0],
              "at": present.jst_iso(r.created_at), "time_label": present.to_jst(r.created_at).strftime("%H:%M"),
              "refunded": r.id in refunded,
              "refundable": r.id not in refunded and now - r.created_at <= timedelta(days=window)}
             for r in rows]
    (n_pay, total_pay), (n_ref, total_ref) = totals["payment"], totals["refund"]
    return jsonify(
        merchant={"code": shop.code, "name": shop.name, "category": shop.category, "role": shop.role,
                  "qr_payload": tokens.shop_payload(shop.code)},
        day=day.isoformat(), day_label=present.day_label(day, lang), days_back=days_back,
        sales={"count": n_pay, "total": total_pay}, refunds={"count": n_ref, "total": total_ref},
        net=total_pay - total_ref, payments=items, next_before=items[-1]["id"] if len(items) == 50 else None)
