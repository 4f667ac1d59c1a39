"""The console's blueprint, its CSRF check on every POST and its error pages (Japanese HTML)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")
csrf = CSRFProtect()

MESSAGES = {
    400: "送信された内容を受け付けられませんでした。画面を開き直して、もう一度お試しください。",
    403: "この画面・操作の権限がありません。必要な場合は管理者にご相談ください。",
    404: "お探しのページは見つかりません。",
    405: "この操作はできません。",
}


@bp.before_request
def _check_csrf() -> None:
    if request.method == "POST":
        csrf.protect()


@bp.after_request
def _no_store(response):
    """Pages with personal data are not kept in the browser's cache or history."""
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def _csrf_refused(_e: CSRFError):
    return error_page(400, "フォームの有効期限が切れたか、正しくない送信です。画面を開き直して、もう一度お試しください。")


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException):
    code = e.code or 500
    return error_page(code, MESSAGES.get(code, "処理できませんでした。"))


def error_page(status: int, message: str):
    return render_template("console/error.html", status=status, message=message), status
