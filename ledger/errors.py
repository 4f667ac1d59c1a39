"""Typed rejections. Each carries a code for programs and a Japanese message for people.

Raising one inside a unit of work rolls everything back: a rejected operation changes nothing.
"""
from __future__ import annotations


class LedgerError(Exception):
    code = "ledger_error"
    message = "処理できませんでした。"
    message_en = "The request could not be processed."
    http_status = 400

    def __init__(self, message: str | None = None, *, message_en: str | None = None, **details: object):
        self.message = message or self.message
        if message_en:
            self.message_en = message_en
        self.details = details
        super().__init__(self.message)


class InvalidAmount(LedgerError):
    code = "invalid_amount"
    message = "金額は1円以上の整数で入力してください。"
    message_en = "Enter a whole number of yen, 1 or more."


class OverPaymentLimit(LedgerError):
    code = "over_payment_limit"
    message = "1回のお支払いの上限を超えています。"
    message_en = "This is over the limit for one payment."


class OverBalanceLimit(LedgerError):
    code = "over_balance_limit"
    message = "お財布に入れられる残高の上限を超えてしまいます。"
    message_en = "This would take the wallet over its balance limit."


class InsufficientFunds(LedgerError):
    code = "insufficient_funds"
    message = "残高が足りません。"
    message_en = "Not enough balance."


class NotFound(LedgerError):
    code = "not_found"
    http_status = 404
    message = "見つかりませんでした。"
    message_en = "Not found."


class NotAllowed(LedgerError):
    code = "not_allowed"
    http_status = 403
    message = "この操作はできません。"
    message_en = "This is not allowed."


class AccountInactive(LedgerError):
    code = "account_inactive"
    http_status = 403
    message = "このお財布は現在ご利用になれません。役場の窓口にお問い合わせください。"
    message_en = "This wallet cannot be used now. Please contact the town office."


class AccountWithdrawn(AccountInactive):
    """The resident withdrew: the way back is to register again, not the town office."""

    code = "withdrawn"
    message = "退会の手続きが済んでいます。もう一度使うときは、LINEのトーク画面で「登録」と送ってください。残高は有効期限まで残っています。"
    message_en = "You have withdrawn. To use it again, send “register” in the LINE chat. Your balance stays until it expires."


def inactive(status: str) -> AccountInactive:
    """The refusal for a wallet whose resident is not active, by why."""
    return AccountWithdrawn() if status == "withdrawn" else AccountInactive()


class IdempotencyConflict(LedgerError):
    code = "idempotency_conflict"
    http_status = 409
    message = "同じ受付番号で別の内容の依頼がありました。もう一度最初からやり直してください。"
    message_en = "The same request id was used for a different request. Please start again."


class AlreadyDone(LedgerError):
    code = "already_done"
    http_status = 409
    message = "すでに手続きが済んでいます。"
    message_en = "This has already been done."


class RefundNotAllowed(LedgerError):
    code = "refund_not_allowed"
    message = "この支払いは返金できません。"
    message_en = "This payment cannot be refunded."


class OutsideWindow(LedgerError):
    code = "outside_window"
    message = "受付期間外です。"
    message_en = "This is outside the period."


class BudgetExhausted(LedgerError):
    code = "budget_exhausted"
    message = "予算の上限に達したため、受付を終了しました。"
    message_en = "The budget for this has run out."


class NotEligible(LedgerError):
    code = "not_eligible"
    http_status = 403
    message = "対象ではありません。"
    message_en = "You are not eligible for this."


class ScreenCodeRequired(NotAllowed):
    """An event marked rotating takes only the QR on the venue's screen, never its plain code."""

    code = "screen_code_required"
    message = ("このイベントは、会場の画面に出ているQRコードを読み取って受け付けます。"
               "LINEの「ポイント」から、いま画面に出ているQRコードを読み取ってください"
               "（30秒ごとに変わります。写真や手入力のコードでは受け付けできません）。")
    message_en = ("This event takes check-ins from the QR code on the screen at the venue. Scan the code "
                  "shown there now (it changes every 30 seconds; photos and typed codes do not work).")


class InvalidInput(LedgerError):
    code = "invalid_input"
    message = "入力内容に誤りがあります。"
    message_en = "Some input is not valid."


class CardLocked(LedgerError):
    code = "card_locked"
    http_status = 403
    message = "暗証番号を続けて間違えたため、カードは30分間使えません。"
    message_en = "The card is locked for 30 minutes after repeated wrong PINs."


class WrongPin(LedgerError):
    code = "wrong_pin"
    http_status = 403
    message = "暗証番号が違います。"
    message_en = "Wrong PIN."


class Conflict(LedgerError):
    """A concurrent change got there first; the service retries, people rarely see this."""

    code = "conflict"
    http_status = 409
    message = "混み合っています。もう一度お試しください。"
    message_en = "Busy. Please try again."


class TokenUsed(LedgerError):
    code = "token_used"
    http_status = 409
    message = "このQRコードはすでに使われています。新しいコードを表示してください。"
    message_en = "This QR code has already been used. Show a new one."
