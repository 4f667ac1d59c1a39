"""The chat UI at `/simulator` and the small JSON API it polls (dev mode only).

Thin routes over `simulator.service.Simulator`; errors are JSON `{"error": {"code", "message"}}`.
"""
from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, current_app, jsonify, render_template, request

from simulator import office
from simulator.personas import DEFAULT_LEFT, DEFAULT_RIGHT, KNOWN
from simulator.service import KEY, Simulator, SimulatorError

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates",
               static_folder="static", static_url_path="/static")
MAX_IMAGE = 2 * 1024 * 1024
MAX_QR_DATA = 500


def sim() -> Simulator:
    return current_app.extensions["machi"].extras[KEY]


@bp.errorhandler(SimulatorError)
def _refused(exc: SimulatorError) -> tuple[Response, int]:
    return jsonify(error={"code": "simulator", "message": str(exc)}), exc.status


@bp.before_request
def _ready() -> None:
    if request.endpoint != "simulator.static":
        sim().ensure_ready()


@bp.get("/")
def page() -> str:
    s = sim()
    return render_template("simulator.html", liff_id=s.config.liff_id,
                           left=request.args.get("left", DEFAULT_LEFT), right=request.args.get("right", DEFAULT_RIGHT))


@bp.get("/api/status")
def status() -> Response:
    return jsonify(sim().status(request.host_url))


@bp.get("/api/personas")
def personas() -> Response:
    s = sim()
    found = s.refresh_personas()
    return jsonify(personas=[p.as_json() for p in found], left=DEFAULT_LEFT, right=DEFAULT_RIGHT,
                   following={p.id: s.store.is_following(p.id) for p in found if p.id.startswith("U")})


@bp.post("/api/events")
def events() -> Response:
    """One thing a persona did: text, postback (data, params, display_text, switch_alias), follow,
    unfollow, image (base64 content), location, sticker."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise SimulatorError("JSON の本文が必要です。")
    kind = str(body.get("type", ""))
    if kind == "image":
        body = {**body, "content": _image(body.get("content")), "content_type": str(body.get("content_type", "image/jpeg"))}
    return jsonify(sim().send(str(body.get("user", "")), kind, body))


def _image(content: Any) -> bytes:
    try:
        data = base64.b64decode(str(content or ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SimulatorError("画像は base64 で送ってください。") from exc
    if not data or len(data) > MAX_IMAGE:
        raise SimulatorError("画像が空か、大きすぎます（2MBまで）。")
    return data


@bp.get("/api/messages")
def messages() -> Response:
    return jsonify(sim().chat(request.args.get("user", ""), _int(request.args.get("after"))))


@bp.get("/api/richmenu")
def rich_menu() -> Response:
    return jsonify(richMenu=sim().rich_menu(request.args.get("user", "")))


@bp.get("/api/richmenu/<menu_id>/image")
def rich_menu_image(menu_id: str) -> Response:
    found = sim().store.images.get(menu_id)
    if found is None:
        raise SimulatorError("このリッチメニューの画像はありません。", 404)
    return Response(found[0], mimetype=found[1], headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/api/content/<message_id>")
def content(message_id: str) -> Response:
    """What a persona sent (an image), to show in their own bubble."""
    found = sim().store.contents.get(message_id)
    if found is None:
        raise SimulatorError("見つかりません。", 404)
    return Response(found[0], mimetype=found[1])


@bp.get("/api/id-token")
def id_token() -> Response:
    """A LIFF ID token for a persona (dev only): what LINE hands a LIFF app it opens."""
    return jsonify(sim().id_token(request.args.get("user", "")))


@bp.get("/api/scan-choices")
def scan_choices() -> Response:
    return jsonify(sim().scan_choices())


@bp.get("/api/violations")
def violations() -> Response:
    return jsonify(sim().violations(_int(request.args.get("after"))))


@bp.get("/api/requests")
def requests_log() -> Response:
    return jsonify(sim().requests(_int(request.args.get("after"))))


@bp.get("/api/office")
def office_overview() -> Response:
    """The staff persona's counter: residents on LINE and the push-type grants."""
    return jsonify(office.overview(sim().machi.db, [p.user_id for p in KNOWN]))


@bp.post("/api/office")
def office_act() -> Response:
    """One counter job: {"action": verify|birth|grant, "resident_id": n, "program": code}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise SimulatorError("JSON の本文が必要です。")
    try:
        done = office.act(sim().machi, str(body.get("action", "")), body.get("resident_id"),
                          str(body.get("program", "")))
    except office.OfficeError as exc:
        raise SimulatorError(str(exc)) from exc
    return jsonify(message=done.message, resident=done.resident)


@bp.get("/api/qr.svg")
def qr_svg() -> Response:
    """A QR code for what a card or poster carries (the card-only elder's card)."""
    data = request.args.get("data", "")
    if not data or len(data) > MAX_QR_DATA:
        raise SimulatorError("QR にする文字列（500文字まで）が必要です。")
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    image.save(buf)
    return Response(buf.getvalue(), mimetype="image/svg+xml")


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0
