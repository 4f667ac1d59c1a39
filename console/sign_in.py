"""Signing in: the one-time link that sets a password, password, TOTP (set up on a money role's first
sign-in, shown as a QR code), signing out here and everywhere. Every outcome goes to the audit log."""
from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask import Response, g, redirect, render_template, request, url_for

from console import session as sess
from console.blueprint import bp, error_page
from ledger.clock import fmt_jst
from ledger.errors import InvalidInput
from town import staff

LOCKED = "試行が続けて失敗したため、{until} までサインインできません。"
WRONG = "ログイン名またはパスワードが正しくありません。"


def _audit(actor: str, action: str, result: str = "", **params: object) -> None:
    staff.record(sess.machi().db, actor, action, dict(params), result)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if request.method == "GET":
        return render_template("console/sign_in.html", expired=bool(request.args.get("expired")), error="", login="")
    login = request.form.get("login", "").strip()
    result = staff.verify_password(sess.machi().db, login, request.form.get("password", ""))
    if not result.ok:
        _audit(f"console:{login[:40]}" if result.staff_id else "console:?", "console.sign_in", result.reason)
        error = LOCKED.format(until=fmt_jst(result.locked_until)) if result.reason == "locked" else WRONG
        return render_template("console/sign_in.html", expired=False, error=error, login=login), 401
    account = staff.current(sess.machi().db, result.staff_id)
    assert account is not None
    if account.needs_totp:
        sess.begin(account.id, account.session_gen, "password")
        return redirect(url_for("console.totp_setup" if account.totp_confirmed_at is None else "console.totp"))
    sess.begin(account.id, account.session_gen, "ok")
    _audit(sess.actor(account), "console.sign_in", "ok")
    return redirect(url_for("console.dashboard"))


def _second_factor_due():
    account = sess.pending()
    if account is None:
        return None, redirect(url_for("console.sign_in"))
    if g.console_stage == "ok":
        return None, redirect(url_for("console.dashboard"))
    return account, None


@bp.route("/totp", methods=["GET", "POST"])
def totp():
    account, elsewhere = _second_factor_due()
    if account is None:
        return elsewhere
    if account.totp_confirmed_at is None:
        return redirect(url_for("console.totp_setup"))
    if request.method == "GET":
        return render_template("console/totp.html", error="")
    return _check_code(account, "console/totp.html", {})


def _check_code(account: staff.StaffAccount, template: str, context: dict):
    result = staff.verify_totp(sess.machi().db, account.id, request.form.get("code", ""))
    if not result.ok:
        _audit(sess.actor(account), "console.totp", result.reason)
        if result.reason == "locked":
            sess.end()
            return render_template("console/sign_in.html", expired=False, login=account.login,
                                   error=LOCKED.format(until=fmt_jst(result.locked_until))), 401
        return render_template(template, error="確認コードが正しくありません。アプリに表示されている6桁を入れてください。",
                               **context), 401
    sess.promote()
    _audit(sess.actor(account), "console.sign_in", "ok (totp)")
    return redirect(url_for("console.dashboard"))


@bp.route("/totp/setup", methods=["GET", "POST"])
def totp_setup():
    account, elsewhere = _second_factor_due()
    if account is None:
        return elsewhere
    if account.totp_confirmed_at is not None:
        return redirect(url_for("console.totp"))
    secret = staff.start_totp(sess.machi().db, account.id)
    context = {"secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))}
    if request.method == "GET":
        return render_template("console/totp_setup.html", error="", **context)
    return _check_code(account, "console/totp_setup.html", context)


@bp.get("/totp/qr.svg")
def totp_qr():
    """The authenticator app's QR code, only to the session setting it up."""
    account, _ = _second_factor_due()
    if account is None or account.totp_confirmed_at is not None:
        return error_page(403, "この画面・操作の権限がありません。")
    uri = staff.provisioning_uri(staff.start_totp(sess.machi().db, account.id), account.login)
    out = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.route("/setup/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """The one-time link from `machi staff add`: choose a password."""
    db = sess.machi().db
    with db.write() as s:
        account = staff.account_for_link(s, token)
        if account is None:
            return error_page(404, "このリンクは使えません（使用済みか期限切れです）。管理者に新しいリンクを発行してもらってください。")
        login = account.login
        if request.method == "GET":
            return render_template("console/set_password.html", login=login, errors={})
        try:
            staff.set_password(s, account, request.form.get("password", ""), request.form.get("confirm", ""))
        except InvalidInput as exc:
            return render_template("console/set_password.html", login=login,
                                   errors={exc.details.get("field", "password"): exc.message}), 400
    _audit(f"console:{login}", "console.set_password", "ok")
    sess.end()
    return redirect(url_for("console.sign_in"))


@bp.post("/sign-out")
def sign_out():
    account = sess.pending()
    if account is not None:
        _audit(sess.actor(account), "console.sign_out", "ok")
    sess.end()
    return redirect(url_for("console.sign_in"))


@bp.post("/sign-out-everywhere")
@sess.requires(*sess.ALL_ROLES)
def sign_out_everywhere():
    account = g.staff
    staff.sign_out_everywhere(sess.machi().db, account.id)
    _audit(sess.actor(account), "console.sign_out_everywhere", "ok")
    sess.end()
    return redirect(url_for("console.sign_in"))
