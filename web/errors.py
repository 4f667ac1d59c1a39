"""Refusals as JSON a person can read, and the app-wide answer to anything unexpected.

Every refusal is `{"error": {"code", "message"}}` with a 4xx status (DESIGN.md §3); an error nobody
foresaw is logged with its traceback and answered as a JSON 500 that holds none of it.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

SERVER_ERROR = "ただいま処理できません。しばらくしてからもう一度お試しください。"

# What an HTTP refusal means to a person, by status.
HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "送られた内容を読み取れませんでした。画面を閉じて、もう一度開いてください。"),
    404: ("not_found", "ページが見つかりません。"),
    405: ("method_not_allowed", "この操作はできません。"),
    413: ("too_large", "送られた内容が大きすぎます。"),
    429: ("too_many_requests", "短い時間に操作が続いたため、受け付けを少し止めています。少し待ってから、もう一度お試しください。"),
}
HTTP_MESSAGES_EN: dict[int, str] = {
    400: "The request could not be read. Please close this screen and open it again.",
    404: "Not found.",
    405: "This is not allowed.",
    413: "The request is too large.",
    429: "Too many requests in a short time. Please wait a moment and try again.",
}


class Refusal(Exception):
    """A request refused for what it holds: a stable code, a Japanese message (and an English one)."""

    def __init__(self, code: str, message: str, message_en: str = "", http_status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_en = message_en or message
        self.http_status = http_status


def error_json(code: str, message: str, status: int) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def http_refusal(exc: HTTPException, language: str = "ja") -> Response:
    """An HTTP error (404, 413, 429...) in the shape of every other refusal."""
    status = exc.code or 400
    code, message = HTTP_MESSAGES.get(status, (f"http_{status}", "この操作はできません。"))
    if language == "en":
        message = HTTP_MESSAGES_EN.get(status, "This is not allowed.")
    response = error_json(code, message, status)
    allowed = dict(exc.get_headers()).get("Allow")  # a 405 says which methods are
    if allowed:
        response.headers["Allow"] = allowed
    return response


def server_error(message: str = SERVER_ERROR) -> Response:
    return error_json("server_error", message, 500)


def register(app: Flask) -> None:
    """App-wide handlers: blueprints with their own (the LIFF API) answer first for their routes."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if (exc.code or 500) >= 500:
            return server_error()
        return http_refusal(exc)

    @app.errorhandler(Refusal)
    def _refusal(exc: Refusal) -> Response:
        return error_json(exc.code, exc.message, exc.http_status)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return server_error()
