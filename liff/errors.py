"""Refusals of the LIFF API, as JSON a page can show to a person.

Every refusal says what the person can do next, in Japanese (English when the resident's
language is "en"), and carries a stable `code` the page and the tests can switch on.
"""
from __future__ import annotations

from flask import Response

from ledger.errors import LedgerError
from web.errors import Refusal, error_json


class ApiError(Refusal):
    """A refusal made by the API layer itself (auth, bad input, tokens), not by the ledger."""

    def __init__(self, code: str, message: str, message_en: str, http_status: int = 400) -> None:
        super().__init__(code, message, message_en, http_status)


def to_response(exc: Refusal | LedgerError, language: str = "ja") -> Response:
    message = exc.message_en if language == "en" and exc.message_en else exc.message
    # 4xx for anything the person or their input caused (429 included); 503 only when LINE does not answer.
    status = exc.http_status if 400 <= exc.http_status < 500 or exc.http_status == 503 else 400
    return error_json(exc.code, message, status)


# The refusals the API makes, named once so the messages stay consistent everywhere.

def bad_request() -> ApiError:
    return ApiError("bad_request", "送られた内容を読み取れませんでした。画面を閉じて、もう一度開いてください。",
                    "The request could not be read. Please close this screen and open it again.")


def missing(field: str, ja: str, en: str) -> ApiError:
    return ApiError("invalid_input", f"{ja}がありません。画面を閉じて、もう一度開いてください。",
                    f"The {en} is missing. Please close this screen and open it again.")


def invalid(ja: str, en: str) -> ApiError:
    return ApiError("invalid_input", ja, en)


def not_logged_in() -> ApiError:
    return ApiError("unauthorized", "ログインが確認できませんでした。画面を閉じて、LINEからもう一度開いてください。",
                    "We could not confirm your LINE login. Please close this screen and open it again from LINE.",
                    401)


def login_expired() -> ApiError:
    return ApiError("unauthorized", "ログインの有効期限が切れました。画面を閉じて、LINEからもう一度開いてください。",
                    "Your LINE login has expired. Please close this screen and open it again from LINE.", 401)


def line_unreachable() -> ApiError:
    return ApiError("line_unavailable", "LINEとの通信がうまくいきませんでした。少し待ってから、もう一度お試しください。",
                    "We could not reach LINE. Please wait a moment and try again.", 503)


def not_registered() -> ApiError:
    return ApiError("not_registered", "まだ利用登録がお済みでありません。LINEのトーク画面で「登録」と送って登録してください。",
                    "You are not registered yet. Send \"register\" in the LINE chat to sign up.", 403)


def not_staff() -> ApiError:
    return ApiError("not_staff", "この操作はお店の方だけができます。お店の登録は役場の窓口でお申し込みください。",
                    "Only shop staff can do this. Shops register at the town office.", 403)


def choose_merchant() -> ApiError:
    return ApiError("choose_merchant", "どのお店のレジか選んでください。",
                    "Please choose which shop's till this is.", 400)


def token_expired() -> ApiError:
    return ApiError("token_expired",
                    "このQRコードは有効期限（60秒）が切れています。お客様の画面に出ている新しいQRコードを読み取ってください。",
                    "This QR code has expired (60 seconds). Please scan the new code on the customer's screen.")


def token_invalid() -> ApiError:
    return ApiError("token_invalid",
                    "まちウォレットのお支払い用QRコードではありません。お客様のお支払い画面のQRコードを読み取ってください。",
                    "This is not a Machi Wallet payment code. Please scan the code on the customer's payment screen.")


def own_shop() -> ApiError:
    return ApiError("own_shop", "ご自身のお店で、ご自身のお財布から支払うことはできません。",
                    "You cannot pay your own shop from your own wallet.", 403)


def not_a_shop_code() -> ApiError:
    return ApiError("not_shop_code", "お店のQRコードではありません。レジの横に貼ってあるお店のQRコードを読み取ってください。",
                    "This is not a shop's code. Please scan the shop's QR code at the counter.")


def server_error() -> Response:
    return error_json("server_error", "ただいま処理できません。しばらくしてからもう一度お試しください。"
                      "お支払いが済んだかどうかは「履歴」でご確認いただけます。", 500)
